package dev.msnexport.cli;

import dev.msnexport.verifier.ExportedModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The export and backend options that verify and bench share (a picocli mixin): which export, which
 * backends, the profile, the golden backend's checkpoint and name map, ONNX Runtime's threads. Each
 * command gives its own default backends.
 */
final class BackendOptions {
  @Option(
      names = "--model",
      required = true,
      description = "Export directory (the --out of 'export').")
  Path model;

  @Option(
      names = "--backends",
      split = ",",
      completionCandidates = Choices.BackendNames.class,
      description =
          "Backends: golden, ort-reference, ort-custom, "
              + BuildCommand.TrtSettings.SPECS
              + " (TensorRT; needs a GPU); verify takes the first as the reference "
              + "(default: ${DEFAULT-VALUE}).")
  List<String> backends;

  @Option(
      names = "--profile",
      completionCandidates = Choices.ProfileNames.class,
      description =
          "Profile for tolerances (verify), latency budget and default batch sizes (bench) "
              + "(default: the one recorded at export, else tiny).")
  String profile;

  @Option(
      names = "--checkpoint",
      description = "Checkpoint for the golden backend (default: the one recorded at export).")
  Path checkpoint;

  @Mixin NameMapOption nameMap;

  @Range(min = 0, max = OptionRanges.MAX_THREADS)
  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "ONNX Runtime intra-op threads (0: its default).")
  int threads;

  /**
   * @param defaultBackends the command's --backends default, comma-separated
   */
  BackendOptions(String defaultBackends) {
    backends = new ArrayList<>(List.of(defaultBackends.split(",")));
  }

  ExportedModel open() {
    return ExportedModel.open(model);
  }

  /**
   * Registers the inputs verify and bench share: the export directory, the golden backend's
   * checkpoint (--checkpoint, else the export's), the name map and a profile file.
   */
  OutputAliasing inputs(ExportedModel m) {
    return new OutputAliasing()
        .input("--model", model)
        .input(
            checkpoint != null ? "--checkpoint" : "the export's checkpoint",
            checkpoint != null ? checkpoint : m.checkpoint())
        .input("--name-map", nameMap.file)
        .profile("--profile", profile);
  }

  /** --profile, else the profile recorded at export, else tiny. */
  String profileName(ExportedModel m) {
    return profileName(profile, m);
  }

  /**
   * {@code profileArg}, else the profile recorded at export, else tiny, with a warning on stderr:
   * its tolerances and batch range were made for another model.
   */
  static String profileName(String profileArg, ExportedModel m) {
    if (profileArg != null) {
      return profileArg;
    }
    if (m.profile() != null) {
      return m.profile();
    }
    System.err.println(
        "msn-export: warning: "
            + m.dir()
            + " records no profile and --profile is not given: using tiny's tolerances "
            + "and batch range, which were made for another model (pass --profile, or export with --profile)");
    return "tiny";
  }

  /**
   * Opens the backends in order ({@link VerifyCommand#openBackends}); {@code trt} opens TensorRT
   * ones.
   */
  VerifyCommand.OpenedBackends openBackends(ExportedModel m, BuildCommand.TrtSettings trt) {
    return VerifyCommand.openBackends(
        m, backends, checkpoint, nameMap.read(), threads, trt, List.of());
  }
}
