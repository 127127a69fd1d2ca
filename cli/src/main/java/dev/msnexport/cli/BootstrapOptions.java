package dev.msnexport.cli;

import dev.msnexport.verifier.latency.LatencyGate;
import picocli.CommandLine.Option;

/**
 * {@code --resamples} and {@code --confidence} of the latency gates' bootstrap (bench, compare).
 */
final class BootstrapOptions {
  @Range(min = 1, max = OptionRanges.MAX_RESAMPLES)
  @Option(
      names = "--resamples",
      defaultValue = "2000",
      description = "Bootstrap resamples per gate (default: ${DEFAULT-VALUE}).")
  int resamples;

  @Range(min = 0, max = 1, minExclusive = true, maxExclusive = true)
  @Option(
      names = "--confidence",
      defaultValue = "0.95",
      description = "Confidence of the bootstrap interval (default: ${DEFAULT-VALUE}).")
  double confidence;

  /** The gates' bootstrap, seeded with {@code seed}. */
  LatencyGate.Settings settings(long seed) {
    return new LatencyGate.Settings(resamples, confidence, seed);
  }
}
