package dev.msnexport.verifier.health;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The figures of {@link MemoryHealth.Layer} from slot counts: exact from every slot's count, or
 * estimated from a uniform random sample of {@code m} of the {@code n} slots ({@link SlotUsage}):
 *
 * <ul>
 *   <li>fraction used: the sample's fraction {@code p}, with the 95% Wilson score interval of a
 *       binomial proportion over {@code m} slots (sampling without replacement makes it
 *       conservative); slots used: {@code p * n};
 *   <li>entropy: {@code -(n/m) sum p_s log p_s} over the sampled slots, {@code p_s = count / draws}
 *       with all draws counted (unbiased for the sum over all slots);
 *   <li>top-1% share: the sampled slots' top {@code ceil(m/100)} counts, scaled by {@code n/m}.
 * </ul>
 *
 * A sampled layer warns of too few slots used only when even the interval's upper end is under the
 * threshold; "only k distinct slots" is exact in both modes.
 */
final class UsageFigures {
  /** Two-sided 95% normal quantile. */
  static final double Z95 = 1.959963984540054;

  private UsageFigures() {}

  static MemoryHealth.Layer of(int layer, SlotUsage u, int k) {
    return u.exact()
        ? exact(layer, u.counts(), k)
        : sampled(layer, u.slots(), u.counts(), u.draws(), k, u.distinctUpToK());
  }

  static MemoryHealth.Layer exact(int layer, long[] counts, int k) {
    long draws = 0;
    long used = 0;
    for (long v : counts) {
      draws += v;
      used += v > 0 ? 1 : 0;
    }
    long n = counts.length;
    double fraction = (double) used / n;
    return build(
        layer,
        n,
        draws,
        used,
        new double[] {fraction, fraction, fraction},
        -plogp(counts, draws),
        topShare(counts, (int) Math.max(1, (n + 99) / 100), draws, 1.0),
        k,
        used <= k,
        "exact",
        n);
  }

  static MemoryHealth.Layer sampled(
      int layer, long n, long[] counts, long draws, int k, long distinctUpToK) {
    int m = counts.length;
    long usedInSample = Arrays.stream(counts).filter(v -> v > 0).count();
    double[] ci = wilson(usedInSample, m);
    double scale = (double) n / m;
    long used = distinctUpToK >= 0 ? distinctUpToK : Math.round(ci[0] * n);
    return build(
        layer,
        n,
        draws,
        used,
        ci,
        -scale * plogp(counts, draws),
        topShare(counts, Math.max(1, (m + 99) / 100), draws, scale),
        k,
        distinctUpToK >= 0,
        "sampled",
        m);
  }

  /** {p, low, high}: the proportion {@code x / m} and its 95% Wilson score interval. */
  static double[] wilson(long x, long m) {
    double p = (double) x / m;
    double z2 = Z95 * Z95;
    double denom = 1 + z2 / m;
    double centre = (p + z2 / (2.0 * m)) / denom;
    double half = Z95 * Math.sqrt(p * (1 - p) / m + z2 / (4.0 * m * m)) / denom;
    return new double[] {p, Math.max(0, centre - half), Math.min(1, centre + half)};
  }

  private static double plogp(long[] counts, long draws) {
    double sum = 0;
    for (long v : counts) {
      if (v > 0) {
        double p = (double) v / draws;
        sum += p * Math.log(p);
      }
    }
    return sum;
  }

  private static double topShare(long[] counts, int top, long draws, double scale) {
    if (draws == 0) {
      return 0;
    }
    long[] sorted = counts.clone();
    Arrays.sort(sorted);
    long topSum = 0;
    for (int i = 0; i < Math.min(top, sorted.length); i++) {
      topSum += sorted[sorted.length - 1 - i];
    }
    return Math.min(1.0, scale * topSum / draws);
  }

  private static MemoryHealth.Layer build(
      int layer,
      long n,
      long draws,
      long used,
      double[] fraction,
      double entropy,
      double topShare,
      int k,
      boolean atMostK,
      String method,
      long counted) {
    double entropyNorm = n > 1 ? entropy / Math.log(n) : 1.0;
    int top = (int) Math.max(1, (n + 99) / 100);
    double uniform = 1 - Math.exp(draws * Math.log1p(-1.0 / n));
    List<String> warnings = new ArrayList<>();
    if (draws > 0) {
      if (fraction[2] < MemoryHealth.MIN_USED_VS_UNIFORM * uniform) {
        warnings.add(
            String.format(
                Locale.ROOT,
                "retrieval looks collapsed: only %d of %d slots used (%.2f%%%s), under %.0f%% of"
                    + " the %.1f%% that %d uniform draws would cover",
                used,
                n,
                100 * fraction[0],
                counted < n
                    ? String.format(
                        Locale.ROOT,
                        "; 95%% interval up to %.2f%% from %d sampled slots",
                        100 * fraction[2],
                        counted)
                    : "",
                100 * MemoryHealth.MIN_USED_VS_UNIFORM,
                100 * uniform,
                draws));
      }
      if (topShare > MemoryHealth.MAX_TOP1_SHARE) {
        warnings.add(
            String.format(
                Locale.ROOT,
                "retrieval looks collapsed: the top 1%% of slots (%d) take %.1f%% of all selections "
                    + "(threshold %.0f%%)",
                top,
                100 * topShare,
                100 * MemoryHealth.MAX_TOP1_SHARE));
      }
      if (atMostK && n > k) {
        warnings.add(
            "retrieval looks collapsed: every query retrieves the same "
                + used
                + " slots (k = "
                + k
                + "); identical keys or "
                + "a constant query do this");
      }
    }
    return new MemoryHealth.Layer(
        layer,
        n,
        draws,
        used,
        fraction[0],
        uniform,
        entropy,
        entropyNorm,
        top,
        topShare,
        List.copyOf(warnings),
        method,
        counted,
        fraction[1],
        fraction[2]);
  }
}
