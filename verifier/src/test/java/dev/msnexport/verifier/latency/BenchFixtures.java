package dev.msnexport.verifier.latency;

import java.util.List;

/**
 * Bench results and reports built from synthetic samples, for the tests of the gates and of the
 * report writers: one place that knows the records' constructors.
 */
public final class BenchFixtures {
  private BenchFixtures() {}

  /** A prepared backend's timed runs at one batch size, throughput from the mean. */
  public static BenchResult result(String backend, int batch, long[] samplesNs) {
    LatencyStats st = LatencyStats.ofNanos(samplesNs);
    return new BenchResult(
        backend,
        batch,
        true,
        samplesNs.length,
        0,
        batch * 1000 / st.mean(),
        st,
        null,
        samplesNs,
        null,
        "");
  }

  /**
   * Settings of a run with 20 rounds, ONNX Runtime's default threads, seed 0, trtexec's percentile
   * rule, 500 bootstrap resamples at 95% and a 10% regression limit, without a baseline file.
   */
  public static BenchReport.Settings settings(
      List<String> backends,
      List<Integer> batches,
      double warmupMs,
      Integer iterations,
      Double durationS,
      Double maxP99Ratio) {
    return new BenchReport.Settings(
        backends,
        batches,
        warmupMs,
        iterations,
        durationS,
        20,
        0,
        0,
        "trtexec",
        500,
        0.95,
        maxP99Ratio,
        0.1,
        null);
  }

  /** A report of model "m", profile tiny, fp32 values, from this machine, without floors. */
  public static BenchReport report(
      BenchReport.Settings settings,
      boolean pass,
      List<BenchResult> results,
      List<GateResult> gates) {
    return new BenchReport(
        BenchReport.SCHEMA,
        "test",
        "m",
        "tiny",
        "fp32",
        "2026-01-01T00:00:00Z",
        BenchReport.Host.current(),
        settings,
        pass,
        results,
        gates,
        List.of(),
        null,
        null);
  }
}
