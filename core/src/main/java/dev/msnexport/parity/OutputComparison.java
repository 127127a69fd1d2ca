package dev.msnexport.parity;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Error statistics of one float output against the reference, Polygraphy-style: an element passes
 * when {@code |a - b| <= atol + rtol * |b|}. Also says the smallest atol (at the given rtol) and
 * the smallest rtol (at the given atol) that would have passed, and a log-scale error histogram.
 *
 * <p>Elements downstream of a tie that changed a query's slot set (see {@link RetrievalComparison})
 * are <em>tie-exempt</em>: a different but equally valid slot moves everything downstream by a step
 * no tolerance on rounding can bound. They are counted apart ({@code tie_exempt_elements}, {@code
 * tie_exempt_max_abs}) and left out of the verdict and of every other statistic, so that the
 * statistics and the verdict always agree. Non-finite values are never exempt.
 */
@JsonPropertyOrder({
  "name",
  "shape",
  "elements",
  "pass",
  "atol",
  "rtol",
  "max_abs",
  "mean_abs",
  "median_abs",
  "p99_abs",
  "max_rel",
  "mean_rel",
  "median_rel",
  "p99_rel",
  "cosine",
  "non_finite",
  "failing_elements",
  "worst_index",
  "min_atol_to_pass",
  "min_rtol_to_pass",
  "tie_exempt_elements",
  "tie_exempt_max_abs",
  "histogram"
})
public record OutputComparison(
    String name,
    long[] shape,
    int elements,
    boolean pass,
    double atol,
    double rtol,
    double max_abs,
    double mean_abs,
    double median_abs,
    double p99_abs,
    double max_rel,
    double mean_rel,
    double median_rel,
    double p99_rel,
    double cosine,
    int non_finite,
    int failing_elements,
    int worst_index,
    double min_atol_to_pass,
    double min_rtol_to_pass,
    int tie_exempt_elements,
    double tie_exempt_max_abs,
    List<Bin> histogram) {

  /** Elements whose absolute error lies in (lower, upper]; the first bin holds exact matches. */
  public record Bin(String range, int count) {}

  /** Decade bin edges of the absolute-error histogram. */
  static final double[] EDGES = {
    0, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, Double.POSITIVE_INFINITY
  };

  public static OutputComparison of(
      String name, long[] shape, double[] candidate, double[] reference, double atol, double rtol) {
    return of(name, shape, candidate, reference, atol, rtol, null);
  }

  /**
   * As above; {@code exemptSamples[r]} marks row r as tie-exempt. The output's elements split
   * evenly over the rows (element i belongs to row {@code i / (elements / rows)}): one row per
   * sample for {@code [B, ...]} task outputs, one per query for {@code [B*T, k]} retrieval weights.
   */
  public static OutputComparison of(
      String name,
      long[] shape,
      double[] candidate,
      double[] reference,
      double atol,
      double rtol,
      boolean[] exemptSamples) {
    int total = reference.length;
    if (candidate.length != total) {
      throw new IllegalArgumentException(
          name + ": " + candidate.length + " vs " + total + " elements");
    }
    int exempt = 0;
    double exemptMax = 0;
    int[] original = null; // kept position -> element index, when some were exempt
    if (exemptSamples != null && exemptSamples.length > 0 && total % exemptSamples.length == 0) {
      int per = total / exemptSamples.length;
      int kept = 0;
      double[] c2 = new double[total];
      double[] r2 = new double[total];
      int[] idx = new int[total];
      for (int i = 0; i < total; i++) {
        double a = candidate[i];
        double b = reference[i];
        if (exemptSamples[i / per] && Double.isFinite(a) && Double.isFinite(b)) {
          exempt++;
          exemptMax = Math.max(exemptMax, Math.abs(a - b));
        } else {
          c2[kept] = a;
          r2[kept] = b;
          idx[kept++] = i;
        }
      }
      if (exempt > 0) {
        candidate = Arrays.copyOf(c2, kept);
        reference = Arrays.copyOf(r2, kept);
        original = Arrays.copyOf(idx, kept);
      }
    }
    int n = reference.length;
    double[] abs = new double[n];
    double[] rel = new double[n];
    int nonFinite = 0;
    int failing = 0;
    int worst = -1;
    double worstExcess = Double.NEGATIVE_INFINITY;
    double dot = 0;
    double na = 0;
    double nb = 0;
    double minAtol = 0;
    double minRtol = 0;
    for (int i = 0; i < n; i++) {
      double a = candidate[i];
      double b = reference[i];
      if (!Double.isFinite(a) || !Double.isFinite(b)) {
        nonFinite++;
        failing++;
        abs[i] = Double.POSITIVE_INFINITY;
        rel[i] = Double.POSITIVE_INFINITY;
        worst = worst < 0 || worstExcess < Double.POSITIVE_INFINITY ? i : worst;
        worstExcess = Double.POSITIVE_INFINITY;
        continue;
      }
      double e = Math.abs(a - b);
      abs[i] = e;
      rel[i] = e / Math.max(Math.abs(b), Double.MIN_NORMAL);
      double excess = e - (atol + rtol * Math.abs(b));
      if (excess > 0) {
        failing++;
      }
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
      minAtol = Math.max(minAtol, e - rtol * Math.abs(b));
      if (e > atol) {
        minRtol =
            Math.max(
                minRtol, Math.abs(b) > 0 ? (e - atol) / Math.abs(b) : Double.POSITIVE_INFINITY);
      }
      dot += a * b;
      na += a * a;
      nb += b * b;
    }
    double cosine = na == 0 && nb == 0 ? 1.0 : dot / Math.sqrt(na * nb);
    if (nonFinite > 0) {
      cosine = Double.NaN;
      minAtol = Double.POSITIVE_INFINITY;
      minRtol = Double.POSITIVE_INFINITY;
    }
    int[] bins = new int[EDGES.length - 1];
    for (double e : abs) {
      bins[binOf(e)]++;
    }
    List<Bin> hist = new java.util.ArrayList<>();
    for (int i = 0; i < bins.length; i++) {
      // bin 1 also takes errors below 1e-9 (binOf): its label says so
      hist.add(
          new Bin(
              i == 0
                  ? "0"
                  : "(" + (i == 1 ? "0" : label(EDGES[i])) + ", " + label(EDGES[i + 1]) + "]",
              bins[i]));
    }
    double[] sa = abs.clone();
    double[] sr = rel.clone();
    Arrays.sort(sa);
    Arrays.sort(sr);
    return new OutputComparison(
        name,
        shape,
        total,
        failing == 0,
        atol,
        rtol,
        n == 0 ? 0 : sa[n - 1],
        mean(abs),
        Stats.percentileSorted(sa, 50),
        Stats.percentileSorted(sa, 99),
        n == 0 ? 0 : sr[n - 1],
        mean(rel),
        Stats.percentileSorted(sr, 50),
        Stats.percentileSorted(sr, 99),
        cosine,
        nonFinite,
        failing,
        original != null && worst >= 0 ? original[worst] : worst,
        minAtol,
        minRtol,
        exempt,
        exemptMax,
        hist);
  }

  static int binOf(double e) {
    if (e == 0) {
      return 0;
    }
    for (int i = 1; i < EDGES.length - 1; i++) {
      if (e <= EDGES[i + 1]) {
        return i;
      }
    }
    return EDGES.length - 2;
  }

  private static String label(double v) {
    return Double.isInfinite(v)
        ? "inf"
        : v == 0 ? "0" : String.format(java.util.Locale.ROOT, "%.0e", v);
  }

  private static double mean(double[] v) {
    if (v.length == 0) {
      return 0;
    }
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s / v.length;
  }
}
