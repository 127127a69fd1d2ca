package dev.msnexport.cli;

import dev.msnexport.verifier.latency.LatencyBenchmark;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * How bench times (a picocli mixin): warm-up, runs or seconds, rounds, CUDA graphs, layer profiles.
 */
final class BenchTimingOptions {
  static final double DEFAULT_DURATION_S = 2.0;

  @Range(min = 0, max = 3_600_000)
  @Option(
      names = "--warmup-ms",
      defaultValue = "500",
      description = "Warm-up per backend and batch size (default: ${DEFAULT-VALUE}).")
  double warmupMs;

  static final class Amount {
    @Range(min = 1, max = OptionRanges.MAX_ITERATIONS)
    @Option(
        names = "--iterations",
        paramLabel = "N",
        description = "Timed runs per backend and batch size.")
    Integer iterations;

    @Range(min = 0, max = 86_400, minExclusive = true)
    @Option(
        names = "--duration-s",
        paramLabel = "S",
        description = "Timed seconds per backend and batch size (default: 2).")
    Double durationS;
  }

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  Amount amount;

  @Range(min = 1, max = 1_000_000)
  @Option(
      names = "--rounds",
      defaultValue = "20",
      description =
          "Round-robin rounds the timed runs are split into, so that drift hits every backend alike (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(
      names = "--no-cuda-graph",
      negatable = false,
      description =
          "Time TensorRT backends by plain launches instead of replaying each prepared launch as a CUDA graph (the default, "
              + "as trtexec's --useCudaGraph; GPU time comes from CUDA events around each run either way).")
  boolean noCudaGraph;

  @Option(
      names = "--layer-profile",
      description =
          "After timing, also run each TensorRT backend --layer-profile-runs times per batch "
              + "with TensorRT's profiler and print every layer's time and share, longest first (like trtexec's --dumpProfile "
              + "--separateProfileRun); report.json gets layer_profiles.")
  boolean layerProfile;

  @Range(min = 1, max = 100_000)
  @Option(
      names = "--layer-profile-runs",
      defaultValue = "20",
      paramLabel = "N",
      description =
          "Profiled runs per backend and batch for --layer-profile (default: ${DEFAULT-VALUE}).")
  int layerProfileRuns;

  /** The timing plan; every number is in its range already (OptionRanges). */
  LatencyBenchmark.Plan plan() {
    Integer iterations = amount == null ? null : amount.iterations;
    double durationS =
        iterations != null
            ? 0
            : amount != null && amount.durationS != null ? amount.durationS : DEFAULT_DURATION_S;
    return new LatencyBenchmark.Plan(
        warmupMs, iterations == null ? 0 : iterations, durationS, rounds);
  }
}
