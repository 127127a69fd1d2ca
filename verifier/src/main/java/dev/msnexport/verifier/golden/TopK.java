package dev.msnexport.verifier.golden;

/**
 * The contract's top-k selections, written for clarity (the golden model is not the fast path).
 * Public for tools that instrument the golden forward (bench/fp16-emulation).
 */
public final class TopK {
  private TopK() {}

  /** Indices of the k largest of v[off, off+n), descending; equal scores: lower index first. */
  public static int[] select(double[] v, int off, int n, int k) {
    int[] out = new int[k];
    boolean[] taken = new boolean[n];
    for (int m = 0; m < k; m++) {
      int best = -1;
      for (int i = 0; i < n; i++) {
        if (!taken[i] && (best < 0 || v[off + i] > v[off + best])) {
          best = i; // strict '>' keeps the lower index among equals
        }
      }
      taken[best] = true;
      out[m] = best;
    }
    return out;
  }

  /** Positions of the k best candidates, descending score; equal scores: lower slot first. */
  public static int[] selectBySlot(double[] score, long[] slot, int k) {
    int n = score.length;
    int[] out = new int[k];
    boolean[] taken = new boolean[n];
    for (int m = 0; m < k; m++) {
      int best = -1;
      for (int i = 0; i < n; i++) {
        if (taken[i]) {
          continue;
        }
        if (best < 0
            || score[i] > score[best]
            || (score[i] == score[best] && slot[i] < slot[best])) {
          best = i;
        }
      }
      taken[best] = true;
      out[m] = best;
    }
    return out;
  }
}
