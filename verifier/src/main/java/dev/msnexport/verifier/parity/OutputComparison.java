package dev.msnexport.verifier.parity;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Error statistics of one float output against the reference, Polygraphy-style: an element passes
 * when {@code |a - b| <= atol + rtol * |b|}. Also says the smallest atol (at the given rtol) and
 * the smallest rtol (at the given atol) that would have passed, and a log-scale error histogram.
 */
@JsonPropertyOrder({"name", "shape", "elements", "pass", "atol", "rtol", "max_abs", "mean_abs", "median_abs", "p99_abs",
    "max_rel", "mean_rel", "median_rel", "p99_rel", "cosine", "non_finite", "failing_elements", "worst_index",
    "min_atol_to_pass", "min_rtol_to_pass", "histogram"})
public record OutputComparison(
    String name, long[] shape, int elements, boolean pass, double atol, double rtol,
    double max_abs, double mean_abs, double median_abs, double p99_abs,
    double max_rel, double mean_rel, double median_rel, double p99_rel,
    double cosine, int non_finite, int failing_elements, int worst_index,
    double min_atol_to_pass, double min_rtol_to_pass, List<Bin> histogram) {

  /** Elements whose absolute error lies in (lower, upper]; the first bin holds exact matches. */
  public record Bin(String range, int count) {}

  /** Decade bin edges of the absolute-error histogram. */
  static final double[] EDGES = {0, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, Double.POSITIVE_INFINITY};

  public static OutputComparison of(String name, long[] shape, double[] candidate, double[] reference, double atol, double rtol) {
    int n = reference.length;
    if (candidate.length != n) {
      throw new IllegalArgumentException(name + ": " + candidate.length + " vs " + n + " elements");
    }
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
        minRtol = Math.max(minRtol, Math.abs(b) > 0 ? (e - atol) / Math.abs(b) : Double.POSITIVE_INFINITY);
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
      hist.add(new Bin(i == 0 ? "0" : "(" + (i == 1 ? "0" : label(EDGES[i])) + ", " + label(EDGES[i + 1]) + "]", bins[i]));
    }
    double[] sa = abs.clone();
    double[] sr = rel.clone();
    Arrays.sort(sa);
    Arrays.sort(sr);
    return new OutputComparison(name, shape, n, failing == 0, atol, rtol,
        n == 0 ? 0 : sa[n - 1], mean(abs), Stats.percentileSorted(sa, 50), Stats.percentileSorted(sa, 99),
        n == 0 ? 0 : sr[n - 1], mean(rel), Stats.percentileSorted(sr, 50), Stats.percentileSorted(sr, 99),
        cosine, nonFinite, failing, worst, minAtol, minRtol, hist);
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
    return Double.isInfinite(v) ? "inf" : v == 0 ? "0" : String.format(java.util.Locale.ROOT, "%.0e", v);
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
