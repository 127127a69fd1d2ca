package dev.msnexport.parity;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Arrays;

/**
 * Retrieval parity of one MSN layer, query by query, on slot sets: a query whose slots differ from
 * the reference's is a <em>tie</em> when the difference is one that scores within {@code
 * tie_epsilon} of each other explain, and a <em>mismatch</em> otherwise. Two gaps are measured, on
 * the reference's scores (the golden model's when it ran, else log-weights, each list's own softmax
 * offset cancelling within the list):
 *
 * <ul>
 *   <li>set: the best slot the candidate left out against the worst slot it took instead ({@code
 *       max S(missing) - min S(intruder)}); a shift of the list by one near-tie insertion costs one
 *       gap, not one per shifted position. With log-weights, also each intruder against the
 *       reference's weakest slot and each missing slot against the candidate's weakest (each list's
 *       set must be a top-k of the other's scores up to tie_epsilon);
 *   <li>order: the candidate's list must be non-increasing in score up to tie_epsilon.
 * </ul>
 *
 * Ties are reported apart: they are legitimate orderings, not bugs. {@code min_tie_epsilon_to_pass}
 * is the largest gap seen (0 when all slots are identical).
 *
 * <p>A tie that changes a query's slot <em>set</em> makes its sample diverge from the reference:
 * its later layers see other inputs. Queries of samples that diverged in an earlier layer are
 * <em>downstream of a tie</em>: counted in {@code downstream_queries}, neither compared nor
 * failing.
 */
@JsonPropertyOrder({
  "layer",
  "queries",
  "k",
  "identical_queries",
  "tie_queries",
  "mismatched_queries",
  "downstream_queries",
  "identical_fraction",
  "set_changing_tie_queries",
  "tie_epsilon",
  "min_tie_epsilon_to_pass",
  "score_source",
  "pass",
  "first_mismatch"
})
public record RetrievalComparison(
    int layer,
    int queries,
    int k,
    int identical_queries,
    int tie_queries,
    int mismatched_queries,
    int downstream_queries,
    double identical_fraction,
    int set_changing_tie_queries,
    double tie_epsilon,
    double min_tie_epsilon_to_pass,
    String score_source,
    boolean pass,
    String first_mismatch) {

  /** Scores a slot for query q, or null when no reference scores are available. */
  public interface SlotScores {
    double score(int query, long slot);
  }

  /**
   * Compares layer {@code layer}'s top-{@code k} slots and weights, candidate against reference;
   * {@code scores} (may be null) classifies ties. {@code downstream[q]} (may be null) marks queries
   * downstream of a tie: skipped. {@code setChangingTies[q]} (may be null) is set for every query
   * whose slots differ by ties only and whose slot set differs from the reference's.
   */
  public static RetrievalComparison of(
      int layer,
      int k,
      long[] candSlots,
      double[] candWeights,
      long[] refSlots,
      double[] refWeights,
      SlotScores scores,
      double tieEpsilon,
      boolean[] downstream,
      boolean[] setChangingTies) {
    int queries = refSlots.length / k;
    int identical = 0;
    int tieQ = 0;
    int misQ = 0;
    int downQ = 0;
    int setQ = 0;
    String first = null;
    double maxGap = 0;
    for (int q = 0; q < queries; q++) {
      if (downstream != null && downstream[q]) {
        downQ++;
        continue;
      }
      int o = q * k;
      if (Arrays.equals(candSlots, o, o + k, refSlots, o, o + k)) {
        identical++;
        continue;
      }
      final int query = q;
      // S(slot): the reference's score, or its log-weight; candidate-only slots without golden
      // scores take the candidate's log-weight (the two lists' softmax offsets differ by about the
      // scores' own error, which tie_epsilon bounds).
      double shift =
          scores != null ? 0 : offset(candSlots, candWeights, refSlots, refWeights, o, k);
      java.util.function.IntToDoubleFunction candScore =
          m ->
              scores != null
                  ? scores.score(query, candSlots[o + m])
                  : logOf(candWeights[o + m]) + shift;
      java.util.function.IntToDoubleFunction refScore =
          m -> scores != null ? scores.score(query, refSlots[o + m]) : logOf(refWeights[o + m]);
      double worstIntruder = Double.POSITIVE_INFINITY;
      double bestMissing = Double.NEGATIVE_INFINITY;
      boolean setDiffers = false;
      for (int m = 0; m < k; m++) {
        if (!contains(refSlots, o, k, candSlots[o + m])) {
          worstIntruder = Math.min(worstIntruder, candScore.applyAsDouble(m));
          setDiffers = true;
        }
        if (!contains(candSlots, o, k, refSlots[o + m])) {
          bestMissing = Math.max(bestMissing, refScore.applyAsDouble(m));
        }
      }
      double gap = setDiffers ? Math.max(0, bestMissing - worstIntruder) : 0;
      if (setDiffers && scores == null) {
        // log-weights only rank within a list: also hold each list's choice against the other's
        // boundary (the reference left the intruders out, the candidate left the missing out)
        double refBoundary = Double.POSITIVE_INFINITY;
        double candBoundary = Double.POSITIVE_INFINITY;
        for (int m = 0; m < k; m++) {
          refBoundary = Math.min(refBoundary, refScore.applyAsDouble(m));
          candBoundary = Math.min(candBoundary, candScore.applyAsDouble(m));
        }
        for (int m = 0; m < k; m++) {
          if (!contains(refSlots, o, k, candSlots[o + m])) {
            gap = Math.max(gap, candScore.applyAsDouble(m) - refBoundary);
          }
          if (!contains(candSlots, o, k, refSlots[o + m])) {
            gap = Math.max(gap, refScore.applyAsDouble(m) - candBoundary);
          }
        }
      }
      String where =
          "query "
              + q
              + ": slots "
              + Arrays.toString(Arrays.copyOfRange(candSlots, o, o + k))
              + " instead of "
              + Arrays.toString(Arrays.copyOfRange(refSlots, o, o + k));
      for (int m = 0; m + 1 < k; m++) {
        double rise = candScore.applyAsDouble(m + 1) - candScore.applyAsDouble(m);
        if (rise > gap) {
          gap = rise;
          where =
              "query "
                  + q
                  + " position "
                  + (m + 1)
                  + ": slot "
                  + candSlots[o + m + 1]
                  + " ranked below slot "
                  + candSlots[o + m]
                  + " but scores higher";
        }
      }
      if (Double.isNaN(gap)) {
        gap = Double.POSITIVE_INFINITY;
      }
      maxGap = Math.max(maxGap, gap);
      if (gap <= tieEpsilon) {
        tieQ++;
        if (setDiffers) {
          setQ++;
          if (setChangingTies != null) {
            setChangingTies[q] = true;
          }
        }
      } else {
        misQ++;
        if (first == null) {
          first = where + " (gap " + gap + ")";
        }
      }
    }
    int compared = queries - downQ;
    return new RetrievalComparison(
        layer,
        queries,
        k,
        identical,
        tieQ,
        misQ,
        downQ,
        compared == 0 ? 1.0 : identical / (double) compared,
        setQ,
        tieEpsilon,
        maxGap,
        scores != null ? "golden" : "weights",
        misQ == 0,
        first);
  }

  private static double logOf(double w) {
    return Math.log(Math.max(w, Double.MIN_NORMAL));
  }

  private static boolean contains(long[] slots, int from, int k, long slot) {
    for (int m = from; m < from + k; m++) {
      if (slots[m] == slot) {
        return true;
      }
    }
    return false;
  }

  /**
   * Without golden scores: the shift that puts the candidate's log-weights on the reference's
   * scale, the mean difference over the slots both hold (0 when they share none).
   */
  private static double offset(
      long[] candSlots, double[] candWeights, long[] refSlots, double[] refWeights, int o, int k) {
    double sum = 0;
    int n = 0;
    for (int m = 0; m < k; m++) {
      for (int r = 0; r < k; r++) {
        if (refSlots[o + r] == candSlots[o + m]) {
          sum += logOf(refWeights[o + r]) - logOf(candWeights[o + m]);
          n++;
          break;
        }
      }
    }
    return n == 0 ? 0 : sum / n;
  }
}
