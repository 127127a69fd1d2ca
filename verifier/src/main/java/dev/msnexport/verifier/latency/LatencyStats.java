package dev.msnexport.verifier.latency;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.common.Percentiles;
import java.util.Arrays;

/**
 * Summary of one latency distribution, in milliseconds. {@code p50} is trtexec's median; p90 to
 * p99.9 follow trtexec's percentile rule ({@link Percentiles}); {@code stddev} is the population
 * standard deviation.
 */
@JsonPropertyOrder({"count", "min", "mean", "p50", "p90", "p95", "p99", "p99_9", "max", "stddev"})
public record LatencyStats(
    int count,
    double min,
    double mean,
    double p50,
    double p90,
    double p95,
    double p99,
    double p99_9,
    double max,
    double stddev) {

  /** From samples in nanoseconds. */
  public static LatencyStats ofNanos(long[] samplesNs) {
    double[] ms = new double[samplesNs.length];
    for (int i = 0; i < ms.length; i++) {
      ms[i] = samplesNs[i] / 1e6;
    }
    return ofMillis(ms);
  }

  /** From samples in milliseconds. */
  public static LatencyStats ofMillis(double[] samplesMs) {
    if (samplesMs.length == 0) {
      throw new IllegalArgumentException("no samples");
    }
    double[] s = samplesMs.clone();
    Arrays.sort(s);
    double sum = 0;
    for (double v : s) {
      sum += v;
    }
    double mean = sum / s.length;
    double sq = 0;
    for (double v : s) {
      sq += (v - mean) * (v - mean);
    }
    return new LatencyStats(
        s.length,
        s[0],
        mean,
        Percentiles.median(s),
        Percentiles.of(s, 90),
        Percentiles.of(s, 95),
        Percentiles.of(s, 99),
        Percentiles.of(s, 99.9),
        s[s.length - 1],
        Math.sqrt(sq / s.length));
  }
}
