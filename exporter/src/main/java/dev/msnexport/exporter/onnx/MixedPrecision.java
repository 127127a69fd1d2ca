package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fp16 variant of an exported graph for a strongly typed TensorRT build: explicit casts put the
 * nodes {@link Fp16Policy} chooses in half precision and keep everything else in float32, so the
 * engine's precision is what the graph says, layer by layer (TensorRT's weakly typed fp16 mode only
 * <i>prefers</i> per-layer precisions, and its Myelin-compiled regions ignore them: seen on the
 * H100/H200, where the scoring path of MSN layer 1 then ran in fp16).
 *
 * <p>How: every float input of a half node that does not come from another half node is read as an
 * fp16 copy {@code NAME.fp16} (one per tensor): a weight's copy is an fp16 initializer ({@link
 * Fp16Weights}; the float32 one goes when nothing else reads it), an activation's a {@code
 * Cast(to=FLOAT16)}. A half node's outputs are renamed {@code NAME.fp16}, and each one used outside
 * the half nodes, or a graph output, gets a {@code Cast(to=FLOAT)} under its old name, so every
 * tensor name outside the half region, graph outputs included, is unchanged. Node order stays
 * topological.
 */
public final class MixedPrecision {
  private MixedPrecision() {}

  /** The fp16 variant of {@code model} (see the class comment); external weights keep casts. */
  public static ModelProto fp16Variant(ModelProto model) {
    return fp16Variant(model, Set.of(), null);
  }

  /**
   * As {@link #fp16Variant(ModelProto)}, with the named tensors also kept under their names in
   * float32 (to mark them as outputs); weights in external data are read from {@code modelDir}
   * (null: they keep their casts).
   */
  public static ModelProto fp16Variant(ModelProto model, Set<String> keepFloat, Path modelDir) {
    GraphProto g = model.getGraph();
    Set<NodeProto> half = halfNodes(g);
    Rewrite rw = new Rewrite(g, half, readAsFloat(g, half, keepFloat), new Fp16Weights(modelDir));
    for (NodeProto n : g.getNodeList()) {
      rw.add(n);
    }
    List<TensorProto> inits = new ArrayList<>();
    for (TensorProto t : g.getInitializerList()) {
      if (!rw.halfWeights.containsKey(t.getName()) || rw.readAsFloat.contains(t.getName())) {
        inits.add(t);
      }
    }
    inits.addAll(rw.halfWeights.values());
    return model.toBuilder()
        .setGraph(
            g.toBuilder()
                .clearNode()
                .addAllNode(rw.nodes)
                .clearInitializer()
                .addAllInitializer(inits))
        .build();
  }

  /** The nodes that compute in half precision ({@link Fp16Policy#isHalfNode}). */
  private static Set<NodeProto> halfNodes(GraphProto g) {
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
      if (Fp16Policy.isHalfNode(n, residual)) {
        half.add(n);
      }
    }
    return half;
  }

  /** Tensors a float32 node or the graph output reads (a half output among them is cast back). */
  private static Set<String> readAsFloat(GraphProto g, Set<NodeProto> half, Set<String> keep) {
    Set<String> readAsFloat = new HashSet<>(keep);
    g.getOutputList().forEach(v -> readAsFloat.add(v.getName()));
    for (NodeProto n : g.getNodeList()) {
      if (!half.contains(n)) {
        for (int i = 0; i < n.getInputCount(); i++) {
          if (!Fp16Policy.isHalfInputOnly(n, i)) {
            readAsFloat.add(n.getInput(i));
          }
        }
      }
    }
    return readAsFloat;
  }

  /** The node list of the variant, built node by node in the original order. */
  private static final class Rewrite {
    final Set<NodeProto> half;
    final Set<String> readAsFloat;
    final Fp16Weights weights;
    final Map<String, Integer> types = new HashMap<>();
    final Map<String, TensorProto> initializers = new HashMap<>();
    final Set<String> halfOutputs = new HashSet<>();
    final Map<String, String> toHalf = new HashMap<>(); // float tensor -> its fp16 copy
    final Map<String, TensorProto> halfWeights = new LinkedHashMap<>(); // float weight -> fp16 one
    final List<NodeProto> nodes = new ArrayList<>();
    int count;

    Rewrite(GraphProto g, Set<NodeProto> half, Set<String> readAsFloat, Fp16Weights weights) {
      this.half = half;
      this.readAsFloat = readAsFloat;
      this.weights = weights;
      for (TensorProto t : g.getInitializerList()) {
        types.put(t.getName(), t.getDataType());
        initializers.put(t.getName(), t);
      }
      for (ValueInfoProto v : g.getInputList()) {
        if (v.hasType() && v.getType().hasTensorType()) {
          types.put(v.getName(), v.getType().getTensorType().getElemType());
        }
      }
      OnnxTensors.list(ModelProto.newBuilder().setGraph(g).build())
          .forEach(t -> types.put(t.name(), t.elemType()));
      for (NodeProto n : half) {
        n.getOutputList().stream().filter(this::isFloat).forEach(halfOutputs::add);
      }
    }

    void add(NodeProto n) {
      boolean isHalf = half.contains(n);
      NodeProto.Builder b = n.toBuilder();
      for (int i = 0; i < n.getInputCount(); i++) {
        String in = n.getInput(i);
        if (in.isEmpty() || !(isHalf || Fp16Policy.isHalfInputOnly(n, i))) {
          continue;
        }
        if (halfOutputs.contains(in)) {
          b.setInput(i, in + ".fp16");
        } else if (isFloat(in)) {
          b.setInput(i, toHalf.computeIfAbsent(in, t -> halfCopy(n, t)));
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
            nodes.add(cast(n.getName() + "/CastToFp32_" + (++count), o + ".fp16", o, FLOAT));
          }
        }
      }
    }

    /** The fp16 copy of float tensor {@code t} that node {@code n} reads first. */
    private String halfCopy(NodeProto n, String t) {
      String copy = t + ".fp16";
      TensorProto w = initializers.get(t);
      TensorProto h = w == null ? null : weights.toHalf(w, copy);
      if (h != null) {
        halfWeights.put(t, h);
      } else {
        nodes.add(cast(n.getName() + "/CastToFp16_" + (++count), t, copy, FLOAT16));
      }
      return copy;
    }

    private boolean isFloat(String tensor) {
      return types.getOrDefault(tensor, 0) == FLOAT;
    }
  }

  private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
  private static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;

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
