package dev.msnexport.cli;

import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.progress.Progress;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "init",
    description =
        "Write a deterministic synthetic checkpoint (config.json + model.safetensors) for a profile.",
    mixinStandardHelpOptions = true)
final class InitCommand implements Callable<Integer> {
  @Option(
      names = "--profile",
      required = true,
      completionCandidates = Choices.ProfileNames.class,
      description = "Built-in profile name or profile file.")
  String profile;

  @Option(names = "--out", required = true, description = "Checkpoint directory to write.")
  Path out;

  @Mixin SeedOption seed;

  @Mixin QuietOption quiet;

  @Range(min = 1, max = 4096)
  @Option(
      names = "--threads",
      description =
          "Threads drawing the tensors (default: the available processors, ${DEFAULT-VALUE} here);"
              + " the checkpoint is the same whatever the number.")
  int threads = Runtime.getRuntime().availableProcessors();

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    new OutputAliasing()
        .profile("--profile", profile)
        .outputDir("--out", out, Checkpoint.CONFIG_FILE, Checkpoint.WEIGHTS_FILE)
        .check(spec.commandLine());
    Profile p = Profiles.load(profile);
    long t0 = System.nanoTime();
    long bytes = write(p, out, seed.value(), threads, quiet.quiet);
    double s = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        "wrote %s checkpoint to %s (seed %d, value tables %s) in %.1f s (%.0f MB/s, %d thread%s,"
            + " peak heap %.0f MiB of %.0f MiB)%n",
        p.name(),
        out,
        seed.value(),
        p.defaultValuesDtype(),
        s,
        bytes / 1e6 / Math.max(s, 1e-9),
        threads,
        threads == 1 ? "" : "s",
        ExportRun.peakHeapBytes() / 1048576.0,
        Runtime.getRuntime().maxMemory() / 1048576.0);
    return ExitCodes.OK;
  }

  /**
   * The synthetic checkpoint of {@code p} in {@code out}, value tables in the profile's {@code
   * values_dtype}, drawn on {@code threads} threads; a progress bar on standard error unless quiet.
   * Returns the tensor bytes written.
   */
  static long write(Profile p, Path out, long seed, int threads, boolean quiet) {
    DType values = DType.parseFloat(p.defaultValuesDtype());
    long bytes = SyntheticCheckpoint.bytes(p.model(), DType.F32, values);
    try (Progress bar = Progress.onStderr("init " + p.name(), bytes, quiet)) {
      SyntheticCheckpoint.write(p.model(), out, seed, DType.F32, values, bar, threads);
    }
    return bytes;
  }

  /**
   * Pipeline's synthetic checkpoint of {@code p}: written to {@code workDir/checkpoint} with a
   * progress bar and one line on standard output; returns its directory.
   */
  static Path synthetic(Profile p, Path workDir, long seed) {
    Path ckpt = workDir.resolve("checkpoint");
    long t0 = System.nanoTime();
    write(p, ckpt, seed, Runtime.getRuntime().availableProcessors(), false);
    System.out.printf(
        "init: %s checkpoint (seed %d) -> %s in %.1f s%n",
        p.name(), seed, ckpt, (System.nanoTime() - t0) / 1e9);
    return ckpt;
  }
}
