package dev.msnexport.cli;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.verifier.health.MemoryHealth;
import picocli.CommandLine.Option;

/**
 * {@code --health-samples} and {@code --health-seed} of inspect, verify and pipeline (a picocli
 * mixin around {@link MemoryHealth}).
 */
final class MemoryHealthOptions {
  @Range(min = 0, max = OptionRanges.MAX_HEALTH_SAMPLES)
  @Option(
      names = "--health-samples",
      defaultValue = "" + MemoryHealth.DEFAULT_SAMPLES,
      paramLabel = "N",
      description =
          "Random inputs for the memory-health figures of the checkpoint; 0 skips them (default: ${DEFAULT-VALUE}).")
  int samples;

  @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
  @Option(
      names = "--health-seed",
      defaultValue = "" + MemoryHealth.DEFAULT_SEED,
      paramLabel = "SEED",
      description = "Seed of those inputs (default: ${DEFAULT-VALUE}).")
  long seed;

  /** Fails on a negative count (call before reading any file). */
  void validate() {
    if (samples < 0) {
      throw new BadInputException("--health-samples must be 0 or more, got " + samples);
    }
  }

  /** The checkpoint's memory health, or null when skipped or the model has no MSN layer. */
  MemoryHealth.Report compute(Checkpoint c) {
    return MemoryHealth.computeUnlessSkipped(c, samples, seed);
  }
}
