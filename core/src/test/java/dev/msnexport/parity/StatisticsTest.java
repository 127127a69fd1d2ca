package dev.msnexport.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Every statistic against values computed by hand. */
class StatisticsTest {
  @Test
  void outputStatisticsByHand() {
    double[] ref = {1, 2, -4, 0.5};
    double[] cand = {1, 2.1, -4.4, 0.5};
    // abs errors 0, 0.1, 0.4, 0; rel 0, 0.05, 0.1, 0
    OutputComparison c = OutputComparison.of("o", new long[] {4}, cand, ref, 0.2, 0.0501);
    assertEquals(0.4, c.max_abs(), 1e-12);
    assertEquals(0.125, c.mean_abs(), 1e-12);
    assertEquals(0.05, c.median_abs(), 1e-12); // numpy: (0 + 0.1) / 2
    assertEquals(0.1 + 0.97 * 0.3, c.p99_abs(), 1e-12); // sorted 0,0,0.1,0.4; pos 2.97
    assertEquals(0.1, c.max_rel(), 1e-12);
    assertEquals(0.0375, c.mean_rel(), 1e-12);
    // element 2: 0.4 <= 0.2 + 0.0501*4: passes
    assertTrue(c.pass());
    assertEquals(0, c.failing_elements());
    double dot = 1 + 4.2 + 17.6 + 0.25;
    double cos = dot / Math.sqrt((1 + 4.41 + 19.36 + 0.25) * (1 + 4 + 16 + 0.25));
    assertEquals(cos, c.cosine(), 1e-12);
    assertEquals(0.4 - 0.0501 * 4, c.min_atol_to_pass(), 1e-12); // max(e - rtol|b|)
    assertEquals(0.05, c.min_rtol_to_pass(), 1e-12); // max((e - atol)/|b|) = (0.4 - 0.2) / 4
    assertEquals(2, c.histogram().get(0).count());
    // |2.1 - 2| is 0.10000000000000009 in doubles: just above 1e-1, like 0.4
    assertEquals(
        2,
        c.histogram().stream()
            .filter(b -> b.range().equals("(1e-01, inf]"))
            .findFirst()
            .orElseThrow()
            .count());
    assertEquals(4, c.histogram().stream().mapToInt(OutputComparison.Bin::count).sum());

    OutputComparison tight = OutputComparison.of("o", new long[] {4}, cand, ref, 0.2, 0.0);
    assertFalse(tight.pass());
    assertEquals(1, tight.failing_elements());
    assertEquals(2, tight.worst_index());
  }

  @Test
  void tieExemptSamplesAreLeftOutOfVerdictAndStatistics() {
    // [3, 2]: sample 1 (elements 2, 3) is tie-exempt and holds the only large error
    double[] ref = {1, 2, 3, 4, 5, 6};
    double[] cand = {1, 2.01, 3.5, 4, 5, 6};
    boolean[] exempt = {false, true, false};
    OutputComparison c = OutputComparison.of("o", new long[] {3, 2}, cand, ref, 0.02, 0, exempt);
    assertTrue(c.pass());
    assertEquals(6, c.elements());
    assertEquals(2, c.tie_exempt_elements());
    assertEquals(0.5, c.tie_exempt_max_abs(), 1e-12);
    assertEquals(0.01, c.max_abs(), 1e-12); // statistics over the 4 kept elements
    assertEquals(4, c.histogram().stream().mapToInt(OutputComparison.Bin::count).sum());
    assertEquals(1, c.worst_index()); // an index into the full output
    OutputComparison strict = OutputComparison.of("o", new long[] {3, 2}, cand, ref, 0.02, 0, null);
    assertFalse(strict.pass());
    assertEquals(2, strict.worst_index());
    assertEquals(0, strict.tie_exempt_elements());
    // a non-finite value is never exempt
    OutputComparison nan =
        OutputComparison.of(
            "o", new long[] {3, 2}, new double[] {1, 2, Double.NaN, 4, 5, 6}, ref, 1, 0, exempt);
    assertFalse(nan.pass());
    assertEquals(1, nan.tie_exempt_elements());
  }

  @Test
  void nonFiniteAlwaysFails() {
    OutputComparison c =
        OutputComparison.of(
            "o", new long[] {2}, new double[] {Double.NaN, 1}, new double[] {1, 1}, 1e9, 1e9);
    assertFalse(c.pass());
    assertEquals(1, c.non_finite());
    OutputComparison inf =
        OutputComparison.of(
            "o",
            new long[] {1},
            new double[] {Double.POSITIVE_INFINITY},
            new double[] {Double.POSITIVE_INFINITY},
            1e9,
            1e9);
    assertFalse(inf.pass());
  }

  @Test
  void percentilesInterpolateLikeNumpy() {
    double[] v = {1, 2, 3, 4, 5};
    assertEquals(3, Stats.percentileSorted(v, 50), 0);
    assertEquals(4.96, Stats.percentileSorted(v, 99), 1e-12);
    assertEquals(1, Stats.percentileSorted(v, 0), 0);
    assertEquals(5, Stats.percentileSorted(v, 100), 0);
  }

  /**
   * Layer 0, k = 2, without reference scores (ranked by weights) against the reference slots 5 and
   * 1 weighted 0.6 and 0.4.
   */
  private static RetrievalComparison versusFiveAndOne(long[] slots, double... weights) {
    return RetrievalComparison.of(
        0, 2, slots, weights, new long[] {5, 1}, new double[] {0.6, 0.4}, null, 1e-6, null, null);
  }

  @Test
  void tiesAreTiesAndMismatchesAreNot() {
    // two queries, k = 2. Scores: query 0 slots 5 and 7 tie; query 1 slot 9 is far worse than 3.
    RetrievalComparison.SlotScores scores =
        (q, slot) ->
            switch ((int) slot) {
              case 5, 7 -> 1.0;
              case 9 -> -3.0;
              default -> 0.5;
            };
    long[] ref = {5, 1, 3, 2};
    long[] cand = {7, 1, 9, 2};
    double[] w = {0.5, 0.5, 0.5, 0.5};
    RetrievalComparison r = RetrievalComparison.of(0, 2, cand, w, ref, w, scores, 1e-6, null, null);
    assertEquals(0, r.identical_queries());
    assertEquals(1, r.tie_queries());
    assertEquals(1, r.mismatched_queries());
    assertEquals(
        3.5, r.min_tie_epsilon_to_pass(), 1e-12); // the mismatch: slot 9 (-3.0) instead of 3 (0.5)
    assertFalse(r.pass());
    assertTrue(r.first_mismatch().contains("query 1"), r.first_mismatch());

    RetrievalComparison onlyTie =
        RetrievalComparison.of(
            0, 2, new long[] {7, 1}, w, new long[] {5, 1}, w, scores, 1e-6, null, null);
    assertTrue(onlyTie.pass());
    // without reference scores: slot 7 replaces slot 1 at the boundary with the same weight (a tie)
    RetrievalComparison byWeights = versusFiveAndOne(new long[] {5, 7}, 0.6, 0.4);
    assertTrue(byWeights.pass());
    assertEquals(1, byWeights.set_changing_tie_queries());
    assertEquals("weights", byWeights.score_source());
    // ... with a far smaller weight than the slot it replaced: ln(0.4/0.6) - ln(0.1/0.9) = 1.79
    // apart
    RetrievalComparison byWeightsBad = versusFiveAndOne(new long[] {5, 7}, 0.9, 0.1);
    assertFalse(byWeightsBad.pass());
    assertEquals(
        Math.log(0.4 / 0.6) - Math.log(0.1 / 0.9), byWeightsBad.min_tie_epsilon_to_pass(), 1e-12);
    // ... or ranked first although the reference left it out below slot 1
    RetrievalComparison claimsTop = versusFiveAndOne(new long[] {7, 5}, 0.6, 0.4);
    assertFalse(claimsTop.pass());
  }

  @Test
  void oneNearTieInsertionIsOneTieNotAShiftedListOfMismatches() {
    // reference scores 10, 9, 8, 7.99 (slots 1, 2, 3, 4) and 7 (slot 5); k = 4. The candidate puts
    // slot 4 (7.99) above slot 3 (8): a reorder within 0.01; then drops slot 3 for slot 5: 0.99
    // apart.
    RetrievalComparison.SlotScores s =
        (q, slot) ->
            switch ((int) slot) {
              case 1 -> 10;
              case 2 -> 9;
              case 3 -> 8;
              case 4 -> 7.99;
              default -> 7;
            };
    double[] w = {0.4, 0.3, 0.2, 0.1};
    RetrievalComparison reorder =
        RetrievalComparison.of(
            0, 4, new long[] {1, 2, 4, 3}, w, new long[] {1, 2, 3, 4}, w, s, 0.02, null, null);
    assertTrue(reorder.pass());
    assertEquals(1, reorder.tie_queries());
    assertEquals(0, reorder.set_changing_tie_queries());
    assertEquals(0.01, reorder.min_tie_epsilon_to_pass(), 1e-9);
    // an insertion near the top shifts every later position, but it is one near-tie: slot 6 (9.995)
    RetrievalComparison.SlotScores s6 = (q, slot) -> slot == 6 ? 8.995 : s.score(q, slot);
    RetrievalComparison inserted =
        RetrievalComparison.of(
            0, 4, new long[] {1, 2, 6, 3}, w, new long[] {1, 2, 3, 4}, w, s6, 0.02, null, null);
    assertTrue(inserted.pass(), inserted.toString());
    assertEquals(1, inserted.set_changing_tie_queries());
    RetrievalComparison dropped =
        RetrievalComparison.of(
            0, 4, new long[] {1, 2, 4, 5}, w, new long[] {1, 2, 3, 4}, w, s, 0.02, null, null);
    assertFalse(dropped.pass());
    assertEquals(
        1.0, dropped.min_tie_epsilon_to_pass(), 1e-9); // slot 3 (8) left out for slot 5 (7)
  }
}
