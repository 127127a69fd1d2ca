package dev.msnexport.parity;

/** Small statistics helpers shared by parity and latency. */
public final class Stats {
  private Stats() {}

  /**
   * The p-th percentile of sorted values by linear interpolation between closest ranks (the
   * definition NumPy uses by default), so error figures match what users compute in Python.
   */
  public static double percentileSorted(double[] sorted, double p) {
    int n = sorted.length;
    if (n == 0) {
      return 0;
    }
    double pos = p / 100.0 * (n - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, n - 1);
    double frac = pos - lo;
    if (Double.isInfinite(sorted[lo]) || Double.isInfinite(sorted[hi])) {
      return frac == 0 ? sorted[lo] : sorted[hi];
    }
    return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
  }
}
