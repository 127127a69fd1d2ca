package dev.msnexport.common;

/**
 * Latency percentiles with trtexec's rules, so our figures compare directly with {@code trtexec}'s
 * "percentile(99%)" and "median" (NVIDIA/TensorRT, samples/common/sampleReporting.cpp, {@code
 * findPercentile} and {@code findMedian}).
 *
 * <p>The percentile rule, in words: sort the n samples ascending; of the largest samples, leave out
 * as many as {@code (1 - p/100) * n} rounded down; the percentile is the largest sample left, that
 * is the one at 0-based index {@code max(n - 1 - excluded, 0)}. No interpolation. trtexec does this
 * arithmetic in single precision, and so do we, because it matters: for p = 99 and n = 100, {@code
 * 1 - 0.99f} is slightly below 0.01, the product slightly below 1, nothing is left out and the
 * "p99" is the maximum.
 *
 * <p>The median is the middle sample, or the mean of the two middle samples when n is even.
 */
public final class Percentiles {
  private Percentiles() {}

  /** The 0-based index into n ascending samples that trtexec reports as the p-th percentile. */
  public static int index(int n, double p) {
    if (!(p >= 0 && p <= 100)) {
      throw new IllegalArgumentException("percentile " + p + " is not in [0, 100]");
    }
    if (n <= 0) {
      throw new IllegalArgumentException("no samples");
    }
    float pf = (float) p;
    int excluded = (int) ((1f - pf / 100f) * (float) n);
    return Math.max(n - 1 - excluded, 0);
  }

  /** trtexec's p-th percentile of ascending samples. */
  public static double of(long[] sorted, double p) {
    return sorted[index(sorted.length, p)];
  }

  /** trtexec's p-th percentile of ascending samples. */
  public static double of(double[] sorted, double p) {
    return sorted[index(sorted.length, p)];
  }

  /** trtexec's median of ascending samples. */
  public static double median(long[] sorted) {
    int n = sorted.length;
    if (n == 0) {
      throw new IllegalArgumentException("no samples");
    }
    int m = n / 2;
    return n % 2 == 1 ? sorted[m] : (sorted[m - 1] + (double) sorted[m]) / 2;
  }

  /** trtexec's median of ascending samples. */
  public static double median(double[] sorted) {
    int n = sorted.length;
    if (n == 0) {
      throw new IllegalArgumentException("no samples");
    }
    int m = n / 2;
    return n % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }
}
