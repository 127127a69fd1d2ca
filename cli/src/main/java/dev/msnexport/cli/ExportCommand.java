package dev.msnexport.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description =
        "Export a checkpoint to OUT/model.custom.onnx (msn::PKMRetrieval, msn::SparseGather) and OUT/model.reference.onnx "
            + "(standard ONNX ops, opset 17), with OUT/manifest.json.")
final class ExportCommand implements Callable<Integer> {
  @Option(
      names = "--checkpoint",
      required = true,
      description = "Checkpoint directory (config.json + model.safetensors).")
  Path checkpoint;

  @Option(names = "--out", required = true, description = "Output directory.")
  Path out;

  @Option(
      names = "--values-dtype",
      description =
          "Storage type of the value tables: ${COMPLETION-CANDIDATES} (default: the profile's"
              + " values_dtype, of --profile or else of the built-in profile whose model the"
              + " checkpoint is; fp32 for any other checkpoint); int8 and fp8 (E4M3FN) are"
              + " quantized per row with float32 scales.")
  Choices.ValuesDtype valuesDtype;

  @Mixin QuietOption quiet;

  @Option(
      names = "--profile",
      completionCandidates = Choices.ProfileNames.class,
      description = "Profile name recorded in the manifest (tolerances for verify).")
  String profile;

  @Mixin ExportGraphOptions graph;

  @Mixin NameMapOption nameMap;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    new OutputAliasing()
        .input("--checkpoint", checkpoint)
        .input("--name-map", nameMap.file)
        .profile("--profile", profile)
        .outputDir("--out", out, OutputAliasing.EXPORT_FILES)
        .check(spec.commandLine());
    Choices.ValuesDtype dt =
        valuesDtype != null ? valuesDtype : ValuesDtypeDefault.of(profile, checkpoint);
    ExportRun.run(checkpoint, nameMap.read(), out, graph.options(dt, profile), quiet.quiet);
    return ExitCodes.OK;
  }
}
