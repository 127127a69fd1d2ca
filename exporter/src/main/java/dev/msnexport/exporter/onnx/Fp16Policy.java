package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.NodeProto;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.ops.OpSpec;
import dev.msnexport.ops.OpTable;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The fp16 precision policy, in one place: which parts of an exported graph may run in half
 * precision and which stay float32 when an engine is built in fp16. Runtimes take its decisions
 * generically (trt-runtime never knows a node name): the strongly typed variant of the custom graph
 * ({@link #stronglyTypedVariant}) and the float32 scope of weakly typed builds ({@link
 * #inFloat32Scope}).
 *
 * <p>Half precision: the per-token FFN's products, bias adds and GELU ({@code blocks.{l}.ffn/}, but
 * not the residual Add and LayerNorm that end the block) and the task heads ({@code
 * heads.{task}/}); SparseGather, and the fused MsnLayer, read an fp16 copy of the value table.
 * Float32: the residual stream, token mixing, every LayerNorm, the MSN scoring path (query
 * projection, key products, PKMRetrieval, the softmax weights) and the gate: the retrieved slots
 * hinge on score gaps that half precision rounds away (scores of 10 to 100 with fp16's 1e-3
 * relative error swap neighbours).
 */
public final class Fp16Policy {
  private Fp16Policy() {}

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
   * float32: the value table of SparseGather and of the fused MsnLayer (whose scoring path stays
   * float32 inside the op).
   */
  public static boolean isHalfInputOnly(NodeProto n, int input) {
    if (!n.getDomain().equals(MsnOnnxExporter.DOMAIN)) {
      return false;
    }
    for (String id : TABLE_READERS) {
      OpSpec op = OpTable.standard().op(id);
      if (n.getOpType().equals(op.name())) {
        return input == op.inputIndex("values");
      }
    }
    return false;
  }

  /** The ops whose {@code values} input the fp16 variant gives an fp16 copy of the table. */
  private static final List<String> TABLE_READERS =
      List.of(OpTable.SPARSE_GATHER, OpTable.MSN_LAYER);

  /**
   * Whether a layer (a TensorRT network layer named after its ONNX node, or a fused engine layer
   * whose name lists its nodes) belongs to the MSN scoring path kept in float32: the node scope
   * {@code blocks.{l}.msn/} but SparseGather and MsnLayer (which read fp16 tables; MsnLayer's
   * scoring inside the op is float32 whatever its table). With the residual stream (LayerNorms and
   * the residual Adds feeding them, found by layer type), what weakly typed fp16 builds pin to
   * float32; {@code inspect PLAN} names the layers of this scope that touch half precision.
   */
  public static boolean inFloat32Scope(String layerName) {
    return layerName != null
        && layerName.contains(".msn/")
        && TABLE_READERS.stream()
            .noneMatch(id -> layerName.contains(OpTable.standard().op(id).name()));
  }

  /**
   * The graph a strongly typed fp16 engine of {@code onnx} compiles: for the custom graph ({@code
   * pluginGraph}), the variant of {@link
   * MixedPrecision#fp16Variant(ai.onnx.proto.OnnxMl.ModelProto, Set, Path)} (explicit casts, fp16
   * weights) written beside {@code onnx} into {@code scratch} (deleted when it closes uncommitted);
   * for the reference graph null: it is built weakly typed with {@link #inFloat32Scope} pinned (its
   * TopK/Gather regions fuse better that way).
   *
   * @param keepFloat tensors also kept under their names in float32 (to mark them as outputs)
   */
  public static Path stronglyTypedVariant(
      Path onnx, boolean pluginGraph, Set<String> keepFloat, AtomicFiles.Batch scratch) {
    if (!pluginGraph) {
      return null;
    }
    Path dir = onnx.toAbsolutePath().getParent();
    return OnnxTensors.writeBeside(
        MixedPrecision.fp16Variant(OnnxTensors.read(onnx), keepFloat, dir), onnx, scratch);
  }
}
