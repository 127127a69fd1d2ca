package dev.msnexport.cli;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.onnx.OnnxTensors;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** What inspect prints of an ONNX model: its summary and, on request, every node output. */
public final class OnnxDescription {
  private OnnxDescription() {}

  /** Prints the model's summary and, with {@code tensors}, its node outputs. */
  static void print(Path path, boolean tensors, PrintStream out) {
    byte[] data = OnnxTensors.readBytes(path);
    describe(data, path.toString(), out);
    if (tensors) {
      printTensors(OnnxTensors.parse(data, path.toString()), out);
    }
  }

  /**
   * Every node output of the graph: tensor name, element type, op, node (what verify --mark-outputs
   * takes).
   */
  static void printTensors(ModelProto model, PrintStream out) {
    java.util.List<OnnxTensors.Tensor> all = OnnxTensors.list(model);
    int width = 6;
    for (OnnxTensors.Tensor t : all) {
      width = Math.max(width, t.name().length());
    }
    out.printf(
        Locale.ROOT, "  tensors: %d node outputs (names for verify --mark-outputs)%n", all.size());
    out.printf(
        Locale.ROOT, "    %-" + width + "s  %-8s %-22s %s%n", "tensor", "dtype", "op", "node");
    for (OnnxTensors.Tensor t : all) {
      out.printf(
          Locale.ROOT,
          "    %-" + width + "s  %-8s %-22s %s%n",
          t.name(),
          t.dtype(),
          t.op(),
          t.node());
    }
  }

  /**
   * Parses an ONNX model and prints its summary to {@code out}; {@code path} names it in messages.
   * Whatever the bytes, the only failure is a {@link BadInputException} (fuzzed:
   * docs/robustness.md; parsed by {@link OnnxTensors#parse}, which says why from a heap array).
   */
  public static void describe(byte[] data, String path, PrintStream out) {
    ModelProto model = OnnxTensors.parse(data, path);
    out.println(
        "onnx "
            + path
            + ": ir_version "
            + model.getIrVersion()
            + ", producer "
            + model.getProducerName()
            + " "
            + model.getProducerVersion());
    model
        .getOpsetImportList()
        .forEach(
            o ->
                out.println(
                    "  opset "
                        + (o.getDomain().isEmpty() ? "ai.onnx" : o.getDomain())
                        + " v"
                        + o.getVersion()));
    for (StringStringEntryProto p : model.getMetadataPropsList()) {
      String v = p.getValue().replaceAll("\\s+", " ");
      out.println(
          "  metadata "
              + p.getKey()
              + " = "
              + (v.length() > 160 ? v.substring(0, 160) + "..." : v));
    }
    Map<String, Integer> ops = new TreeMap<>();
    StringBuilder custom = new StringBuilder();
    for (NodeProto n : model.getGraph().getNodeList()) {
      String key = (n.getDomain().isEmpty() ? "" : n.getDomain() + "::") + n.getOpType();
      ops.merge(key, 1, Integer::sum);
      if (!n.getDomain().isEmpty()) {
        custom
            .append("    ")
            .append(key)
            .append(" ")
            .append(n.getName())
            .append(" ")
            .append(n.getInputList())
            .append(" -> ")
            .append(n.getOutputList())
            .append('\n');
      }
    }
    out.println("  nodes: " + model.getGraph().getNodeCount() + " " + ops);
    if (custom.length() > 0) {
      out.print("  custom nodes:\n" + custom);
    }
    long embedded = 0;
    long params = 0;
    Map<String, Long> external = new TreeMap<>();
    for (TensorProto t : model.getGraph().getInitializerList()) {
      long n = 1;
      for (long d : t.getDimsList()) {
        n *= d;
      }
      params += n;
      if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
        String loc = "";
        long len = 0;
        for (StringStringEntryProto e : t.getExternalDataList()) {
          if (e.getKey().equals("location")) {
            loc = e.getValue();
          } else if (e.getKey().equals("length")) {
            try {
              len = Long.parseLong(e.getValue());
            } catch (NumberFormatException notANumber) {
              throw new BadInputException(
                  "ONNX model "
                      + path
                      + ": initializer '"
                      + t.getName()
                      + "' has external data length '"
                      + e.getValue()
                      + "', not a number");
            }
          }
        }
        external.merge(loc, len, Long::sum);
      } else {
        embedded += t.getRawData().size();
      }
    }
    out.printf(
        Locale.ROOT,
        "  initializers: %d (%,d elements), %.1f MiB embedded%n",
        model.getGraph().getInitializerCount(),
        params,
        embedded / 1048576.0);
    external.forEach(
        (loc, bytes) ->
            out.printf(
                Locale.ROOT, "  external data: %s, %.1f MiB referenced%n", loc, bytes / 1048576.0));
    model
        .getGraph()
        .getInputList()
        .forEach(v -> out.println("  input  " + v.getName() + " " + shape(v)));
    model
        .getGraph()
        .getOutputList()
        .forEach(v -> out.println("  output " + v.getName() + " " + shape(v)));
  }

  private static String shape(ai.onnx.proto.OnnxMl.ValueInfoProto v) {
    StringBuilder b = new StringBuilder("[");
    for (var d : v.getType().getTensorType().getShape().getDimList()) {
      if (b.length() > 1) {
        b.append(", ");
      }
      b.append(d.hasDimParam() ? d.getDimParam() : Long.toString(d.getDimValue()));
    }
    return b.append("]").toString();
  }
}
