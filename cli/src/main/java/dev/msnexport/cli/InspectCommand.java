package dev.msnexport.cli;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.TensorView;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
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
        CheckpointDescription.print(file, nameMap.read(), health);
      } else if (Files.exists(file.resolve(MsnOnnxExporter.MANIFEST_FILE))) {
        OnnxDescription.print(file.resolve(MsnOnnxExporter.REFERENCE_FILE), tensors, System.out);
        System.out.println();
        OnnxDescription.print(file.resolve(MsnOnnxExporter.CUSTOM_FILE), tensors, System.out);
      } else {
        throw new BadInputException(
            file
                + " is neither a checkpoint directory (config.json) nor an export directory (manifest.json)");
      }
    } else if (file.toString().endsWith(".plan")) {
      EngineInspection.print(file, engineLayers, System.out);
    } else if (file.toString().endsWith(".onnx")) {
      OnnxDescription.print(file, tensors, System.out);
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
}
