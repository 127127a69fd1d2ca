package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.msnexport.common.BadInputException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Emits ONNX nodes with unique, readable names ({@code blocks.0.msn/TopK_3}), small constants
 * embedded as initializers, and typed graph inputs and outputs. Large weights come from the shared
 * {@link TensorStore}.
 */
final class GraphBuilder {
  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private final Map<String, Integer> counters = new HashMap<>();
  private final Map<String, TensorProto> initializers = new LinkedHashMap<>();
  private String scope = "";

  GraphBuilder(String name) {
    graph.setName(name);
  }

  void scope(String s) {
    scope = s;
  }

  private String fresh(String op) {
    String base = (scope.isEmpty() ? "" : scope + "/") + op;
    int n = counters.merge(base, 1, Integer::sum);
    return base + "_" + n;
  }

  /** A node with one output; returns the output's name. */
  String op(String opType, List<String> inputs, AttributeProto... attrs) {
    return ops(opType, "", inputs, 1, attrs)[0];
  }

  /** A node with {@code nOut} outputs in {@code domain}. */
  String[] ops(
      String opType, String domain, List<String> inputs, int nOut, AttributeProto... attrs) {
    String name = fresh(opType);
    NodeProto.Builder n =
        NodeProto.newBuilder().setOpType(opType).setName(name).addAllInput(inputs);
    if (!domain.isEmpty()) {
      n.setDomain(domain);
    }
    String[] outs = new String[nOut];
    for (int i = 0; i < nOut; i++) {
      outs[i] = name + ":" + i;
      n.addOutput(outs[i]);
    }
    for (AttributeProto a : attrs) {
      n.addAttribute(a);
    }
    graph.addNode(n);
    return outs;
  }

  /** Renames the output of the last node that produced {@code tensor} (for graph output names). */
  void renameOutput(String tensor, String newName) {
    for (int i = graph.getNodeCount() - 1; i >= 0; i--) {
      NodeProto n = graph.getNode(i);
      for (int j = 0; j < n.getOutputCount(); j++) {
        if (n.getOutput(j).equals(tensor)) {
          graph.setNode(i, n.toBuilder().setOutput(j, newName));
          return;
        }
      }
    }
    throw new IllegalArgumentException("no node produces " + tensor);
  }

  void initializer(TensorProto t) {
    initializers.putIfAbsent(t.getName(), t);
  }

  String int64s(long... values) {
    return int64Tensor(new long[] {values.length}, values);
  }

  String int64Tensor(long[] dims, long[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values); // the view writes in b's (little-endian) order
    return constant(TensorProto.DataType.INT64_VALUE, dims, b.array());
  }

  String scalar(float v) {
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v);
    return constant(TensorProto.DataType.FLOAT_VALUE, new long[0], b.array());
  }

  String floatTensor(long[] dims, float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return constant(TensorProto.DataType.FLOAT_VALUE, dims, b.array());
  }

  String scalarInt64(long v) {
    return int64Tensor(new long[0], new long[] {v});
  }

  private String constant(int dtype, long[] dims, byte[] raw) {
    String name = fresh("const");
    TensorProto.Builder t =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(dtype)
            .setRawData(ByteString.copyFrom(raw));
    for (long d : dims) {
      t.addDims(d);
    }
    initializers.put(name, t.build());
    return name;
  }

  void input(String name, int elemType, Object... dims) {
    graph.addInput(valueInfo(name, elemType, dims));
  }

  void output(String name, int elemType, Object... dims) {
    graph.addOutput(valueInfo(name, elemType, dims));
  }

  /** dims: Long/Integer for fixed sizes, String for symbolic ones. */
  static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String s) {
        dim.setDimParam(s);
      } else {
        dim.setDimValue(((Number) d).longValue());
      }
      shape.addDim(dim);
    }
    TypeProto type =
        TypeProto.newBuilder()
            .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))
            .build();
    return ValueInfoProto.newBuilder().setName(name).setType(type).build();
  }

  /**
   * The graph; refuses a tensor name defined twice (graph input, initializer, node output) or a
   * graph output listed twice: ONNX requires unique names, and a task named like the input ({@code
   * tokens}) would otherwise give an invalid model.
   */
  GraphProto build() {
    Map<String, String> defined = new HashMap<>();
    java.util.function.BiConsumer<String, String> define =
        (name, what) -> {
          String before = defined.putIfAbsent(name, what);
          if (before != null) {
            throw new BadInputException(
                "graph "
                    + graph.getName()
                    + ": the name '"
                    + name
                    + "' is both "
                    + before
                    + " and "
                    + what
                    + ": task and tensor names must not collide with the graph's input and output names");
          }
        };
    for (ValueInfoProto in : graph.getInputList()) {
      define.accept(in.getName(), "a graph input");
    }
    for (String init : initializers.keySet()) {
      define.accept(init, "an initializer");
    }
    for (NodeProto n : graph.getNodeList()) {
      for (String out : n.getOutputList()) {
        define.accept(out, "an output of node " + n.getName());
      }
    }
    java.util.Set<String> outputs = new java.util.HashSet<>();
    for (ValueInfoProto out : graph.getOutputList()) {
      if (!outputs.add(out.getName())) {
        throw new BadInputException(
            "graph "
                + graph.getName()
                + ": the output name '"
                + out.getName()
                + "' is listed twice: task and "
                + "tensor names must not collide with the graph's input and output names");
      }
    }
    graph.addAllInitializer(initializers.values());
    return graph.build();
  }

  static AttributeProto attrInt(String name, long v) {
    return attr(name, AttributeProto.AttributeType.INT).setI(v).build();
  }

  static AttributeProto attrFloat(String name, float v) {
    return attr(name, AttributeProto.AttributeType.FLOAT).setF(v).build();
  }

  static AttributeProto attrString(String name, String v) {
    return attr(name, AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(v)).build();
  }

  static AttributeProto attrInts(String name, long... v) {
    AttributeProto.Builder a = attr(name, AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  /** An attribute named {@code name} of type {@code type}, its value still to set. */
  private static AttributeProto.Builder attr(String name, AttributeProto.AttributeType type) {
    return AttributeProto.newBuilder().setName(name).setType(type);
  }
}
