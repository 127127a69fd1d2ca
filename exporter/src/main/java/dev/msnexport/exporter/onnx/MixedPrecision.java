package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.msnexport.ops.OpTable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fp16 variant of an exported graph for a strongly typed TensorRT build: explicit casts put
 * chosen nodes in half precision and keep everything else in float32, so the engine's precision is
 * what the graph says, layer by layer (TensorRT's weakly typed fp16 mode only <i>prefers</i>
 * per-layer precisions, and its Myelin-compiled regions ignore them: seen on the H100/H200, where
 * the scoring path of MSN layer 1 then ran in fp16).
 *
 * <p>Half precision ({@link #isHalfNode}): the per-token FFN's products, bias adds and GELU ({@code
 * blocks.{l}.ffn/}, but not the residual Add and LayerNorm that end the block) and the task heads
 * ({@code heads.{task}/}); SparseGather reads an fp16 copy of its value table (half the bytes; it
 * accumulates in float32 and its output keeps the float32 type of its weights). Float32: the
 * residual stream, token mixing, every LayerNorm, the MSN scoring path (query projection, key
 * products, PKMRetrieval, the softmax weights) and the gate: the retrieved slots hinge on score
 * gaps that half precision rounds away.
 *
 * <p>How: every float input of a half node that does not come from another half node gets a {@code
 * Cast(to=FLOAT16)} (one per tensor; casts of initializers are folded at build time), a half node's
 * outputs are renamed {@code NAME.fp16}, and each one used outside the half nodes, or a graph
 * output, gets a {@code Cast(to=FLOAT)} under its old name, so every tensor name outside the half
 * region, graph outputs included, is unchanged. Node order stays topological.
 */
public final class MixedPrecision {
  private MixedPrecision() {}

  /** Whether a node of an exported graph computes in half precision in the fp16 variant. */
  public static boolean isHalfNode(NodeProto n, Set<String> residualOutputs) {
    String name = n.getName();
    if (name.startsWith("heads.")) {
      return true;
    }
    if (name.startsWith("blocks.") && name.contains(".ffn/")) {
      return !n.getOpType().equals("LayerNormalization")
          && !(n.getOutputCount() == 1 && residualOutputs.contains(n.getOutput(0)));
    }
    return false;
  }

  /**
   * Whether {@code input} of node {@code n} is read as an fp16 copy while the node itself stays
   * float32 (SparseGather's value table).
   */
  static boolean isHalfInputOnly(NodeProto n, int input) {
    return n.getDomain().equals(MsnOnnxExporter.DOMAIN)
        && n.getOpType().equals(OpTable.standard().op(OpTable.SPARSE_GATHER).name())
        && input == 0;
  }

  /**
   * The fp16 variant of {@code model} (see the class comment); initializers are untouched (external
   * data stays external).
   */
  public static ModelProto fp16Variant(ModelProto model) {
    return fp16Variant(model, Set.of());
  }

  /**
   * As {@link #fp16Variant(ModelProto)}, with the named tensors also kept under their names in
   * float32 (to mark them as outputs).
   */
  public static ModelProto fp16Variant(ModelProto model, Set<String> keepFloat) {
    GraphProto g = model.getGraph();
    Map<String, Integer> types = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) {
      types.put(t.getName(), t.getDataType());
    }
    for (ValueInfoProto v : g.getInputList()) {
      if (v.hasType() && v.getType().hasTensorType()) {
        types.put(v.getName(), v.getType().getTensorType().getElemType());
      }
    }
    for (OnnxTensors.Tensor t : OnnxTensors.list(model)) {
      types.put(t.name(), t.elemType());
    }
    // the residual Adds: their output feeds a LayerNormalization
    Map<String, NodeProto> producer = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      n.getOutputList().forEach(o -> producer.put(o, n));
    }
    Set<String> residual = new HashSet<>();
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("LayerNormalization") && n.getInputCount() > 0) {
        NodeProto p = producer.get(n.getInput(0));
        if (p != null && p.getOpType().equals("Add")) {
          residual.add(n.getInput(0));
        }
      }
    }
    Set<NodeProto> half = new HashSet<>();
    for (NodeProto n : g.getNodeList()) {
      if (isHalfNode(n, residual)) {
        half.add(n);
      }
    }
    // tensors a float32 node or the graph output reads: a half node's such output needs a cast back
    Set<String> readAsFloat = new HashSet<>();
    g.getOutputList().forEach(v -> readAsFloat.add(v.getName()));
    readAsFloat.addAll(keepFloat);
    for (NodeProto n : g.getNodeList()) {
      if (!half.contains(n)) {
        for (int i = 0; i < n.getInputCount(); i++) {
          if (!isHalfInputOnly(n, i)) {
            readAsFloat.add(n.getInput(i));
          }
        }
      }
    }
    Set<String> halfOutputs = new HashSet<>();
    for (NodeProto n : half) {
      for (String o : n.getOutputList()) {
        if (isFloat(types, o)) {
          halfOutputs.add(o);
        }
      }
    }
    Map<String, String> toHalf = new HashMap<>(); // float tensor -> its fp16 copy
    List<NodeProto> nodes = new ArrayList<>();
    int[] count = {0};
    for (NodeProto n : g.getNodeList()) {
      boolean isHalf = half.contains(n);
      NodeProto.Builder b = n.toBuilder();
      for (int i = 0; i < n.getInputCount(); i++) {
        String in = n.getInput(i);
        if (in.isEmpty() || !(isHalf || isHalfInputOnly(n, i))) {
          continue;
        }
        if (halfOutputs.contains(in)) {
          b.setInput(i, in + ".fp16");
        } else if (isFloat(types, in)) {
          String copy =
              toHalf.computeIfAbsent(
                  in,
                  t -> {
                    String c = t + ".fp16";
                    nodes.add(
                        cast(
                            n.getName() + "/CastToFp16_" + (++count[0]),
                            t,
                            c,
                            TensorProto.DataType.FLOAT16_VALUE));
                    return c;
                  });
          b.setInput(i, copy);
        }
      }
      if (isHalf) {
        for (int o = 0; o < n.getOutputCount(); o++) {
          if (halfOutputs.contains(n.getOutput(o))) {
            b.setOutput(o, n.getOutput(o) + ".fp16");
          }
        }
      }
      nodes.add(b.build());
      if (isHalf) {
        for (String o : n.getOutputList()) {
          if (halfOutputs.contains(o) && readAsFloat.contains(o)) {
            nodes.add(
                cast(
                    n.getName() + "/CastToFp32_" + (++count[0]),
                    o + ".fp16",
                    o,
                    TensorProto.DataType.FLOAT_VALUE));
          }
        }
      }
    }
    return model.toBuilder().setGraph(g.toBuilder().clearNode().addAllNode(nodes)).build();
  }

  private static boolean isFloat(Map<String, Integer> types, String tensor) {
    return types.getOrDefault(tensor, 0) == TensorProto.DataType.FLOAT_VALUE;
  }

  private static NodeProto cast(String name, String in, String out, int to) {
    return NodeProto.newBuilder()
        .setName(name)
        .setOpType("Cast")
        .addInput(in)
        .addOutput(out)
        .addAttribute(
            AttributeProto.newBuilder()
                .setName("to")
                .setType(AttributeProto.AttributeType.INT)
                .setI(to))
        .build();
  }
}
