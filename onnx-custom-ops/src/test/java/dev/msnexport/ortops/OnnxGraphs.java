package dev.msnexport.ortops;

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
import dev.msnexport.ops.OpTable;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Tiny ONNX graphs (ir_version 8, opsets "" 17 and "msn" 1) around the custom ops. */
final class OnnxGraphs {
  static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
  static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;
  static final int BFLOAT16 = TensorProto.DataType.BFLOAT16_VALUE;
  static final int DOUBLE = TensorProto.DataType.DOUBLE_VALUE;
  static final int INT32 = TensorProto.DataType.INT32_VALUE;
  static final int INT64 = TensorProto.DataType.INT64_VALUE;
  static final int INT8 = TensorProto.DataType.INT8_VALUE;
  static final int FLOAT8E4M3FN = TensorProto.DataType.FLOAT8E4M3FN_VALUE;

  private OnnxGraphs() {}

  /** A graph under construction. Dimensions are Long (fixed) or String (symbolic). */
  static final class Graph {
    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("msn_ops_test");

    Graph input(String name, int elemType, Object... dims) {
      graph.addInput(valueInfo(name, elemType, dims));
      return this;
    }

    Graph initializer(TensorProto t) {
      graph.addInitializer(t);
      return this;
    }

    Graph output(String name, int elemType, Object... dims) {
      graph.addOutput(valueInfo(name, elemType, dims));
      return this;
    }

    Graph node(
        String opType,
        String name,
        List<String> inputs,
        List<String> outputs,
        AttributeProto... attrs) {
      NodeProto.Builder n =
          NodeProto.newBuilder()
              .setOpType(opType)
              .setDomain(MsnOrtOps.DOMAIN)
              .setName(name)
              .addAllInput(inputs)
              .addAllOutput(outputs);
      for (AttributeProto a : attrs) {
        n.addAttribute(a);
      }
      graph.addNode(n);
      return this;
    }

    byte[] toBytes() {
      return ModelProto.newBuilder()
          .setIrVersion(8)
          .setProducerName("onnx-custom-ops tests")
          .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
          .addOpsetImport(
              OperatorSetIdProto.newBuilder()
                  .setDomain(MsnOrtOps.DOMAIN)
                  .setVersion(OpTable.standard().opsetVersion()))
          .setGraph(graph)
          .build()
          .toByteArray();
    }
  }

  static AttributeProto intAttr(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  static AttributeProto stringAttr(String name, String value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFrom(value, StandardCharsets.UTF_8))
        .build();
  }

  /** The attributes the exporter adds for TensorRT; the ORT kernels must ignore them. */
  static AttributeProto[] withPluginAttrs(AttributeProto... attrs) {
    AttributeProto[] all = new AttributeProto[attrs.length + 2];
    System.arraycopy(attrs, 0, all, 0, attrs.length);
    all[attrs.length] = stringAttr("plugin_version", "1");
    all[attrs.length + 1] = stringAttr("plugin_namespace", "");
    return all;
  }

  /** PKMRetrieval(r, c) -> (w, i), inputs [N, S] symbolic, node name {@code node}. */
  static byte[] pkm(String node, int scoreType, AttributeProto... attrs) {
    return pkm(node, scoreType, scoreType, attrs);
  }

  static byte[] pkm(String node, int rowType, int colType, AttributeProto... attrs) {
    return new Graph()
        .input("r", rowType, "N", "S")
        .input("c", colType, "N", "S")
        .node(MsnOrtOps.PKM_RETRIEVAL, node, List.of("r", "c"), List.of("w", "i"), attrs)
        .output("w", rowType)
        .output("i", INT64)
        .toBytes();
  }

  /** PKMRetrieval with inputs of unknown rank (for rank errors). */
  static byte[] pkmAnyRank(String node, long k) {
    return new Graph()
        .input("r", FLOAT)
        .input("c", FLOAT)
        .node(
            MsnOrtOps.PKM_RETRIEVAL,
            node,
            List.of("r", "c"),
            List.of("w", "i"),
            withPluginAttrs(intAttr("k", k)))
        .output("w", FLOAT)
        .output("i", INT64)
        .toBytes();
  }

  /** SparseGather(v, i, w) -> o, inputs of unknown shape, node name {@code node}. */
  static byte[] sparseGather(String node, int valueType, int indexType, int weightType) {
    return new Graph()
        .input("v", valueType)
        .input("i", indexType)
        .input("w", weightType)
        .node(
            MsnOrtOps.SPARSE_GATHER, node, List.of("v", "i", "w"), List.of("o"), withPluginAttrs())
        .output("o", FLOAT)
        .toBytes();
  }

  /** The MSN retrieval chain: PKMRetrieval then SparseGather on a table input. */
  static byte[] retrievalChain(long k, int valueType) {
    return new Graph()
        .input("r", FLOAT, "N", "S")
        .input("c", FLOAT, "N", "S")
        .input("v", valueType, "M", "D")
        .node(
            MsnOrtOps.PKM_RETRIEVAL,
            "pkm",
            List.of("r", "c"),
            List.of("w", "i"),
            withPluginAttrs(intAttr("k", k)))
        .node(
            MsnOrtOps.SPARSE_GATHER,
            "gather",
            List.of("v", "i", "w"),
            List.of("o"),
            withPluginAttrs())
        .output("o", FLOAT)
        .output("i", INT64)
        .toBytes();
  }

  private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
    TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(elemType);
    if (dims.length > 0) {
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      for (Object d : dims) {
        TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
        if (d instanceof String) {
          dim.setDimParam((String) d);
        } else {
          dim.setDimValue((Long) d);
        }
        shape.addDim(dim);
      }
      t.setShape(shape);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(TypeProto.newBuilder().setTensorType(t))
        .build();
  }
}
