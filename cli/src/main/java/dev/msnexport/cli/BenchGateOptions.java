package dev.msnexport.cli;

import dev.msnexport.verifier.latency.BenchRequest;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Bench's gates (a picocli mixin): baseline, limits, bootstrap, confirmation, drift correction. */
final class BenchGateOptions {
  @Option(
      names = "--baseline",
      paramLabel = "FILE",
      description = "Saved bench result (a report.json) to gate p99 regressions against.")
  Path baseline;

  @Option(
      names = "--update-baseline",
      description = "Write this run's result to --baseline FILE (instead of gating against it).")
  boolean updateBaseline;

  @Range(min = 0, max = OptionRanges.MAX_RATIO)
  @Option(
      names = "--max-p99-regression",
      paramLabel = "R",
      description =
          "Fail when the median of block minima grew by more than R against the baseline (default: the profile's, else 0.10).")
  Double maxP99Regression;

  @Range(min = 0, max = OptionRanges.MAX_RATIO)
  @Option(
      names = "--max-p99-ratio",
      paramLabel = "R",
      description =
          "Fail when the ratio candidate/reference graph of the medians of "
              + "block minima exceeds R (default: the profile's max_p99_ratio; 0 turns the gate off).")
  Double maxP99Ratio;

  @Mixin BootstrapOptions bootstrap;

  @Option(
      names = "--no-confirm",
      description =
          "Decide every gate on the first run. By default a gate that fails is confirmed by a second interleaved run of "
              + "every backend at that batch: it fails only if it fails again, else it is suspect (flagged, exit 0).")
  boolean noConfirm;

  @Option(
      names = "--no-drift-correction",
      description =
          "Gate against --baseline as measured. By default each backend's baseline is first scaled by how much slower "
              + "the run's other backends ran than in the baseline (the machine's drift), so a machine that is slower as a whole "
              + "raises no alarm; a regression of every backend alike then goes unseen, which this option catches.")
  boolean noDriftCorrection;

  /** The limits (null: the profile's) and bootstrap of the gates; {@code seed} seeds it. */
  BenchRequest.Limits limits(long seed) {
    return new BenchRequest.Limits(
        maxP99Ratio, maxP99Regression, !noDriftCorrection, bootstrap.settings(seed));
  }
}
