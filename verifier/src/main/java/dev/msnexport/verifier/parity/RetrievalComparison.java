package dev.msnexport.verifier.parity;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Arrays;

/**
 * Retrieval parity of one MSN layer: per query, the k slots of the candidate against the
 * reference's, position by position (both are sorted by descending score). A differing position
 * is a tie when the two slots' scores differ by at most {@code tie_epsilon} (the reference's
 * scores when the golden model ran, else the log-ratio of the two weights), and a real mismatch
 * otherwise. Ties are reported apart: they are legitimate orderings, not bugs.
 * {@code min_tie_epsilon_to_pass} is the largest score gap at any differing position: the
 * smallest tie_epsilon under which every differing position would have been a tie (0 when all
 * slots are identical).
 *
 * <p>A tie that changes a query's slot <em>set</em> (a different slot at the top-k boundary, not
 * just a different order) makes its sample diverge from the reference: its later layers see other
 * inputs. Queries of samples that diverged in an earlier layer are <em>downstream of a tie</em>:
 * counted in {@code downstream_queries}, neither compared nor failing.
 */
@JsonPropertyOrder({"layer", "queries", "k", "identical_queries", "tie_queries", "mismatched_queries", "downstream_queries",
    "identical_fraction", "tie_positions", "mismatched_positions", "set_changing_tie_queries", "tie_epsilon", "min_tie_epsilon_to_pass",
    "score_source", "pass", "first_mismatch"})
public record RetrievalComparison(int layer, int queries, int k, int identical_queries, int tie_queries, int mismatched_queries,
    int downstream_queries, double identical_fraction, int tie_positions, int mismatched_positions, int set_changing_tie_queries,
    double tie_epsilon, double min_tie_epsilon_to_pass, String score_source, boolean pass, String first_mismatch) {

  /** Scores a slot for query q, or null when no reference scores are available. */
  public interface SlotScores {
    double score(int query, long slot);
  }

  public static RetrievalComparison of(int layer, int k, long[] candSlots, double[] candWeights, long[] refSlots, double[] refWeights,
      SlotScores scores, double tieEpsilon) {
    return of(layer, k, candSlots, candWeights, refSlots, refWeights, scores, tieEpsilon, null, null);
  }

  /**
   * As above. {@code downstream[q]} (may be null) marks queries downstream of a tie: skipped.
   * {@code setChangingTies[q]} (may be null) is set for every query whose slots differ by ties
   * only and whose slot set differs from the reference's.
   */
  public static RetrievalComparison of(int layer, int k, long[] candSlots, double[] candWeights, long[] refSlots, double[] refWeights,
      SlotScores scores, double tieEpsilon, boolean[] downstream, boolean[] setChangingTies) {
    int queries = refSlots.length / k;
    int identical = 0;
    int tieQ = 0;
    int misQ = 0;
    int downQ = 0;
    int tieP = 0;
    int misP = 0;
    int setQ = 0;
    String first = null;
    double maxGap = 0;
    long[] a = new long[k];
    long[] b = new long[k];
    for (int q = 0; q < queries; q++) {
      if (downstream != null && downstream[q]) {
        downQ++;
        continue;
      }
      boolean anyTie = false;
      boolean anyMis = false;
      for (int m = 0; m < k; m++) {
        int i = q * k + m;
        long c = candSlots[i];
        long r = refSlots[i];
        if (c == r) {
          continue;
        }
        double gap;
        if (scores != null && c >= 0) {
          gap = Math.abs(scores.score(q, r) - scores.score(q, c));
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
            first = "query " + q + " position " + m + ": slot " + c + " instead of " + r + " (score gap " + gap + ")";
          }
        }
      }
      if (anyMis) {
        misQ++;
      } else if (anyTie) {
        tieQ++;
        System.arraycopy(candSlots, q * k, a, 0, k);
        System.arraycopy(refSlots, q * k, b, 0, k);
        Arrays.sort(a);
        Arrays.sort(b);
        if (!Arrays.equals(a, b)) {
          setQ++;
          if (setChangingTies != null) {
            setChangingTies[q] = true;
          }
        }
      } else {
        identical++;
      }
    }
    int compared = queries - downQ;
    return new RetrievalComparison(layer, queries, k, identical, tieQ, misQ, downQ, compared == 0 ? 1.0 : identical / (double) compared,
        tieP, misP, setQ, tieEpsilon, maxGap, scores != null ? "golden" : "weights", misQ == 0, first);
  }
}
