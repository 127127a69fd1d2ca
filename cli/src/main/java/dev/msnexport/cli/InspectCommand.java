package dev.msnexport.cli;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.TensorLayout;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.health.MemoryHealth;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description =
        "Describe a checkpoint directory, a safetensors file, an ONNX model, an export directory or a TensorRT engine plan: "
            + "config, parameter counts (dense vs memory), memory tables, memory health (checkpoints), op counts, custom nodes, external data; "
            + "for a plan (GPU needed) its sidecar, IO tensors and layer precisions.")
public final class InspectCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "FILE",
      description = "Checkpoint directory, .safetensors, .onnx or export directory.")
  Path file;

  @Option(
      names = "--layers",
      description =
          "For an engine plan: print every engine layer (data types in and out, type, name, tactic).")
  boolean engineLayers;

  @Mixin NameMapOption nameMap;

  @Mixin MemoryHealthOptions health;

  @Option(
      names = "--tensors",
      description =
          "ONNX model or export directory: also list every node output (tensor name, element "
              + "type, op, node), the names 'verify --mark-outputs' takes.")
  boolean tensors;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    health.validate();
    if (tensors
        && !(file.toString().endsWith(".onnx")
            || Files.exists(file.resolve(MsnOnnxExporter.MANIFEST_FILE)))) {
      throw new ParameterException(
          spec.commandLine(), "--tensors needs an .onnx model or an export directory, got " + file);
    }
    if (Files.isDirectory(file)) {
      if (Files.exists(file.resolve(Checkpoint.CONFIG_FILE))) {
        inspectCheckpoint(file, nameMap.read(), health);
      } else if (Files.exists(file.resolve(MsnOnnxExporter.MANIFEST_FILE))) {
        inspectOnnx(file.resolve(MsnOnnxExporter.REFERENCE_FILE), tensors);
        System.out.println();
        inspectOnnx(file.resolve(MsnOnnxExporter.CUSTOM_FILE), tensors);
      } else {
        throw new BadInputException(
            file
                + " is neither a checkpoint directory (config.json) nor an export directory (manifest.json)");
      }
    } else if (file.toString().endsWith(".plan")) {
      EngineInspection.print(file, engineLayers, System.out);
    } else if (file.toString().endsWith(".onnx")) {
      inspectOnnx(file, tensors);
    } else if (Files.exists(file)) {
      try (SafetensorsFile st = SafetensorsFile.open(file)) {
        System.out.println(
            "safetensors "
                + file
                + ": "
                + st.tensors().size()
                + " tensors, metadata "
                + st.metadata());
        for (TensorView t : st.tensors().values()) {
          System.out.printf(
              Locale.ROOT,
              "  %-40s %-5s %s%n",
              t.name(),
              t.dtype().safetensorsName(),
              java.util.Arrays.toString(t.shape()));
        }
      }
    } else {
      throw new BadInputException(file + " does not exist");
    }
    return ExitCodes.OK;
  }

  private static void inspectCheckpoint(Path dir, NameMap names, MemoryHealthOptions health) {
    try (Checkpoint c = Checkpoint.open(dir, names)) {
      ModelConfig m = c.config();
      long dense = 0;
      long memory = 0;
      long memoryBytes = 0;
      for (TensorView t : c.tensors().values()) {
        if (TensorLayout.isMemory(t.name())) {
          memory += t.numel();
          memoryBytes += t.byteSize();
        } else {
          dense += t.numel();
        }
      }
      System.out.println("checkpoint " + dir);
      System.out.println("config: " + Profiles.toJson(m).replaceAll("\\s+", " "));
      System.out.printf(
          Locale.ROOT,
          "parameters: %,d dense, %,d memory (%.1f%% memory)%n",
          dense,
          memory,
          100.0 * memory / (dense + memory));
      System.out.printf(
          Locale.ROOT,
          "memory: %d MSN layer(s) %s, %,d slots x %d per table%s, %.1f MiB in all%n",
          m.msnLayers().size(),
          m.msnLayers(),
          m.slots(),
          m.D(),
          m.perTokenMemory() ? " (one table per token)" : "",
          memoryBytes / 1048576.0);
      System.out.println("sha256: " + c.sha256());
      MemoryHealth.Report h = health.compute(c);
      if (h != null) {
        h.lines().forEach(System.out::println);
      }
    }
  }

  private static void inspectOnnx(Path path, boolean tensors) {
    byte[] data = OnnxTensors.readBytes(path);
    describeOnnx(data, path.toString(), System.out);
    if (tensors) {
      printTensors(OnnxTensors.parse(data, path.toString()), System.out);
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
  public static void describeOnnx(byte[] data, String path, PrintStream out) {
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
