package dev.msnexport.exporter.onnx;

import static dev.msnexport.exporter.onnx.GraphBuilder.attrFloat;
import static dev.msnexport.exporter.onnx.GraphBuilder.attrInt;
import static dev.msnexport.exporter.onnx.GraphBuilder.attrString;

import ai.onnx.proto.OnnxMl.AttributeProto;
import dev.msnexport.ops.OpSpec;
import dev.msnexport.ops.OpTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A node of one of our custom ops, built from the op table (core's ops.json): op type, domain and
 * output count come from the table, each attribute is written with the table's ONNX type, and the
 * node is checked against the table's signature (input count, attribute names, required attributes,
 * int ranges, allowed string values) so that the exporter cannot write a node that the ONNX Runtime
 * kernel or the TensorRT plugin would refuse for a reason the table already states. The TensorRT
 * ONNX parser's {@code plugin_version} and {@code plugin_namespace} are added.
 */
final class CustomOpNode {
  private CustomOpNode() {}

  /**
   * Emits op {@code id} on {@code inputs} with {@code attrs} (attribute name to value: a Number for
   * int and float attributes, a String for string ones; iteration order is kept); returns the
   * outputs in table order. A mismatch with the table is a bug of the exporter: {@link
   * IllegalStateException} naming the op and attribute.
   */
  static String[] emit(GraphBuilder g, String id, List<String> inputs, Map<String, ?> attrs) {
    OpTable table = OpTable.standard();
    OpSpec op = table.op(id);
    if (inputs.size() < op.requiredInputs() || inputs.size() > op.inputs().size()) {
      throw new IllegalStateException(
          op.name()
              + ": "
              + inputs.size()
              + " inputs, the op table allows "
              + op.requiredInputs()
              + ".."
              + op.inputs().size());
    }
    List<AttributeProto> all = new ArrayList<>();
    attrs.forEach((name, value) -> all.add(attribute(op, name, value)));
    for (OpSpec.Attribute a : op.attributes()) {
      if (a.required() && !attrs.containsKey(a.name())) {
        throw new IllegalStateException(
            op.name() + ": required attribute '" + a.name() + "' is not set");
      }
    }
    all.add(attrString("plugin_version", table.pluginVersion()));
    all.add(attrString("plugin_namespace", table.pluginNamespace()));
    return g.ops(
        op.name(), table.domain(), inputs, op.outputs().size(), all.toArray(AttributeProto[]::new));
  }

  private static AttributeProto attribute(OpSpec op, String name, Object value) {
    OpSpec.Attribute a;
    try {
      a = op.attribute(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    String where = op.name() + " attribute '" + name + "' (" + a.type() + ") = " + value;
    switch (a.type()) {
      case "int" -> {
        if (!(value instanceof Integer || value instanceof Long)) {
          throw new IllegalStateException(where + ": not an integer");
        }
        long v = ((Number) value).longValue();
        if ((a.min() != null && v < a.min()) || (a.max() != null && v > a.max())) {
          throw new IllegalStateException(
              where + ": outside the op table's range [" + a.min() + ", " + a.max() + "]");
        }
        return attrInt(name, v);
      }
      case "float" -> {
        if (!(value instanceof Float || value instanceof Double)) {
          throw new IllegalStateException(where + ": not a float");
        }
        return attrFloat(name, ((Number) value).floatValue());
      }
      case "string" -> {
        if (!(value instanceof String s) || (!a.values().isEmpty() && !a.values().contains(s))) {
          throw new IllegalStateException(where + ": not one of " + a.values());
        }
        return attrString(name, s);
      }
      default -> throw new IllegalStateException(where + ": type not written by the exporter");
    }
  }
}
