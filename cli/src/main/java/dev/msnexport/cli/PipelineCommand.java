package dev.msnexport.cli;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.VerifyRequest;
import dev.msnexport.verifier.VerifyRun;
import dev.msnexport.verifier.backend.BackendSpec;
import dev.msnexport.verifier.backend.Backends;
import dev.msnexport.verifier.backend.TrtSettings;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "pipeline",
    mixinStandardHelpOptions = true,
    description =
        "The main job: init a synthetic checkpoint (unless --checkpoint), export both graphs, verify them against the golden "
            + "model, write DIR/verify.json.")
final class PipelineCommand implements Callable<Integer> {
  @Mixin NameMapOption nameMap;

  @Mixin MemoryHealthOptions health;

  @Mixin SeedOption seed;

  @Option(
      names = "--profile",
      defaultValue = "tiny",
      completionCandidates = Choices.ProfileNames.class,
      description = "Built-in profile or profile file (default: ${DEFAULT-VALUE}).")
  String profile;

  @Option(
      names = "--out",
      defaultValue = "out",
      description = "Work directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--checkpoint", description = "Use this checkpoint instead of a synthetic one.")
  Path checkpoint;

  @Range(min = 1, max = OptionRanges.MAX_BATCH)
  @Option(
      names = "--batch",
      defaultValue = "8",
      description = "Verification batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--values-dtype",
      description =
          "${COMPLETION-CANDIDATES} (default: the profile's values_dtype, fp32 when it has none).")
  Choices.ValuesDtype valuesDtype;

  @Option(
      names = "--backends",
      defaultValue = VerifyCommand.DEFAULT_BACKENDS,
      split = ",",
      converter = Choices.BackendSpecs.class,
      completionCandidates = Choices.BackendNames.class,
      description = "Backends to verify (default: ${DEFAULT-VALUE}).")
  List<BackendSpec> backends;

  @Option(
      names = "--mark-outputs",
      split = ",",
      paramLabel = "TENSOR",
      description =
          "As verify's: also output and compare these intermediate tensors (diagnostics, never part of the verdict).")
  List<String> markOutputs = new java.util.ArrayList<>();

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    nameMap.requireCheckpoint(spec.commandLine(), checkpoint);
    BackendOptions.requireComparable(spec.commandLine(), backends, false);
    new OutputAliasing()
        .input("--checkpoint", checkpoint)
        .input("--name-map", nameMap.file)
        .profile("--profile", profile)
        .outputDir(
            "--out",
            checkpoint == null ? out.resolve("checkpoint") : null,
            Checkpoint.CONFIG_FILE,
            Checkpoint.WEIGHTS_FILE)
        .outputDir("--out", out.resolve("model"), OutputAliasing.EXPORT_FILES)
        .output("--out", out.resolve("verify.json"))
        .check(spec.commandLine());
    health.validate();
    NameMap names = nameMap.read();
    Profile p = Profiles.load(profile);
    AtomicFiles.ensureWritableDirectory(out, "output directory");
    Path ckpt = checkpoint != null ? checkpoint : InitCommand.synthetic(p, out, seed.value());
    Path model = out.resolve("model");
    System.out.print("export: ");
    ExportRun.run(
        ckpt,
        names,
        model,
        ExportRun.options(
            valuesDtype != null ? valuesDtype : ValuesDtypeDefault.of(p),
            Choices.ExternalData.auto,
            true,
            profile),
        false);
    VerifyReport r =
        VerifyRun.run(
            VerifyRequest.of(model, backends)
                .withProfile(profile)
                .withInputs(batch, seed.value())
                .withOpen(
                    new Backends.Options(
                        ckpt, names, 0, TrtSettings.DEFAULTS, markOutputs, System.out))
                .withHealth(health.samples, health.seed),
            Errors::warn);
    AtomicFiles.writeString(out.resolve("verify.json"), Profiles.toJson(r) + "\n");
    VerifySummary.printSummary(r);
    System.out.println(
        "report: "
            + out.resolve("verify.json")
            + "; models: "
            + Arrays.asList(
                model.resolve("model.custom.onnx"), model.resolve("model.reference.onnx")));
    return r.pass() ? ExitCodes.OK : ExitCodes.PARITY_FAILURE;
  }
}
