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
      names = "--max-p99-ratio",
      paramLabel = "R",
      description =
          "Fail when the ratio candidate/reference graph of the medians of "
              + "block minima exceeds R (default: the profile's max_p99_ratio; 0 turns the gate off).")
  Double maxP99Ratio;

  @Mixin RegressionGateOptions regression;

  @Option(
      names = "--no-confirm",
      description =
          "Decide every gate on the first run. By default a gate that fails is confirmed by a second interleaved run of "
              + "every backend at that batch: it fails only if it fails again, else it is suspect (flagged, exit 0).")
  boolean noConfirm;

  /** The limits (null: the profile's) and bootstrap of the gates; {@code seed} seeds it. */
  BenchRequest.Limits limits(long seed) {
    return new BenchRequest.Limits(
        maxP99Ratio,
        regression.maxP99Regression,
        !regression.noDriftCorrection,
        regression.bootstrap.settings(seed));
  }
}
