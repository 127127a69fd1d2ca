package dev.msnexport.verifier.latency;

import dev.msnexport.common.Percentiles;
import dev.msnexport.parity.Stats;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Percentile bootstrap confidence interval of a ratio of two latency percentiles, e.g.
 * p99(candidate) / p99(baseline): each resample draws n samples with replacement from each side
 * (independently: the two runs are independent), takes both percentiles with trtexec's rule and
 * their ratio; the interval is the central {@code confidence} part of the resampled ratios.
 *
 * <p>A resample never materializes or sorts an array: the originals are sorted once, a resample is
 * a vector of counts per sorted position, and its k-th smallest value is found by a running sum of
 * counts. That is O(n) per resample, so 2,000 resamples of 10,000 samples take well under a second.
 */
public final class Bootstrap {
  private Bootstrap() {}

  /** The point estimate (ratio on the original samples) and its {@code confidence} interval. */
  public record Interval(double point, double low, double high, double confidence, int resamples) {}

  public static Interval percentileRatio(
      long[] candidate,
      long[] reference,
      double percentile,
      int resamples,
      double confidence,
      long seed) {
    if (candidate.length == 0 || reference.length == 0) {
      throw new IllegalArgumentException("no samples");
    }
    if (resamples < 1 || !(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("need resamples >= 1 and confidence in (0, 1)");
    }
    long[] c = candidate.clone();
    long[] r = reference.clone();
    Arrays.sort(c);
    Arrays.sort(r);
    double point = Percentiles.of(c, percentile) / Percentiles.of(r, percentile);
    SplittableRandom rng = new SplittableRandom(seed);
    int[] cc = new int[c.length];
    int[] rc = new int[r.length];
    double[] ratios = new double[resamples];
    for (int i = 0; i < resamples; i++) {
      ratios[i] =
          resampledPercentile(c, cc, rng, percentile) / resampledPercentile(r, rc, rng, percentile);
    }
    Arrays.sort(ratios);
    double tail = (1 - confidence) / 2 * 100;
    return new Interval(
        point,
        Stats.percentileSorted(ratios, tail),
        Stats.percentileSorted(ratios, 100 - tail),
        confidence,
        resamples);
  }

  /**
   * One bootstrap resample's percentile (trtexec's rule), from sorted samples and a scratch count
   * array.
   */
  static double resampledPercentile(
      long[] sorted, int[] counts, SplittableRandom rng, double percentile) {
    int n = sorted.length;
    Arrays.fill(counts, 0);
    for (int i = 0; i < n; i++) {
      counts[rng.nextInt(n)]++;
    }
    int target = Percentiles.index(n, percentile);
    int seen = 0;
    for (int i = 0; i < n; i++) {
      seen += counts[i];
      if (seen > target) {
        return sorted[i];
      }
    }
    return sorted[n - 1];
  }
}
