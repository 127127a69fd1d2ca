package dev.msnexport.cli;

import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.BackendSpec;
import dev.msnexport.verifier.backend.Backends;
import dev.msnexport.verifier.backend.TrtSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The export and backend options that verify and bench share (a picocli mixin): which export, which
 * backends, the profile, the golden backend's checkpoint and name map, ONNX Runtime's threads. Each
 * command gives its own default backends.
 */
final class BackendOptions {
  @Mixin ModelDirOption modelDir;

  @Option(
      names = "--backends",
      split = ",",
      converter = Choices.BackendSpecs.class,
      completionCandidates = Choices.BackendNames.class,
      description =
          "Backends: "
              + BackendSpec.CHOICES
              + " (TensorRT; needs a GPU); verify takes the first as the reference "
              + "(default: ${DEFAULT-VALUE}).")
  List<BackendSpec> backends;

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
    backends = new ArrayList<>(BackendSpec.parseAll(List.of(defaultBackends.split(","))));
  }

  /** The export directory (--model). */
  Path model() {
    return modelDir.model;
  }

  ExportedModel open() {
    return ExportedModel.open(model());
  }

  /**
   * Registers the inputs verify and bench share: the export directory, the golden backend's
   * checkpoint (--checkpoint, else the export's), the name map and a profile file.
   */
  OutputAliasing inputs(ExportedModel m) {
    return new OutputAliasing()
        .input("--model", model())
        .input(
            checkpoint != null ? "--checkpoint" : "the export's checkpoint",
            checkpoint != null ? checkpoint : m.checkpoint())
        .input("--name-map", nameMap.file)
        .profile("--profile", profile);
  }

  /** How to open the backends; progress lines go to stdout. */
  Backends.Options openOptions(TrtSettings trt, List<String> markOutputs) {
    return new Backends.Options(checkpoint, nameMap.read(), threads, trt, markOutputs, System.out);
  }

  /** {@link #requireComparable(CommandLine, List, boolean)} of these backends. */
  void requireComparable(CommandLine cl, boolean golden) {
    requireComparable(cl, backends, golden);
  }

  /**
   * Usage errors of a backend list: a backend listed twice, or fewer than two results to compare
   * ({@code golden}: a golden file adds one).
   */
  static void requireComparable(CommandLine cl, List<BackendSpec> specs, boolean golden) {
    Set<BackendSpec> seen = new HashSet<>();
    for (BackendSpec b : specs) {
      if (!seen.add(b)) {
        throw new ParameterException(
            cl,
            "--backends: '"
                + b
                + "' is listed twice; list each backend once (each is compared with "
                + "every other)");
      }
    }
    if (seen.size() + (golden ? 1 : 0) < 2) {
      throw new ParameterException(
          cl,
          "--backends "
              + String.join(",", specs.stream().map(BackendSpec::format).toList())
              + ": nothing to compare; verify needs at least "
              + "two backends"
              + (golden ? " (the golden file counts as one)" : ", or one and --golden FILE"));
    }
  }
}
