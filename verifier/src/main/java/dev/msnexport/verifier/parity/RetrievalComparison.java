package dev.msnexport.verifier.parity;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * Retrieval parity of one MSN layer: per query, the k slots of the candidate against the
 * reference's, position by position (both are sorted by descending score). A differing position
 * is a tie when the two slots' scores differ by at most {@code tie_epsilon} (the reference's
 * scores when the golden model ran, else the log-ratio of the two weights), and a real mismatch
 * otherwise. Ties are reported apart: they are legitimate orderings, not bugs.
 * {@code min_tie_epsilon_to_pass} is the largest score gap at any differing position: the
 * smallest tie_epsilon under which every differing position would have been a tie (0 when all
 * slots are identical).
 */
@JsonPropertyOrder({"layer", "queries", "k", "identical_queries", "tie_queries", "mismatched_queries", "identical_fraction",
    "tie_positions", "mismatched_positions", "tie_epsilon", "min_tie_epsilon_to_pass", "score_source", "pass", "first_mismatch"})
public record RetrievalComparison(int layer, int queries, int k, int identical_queries, int tie_queries, int mismatched_queries,
    double identical_fraction, int tie_positions, int mismatched_positions, double tie_epsilon, double min_tie_epsilon_to_pass,
    String score_source, boolean pass,
    String first_mismatch) {

  /** Scores a slot for query q, or null when no reference scores are available. */
  public interface SlotScores {
    double score(int query, long slot);
  }

  public static RetrievalComparison of(int layer, int k, long[] candSlots, double[] candWeights, long[] refSlots, double[] refWeights,
      SlotScores scores, double tieEpsilon) {
    return of(layer, k, candSlots, candWeights, refSlots, refWeights, scores, tieEpsilon, null);
  }

  /** As above; sets {@code tieQueries[q]} for every query whose slots differ by ties only. */
  public static RetrievalComparison of(int layer, int k, long[] candSlots, double[] candWeights, long[] refSlots, double[] refWeights,
      SlotScores scores, double tieEpsilon, boolean[] tieQueries) {
    int queries = refSlots.length / k;
    int identical = 0;
    int tieQ = 0;
    int misQ = 0;
    int tieP = 0;
    int misP = 0;
    String first = null;
    double maxGap = 0;
    for (int q = 0; q < queries; q++) {
      boolean anyTie = false;
      boolean anyMis = false;
      for (int m = 0; m < k; m++) {
        int i = q * k + m;
        long a = candSlots[i];
        long r = refSlots[i];
        if (a == r) {
          continue;
        }
        double gap;
        if (scores != null && a >= 0) {
          gap = Math.abs(scores.score(q, r) - scores.score(q, a));
        } else {
          gap = Math.abs(Math.log(Math.max(candWeights[i], Double.MIN_NORMAL)) - Math.log(Math.max(refWeights[i], Double.MIN_NORMAL)));
        }
        maxGap = Math.max(maxGap, Double.isNaN(gap) ? Double.POSITIVE_INFINITY : gap);
        if (gap <= tieEpsilon) {
          anyTie = true;
          tieP++;
        } else {
          anyMis = true;
          misP++;
          if (first == null) {
            first = "query " + q + " position " + m + ": slot " + a + " instead of " + r + " (score gap " + gap + ")";
          }
        }
      }
      if (anyMis) {
        misQ++;
      } else if (anyTie) {
        tieQ++;
        if (tieQueries != null) {
          tieQueries[q] = true;
        }
      } else {
        identical++;
      }
    }
    return new RetrievalComparison(layer, queries, k, identical, tieQ, misQ, queries == 0 ? 1.0 : identical / (double) queries, tieP,
        misP, tieEpsilon, maxGap, scores != null ? "golden" : "weights", misQ == 0, first);
  }
}
