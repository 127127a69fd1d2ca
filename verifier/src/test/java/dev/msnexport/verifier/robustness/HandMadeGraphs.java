package dev.msnexport.verifier.robustness;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Single-op ONNX graphs for the bad-input matrix: the custom ops with attributes or inputs that an
 * exported model never produces (k > S, indices outside the table), and their standard-op twins.
 */
final class HandMadeGraphs {
  private HandMadeGraphs() {}

  static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
  static final int INT64 = TensorProto.DataType.INT64_VALUE;

  /**
   * {@code msn::PKMRetrieval(row_scores [N, s], col_scores [N, s]) -> (weights, indices)} with
   * attribute k.
   */
  static Path pkmRetrieval(Path dir, int s, long k) throws IOException {
    NodeProto node =
        NodeProto.newBuilder()
            .setOpType("PKMRetrieval")
            .setDomain("msn")
            .setName("retrieval")
            .addInput("row_scores")
            .addInput("col_scores")
            .addOutput("weights")
            .addOutput("indices")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("k")
                    .setType(AttributeProto.AttributeType.INT)
                    .setI(k))
            .build();
    GraphProto g =
        GraphProto.newBuilder()
            .setName("pkm_k" + k)
            .addNode(node)
            .addInput(value("row_scores", FLOAT, "N", s))
            .addInput(value("col_scores", FLOAT, "N", s))
            .addOutput(value("weights", FLOAT, "N", k))
            .addOutput(value("indices", INT64, "N", k))
            .build();
    return write(dir.resolve("pkm-s" + s + "-k" + k + ".onnx"), g, true);
  }

  /** The reference graph's first retrieval stage: {@code TopK(scores [N, s], k)}. */
  static Path topK(Path dir, int s, long k) throws IOException {
    NodeProto node =
        NodeProto.newBuilder()
            .setOpType("TopK")
            .setName("topk")
            .addInput("scores")
            .addInput("k")
            .addOutput("values")
            .addOutput("indices")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("axis")
                    .setType(AttributeProto.AttributeType.INT)
                    .setI(-1))
            .build();
    GraphProto g =
        GraphProto.newBuilder()
            .setName("topk_k" + k)
            .addNode(node)
            .addInitializer(
                TensorProto.newBuilder().setName("k").setDataType(INT64).addDims(1).addInt64Data(k))
            .addInput(value("scores", FLOAT, "N", s))
            .addOutput(value("values", FLOAT, "N", k))
            .addOutput(value("indices", INT64, "N", k))
            .build();
    return write(dir.resolve("topk-s" + s + "-k" + k + ".onnx"), g, false);
  }

  /**
   * {@code msn::SparseGather(values [m, d] (constant), indices [N, K], weights [N, K]) -> out [N,
   * d]}.
   */
  static Path sparseGather(Path dir, int m, int d) throws IOException {
    NodeProto node = sparseGatherNode().build();
    GraphProto g =
        GraphProto.newBuilder()
            .setName("sparse_gather")
            .addNode(node)
            .addInitializer(table("values", m, d))
            .addInput(value("indices", INT64, "N", "K"))
            .addInput(value("weights", FLOAT, "N", "K"))
            .addOutput(value("out", FLOAT, "N", d))
            .build();
    return write(dir.resolve("sparse-gather-m" + m + ".onnx"), g, true);
  }

  /**
   * {@code msn::SparseGather(values [m, d] (constant codes of ONNX type valueType), indices,
   * weights, scales [scales.length] (constant float32; null: no 4th input))}, the table as given (a
   * quantized table may be tampered with here, as no export would write it).
   */
  static Path quantizedSparseGather(
      Path dir, String name, int valueType, int m, int d, byte[] codes, float[] scales)
      throws IOException {
    NodeProto.Builder node = sparseGatherNode();
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .setName("quantized_sparse_gather")
            .addInitializer(
                TensorProto.newBuilder()
                    .setName("values")
                    .setDataType(valueType)
                    .addDims(m)
                    .addDims(d)
                    .setRawData(ByteString.copyFrom(codes)))
            .addInput(value("indices", INT64, "N", "K"))
            .addInput(value("weights", FLOAT, "N", "K"))
            .addOutput(value("out", FLOAT, "N", d));
    if (scales != null) {
      ByteBuffer b = ByteBuffer.allocate(scales.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float f : scales) {
        b.putFloat(f);
      }
      g.addInitializer(
          TensorProto.newBuilder()
              .setName("scales")
              .setDataType(FLOAT)
              .addDims(scales.length)
              .setRawData(ByteString.copyFrom(b.array())));
      node.addInput("scales");
    }
    return write(dir.resolve(name + ".onnx"), g.addNode(node).build(), true);
  }

  /** {@code msn::SparseGather(values, indices, weights) -> out}, node name {@code gather}. */
  private static NodeProto.Builder sparseGatherNode() {
    return NodeProto.newBuilder()
        .setOpType("SparseGather")
        .setDomain("msn")
        .setName("gather")
        .addInput("values")
        .addInput("indices")
        .addInput("weights")
        .addOutput("out");
  }

  /**
   * The reference graph's gather: {@code Gather(values [m, d] (constant), indices [N, K], axis 0)
   * -> [N, K, d]}.
   */
  static Path gather(Path dir, int m, int d) throws IOException {
    NodeProto node =
        NodeProto.newBuilder()
            .setOpType("Gather")
            .setName("gather")
            .addInput("values")
            .addInput("indices")
            .addOutput("out")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("axis")
                    .setType(AttributeProto.AttributeType.INT)
                    .setI(0))
            .build();
    GraphProto g =
        GraphProto.newBuilder()
            .setName("gather")
            .addNode(node)
            .addInitializer(table("values", m, d))
            .addInput(value("indices", INT64, "N", "K"))
            .addOutput(value("out", FLOAT, "N", "K", d))
            .build();
    return write(dir.resolve("gather-m" + m + ".onnx"), g, false);
  }

  /** Row r of the table holds r in every column, so a gathered value says which row was read. */
  private static TensorProto table(String name, int m, int d) {
    ByteBuffer b = ByteBuffer.allocate(m * d * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < m; r++) {
      for (int c = 0; c < d; c++) {
        b.putFloat(r);
      }
    }
    return TensorProto.newBuilder()
        .setName(name)
        .setDataType(FLOAT)
        .addDims(m)
        .addDims(d)
        .setRawData(ByteString.copyFrom(b.array()))
        .build();
  }

  private static ValueInfoProto value(String name, int elemType, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      if (d instanceof String p) {
        shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(p));
      } else {
        shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
      }
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)))
        .build();
  }

  private static Path write(Path file, GraphProto g, boolean custom) throws IOException {
    ModelProto.Builder m =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("msn-export tests")
            .setGraph(g)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17));
    if (custom) {
      m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("msn").setVersion(1));
    }
    Files.write(file, m.build().toByteArray());
    return file;
  }
}
