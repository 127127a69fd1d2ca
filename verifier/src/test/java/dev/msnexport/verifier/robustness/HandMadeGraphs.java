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
import java.util.List;

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
    NodeProto.Builder node =
        node("msn", "PKMRetrieval", "retrieval", List.of("row_scores", "col_scores"))
            .addAllOutput(topKOutputs("weights"))
            .addAttribute(intAttr("k", k));
    GraphProto.Builder g =
        graph("pkm_k" + k, node)
            .addInput(value("row_scores", FLOAT, "N", s))
            .addInput(value("col_scores", FLOAT, "N", s));
    addTopKOutputs(g, "weights", k);
    return write(dir.resolve("pkm-s" + s + "-k" + k + ".onnx"), g.build(), true);
  }

  /** The reference graph's first retrieval stage: {@code TopK(scores [N, s], k)}. */
  static Path topK(Path dir, int s, long k) throws IOException {
    NodeProto.Builder node =
        node("", "TopK", "topk", List.of("scores", "k"))
            .addAllOutput(topKOutputs("values"))
            .addAttribute(intAttr("axis", -1));
    GraphProto.Builder g =
        graph("topk_k" + k, node)
            .addInitializer(
                TensorProto.newBuilder().setName("k").setDataType(INT64).addDims(1).addInt64Data(k))
            .addInput(value("scores", FLOAT, "N", s));
    addTopKOutputs(g, "values", k);
    return write(dir.resolve("topk-s" + s + "-k" + k + ".onnx"), g.build(), false);
  }

  /**
   * {@code msn::SparseGather(values [m, d] (constant), indices [N, K], weights [N, K]) -> out [N,
   * d]}.
   */
  static Path sparseGather(Path dir, int m, int d) throws IOException {
    GraphProto g =
        graph("sparse_gather", sparseGatherNode())
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
            .addInitializer(rawTensor("values", valueType, codes, m, d))
            .addInput(value("indices", INT64, "N", "K"))
            .addInput(value("weights", FLOAT, "N", "K"))
            .addOutput(value("out", FLOAT, "N", d));
    if (scales != null) {
      ByteBuffer b = ByteBuffer.allocate(scales.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float f : scales) {
        b.putFloat(f);
      }
      g.addInitializer(rawTensor("scales", FLOAT, b.array(), scales.length));
      node.addInput("scales");
    }
    return write(dir.resolve(name + ".onnx"), g.addNode(node).build(), true);
  }

  /** {@code msn::SparseGather(values, indices, weights) -> out}, node name {@code gather}. */
  private static NodeProto.Builder sparseGatherNode() {
    return node("msn", "SparseGather", "gather", List.of("values", "indices", "weights"))
        .addOutput("out");
  }

  /** A node of the standard domain ("") or another one, with its inputs. */
  private static NodeProto.Builder node(
      String domain, String opType, String name, List<String> inputs) {
    NodeProto.Builder b = NodeProto.newBuilder().setOpType(opType).setName(name);
    if (!domain.isEmpty()) {
      b.setDomain(domain);
    }
    return b.addAllInput(inputs);
  }

  private static AttributeProto intAttr(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  /** A top-k stage's outputs: the chosen values (or weights), then their indices. */
  private static List<String> topKOutputs(String values) {
    return List.of(values, "indices");
  }

  /** The graph outputs of a top-k stage: {@code values} [N, k] float32, indices [N, k] int64. */
  private static void addTopKOutputs(GraphProto.Builder g, String values, long k) {
    g.addOutput(value(values, FLOAT, "N", k)).addOutput(value("indices", INT64, "N", k));
  }

  /** A graph of one node. */
  private static GraphProto.Builder graph(String name, NodeProto.Builder node) {
    return GraphProto.newBuilder().setName(name).addNode(node);
  }

  /**
   * The reference graph's gather: {@code Gather(values [m, d] (constant), indices [N, K], axis 0)
   * -> [N, K, d]}.
   */
  static Path gather(Path dir, int m, int d) throws IOException {
    NodeProto.Builder node =
        node("", "Gather", "gather", List.of("values", "indices"))
            .addOutput("out")
            .addAttribute(intAttr("axis", 0));
    GraphProto g =
        graph("gather", node)
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
    return rawTensor(name, FLOAT, b.array(), m, d);
  }

  /** A constant tensor of ONNX type {@code type} from its little-endian bytes. */
  private static TensorProto rawTensor(String name, int type, byte[] raw, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type);
    for (long d : dims) {
      t.addDims(d);
    }
    return t.setRawData(ByteString.copyFrom(raw)).build();
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
