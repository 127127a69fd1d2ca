package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.verifier.golden.MathFunctions;
import dev.msnexport.verifier.parity.OutputComparison;
import dev.msnexport.verifier.parity.RetrievalComparison;
import dev.msnexport.verifier.parity.Stats;
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
    assertEquals(2, c.histogram().stream().filter(b -> b.range().equals("(1e-01, inf]")).findFirst().orElseThrow().count());
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
    OutputComparison nan = OutputComparison.of("o", new long[] {3, 2}, new double[] {1, 2, Double.NaN, 4, 5, 6}, ref, 1, 0, exempt);
    assertFalse(nan.pass());
    assertEquals(1, nan.tie_exempt_elements());
  }

  @Test
  void nonFiniteAlwaysFails() {
    OutputComparison c = OutputComparison.of("o", new long[] {2}, new double[] {Double.NaN, 1}, new double[] {1, 1}, 1e9, 1e9);
    assertFalse(c.pass());
    assertEquals(1, c.non_finite());
    OutputComparison inf = OutputComparison.of("o", new long[] {1}, new double[] {Double.POSITIVE_INFINITY},
        new double[] {Double.POSITIVE_INFINITY}, 1e9, 1e9);
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

  @Test
  void tiesAreTiesAndMismatchesAreNot() {
    // two queries, k = 2. Scores: query 0 slots 5 and 7 tie; query 1 slot 9 is far worse than 3.
    RetrievalComparison.SlotScores scores = (q, slot) -> switch ((int) slot) {
      case 5, 7 -> 1.0;
      case 9 -> -3.0;
      default -> 0.5;
    };
    long[] ref = {5, 1, 3, 2};
    long[] cand = {7, 1, 9, 2};
    double[] w = {0.5, 0.5, 0.5, 0.5};
    RetrievalComparison r = RetrievalComparison.of(0, 2, cand, w, ref, w, scores, 1e-6);
    assertEquals(0, r.identical_queries());
    assertEquals(1, r.tie_queries());
    assertEquals(1, r.mismatched_queries());
    assertEquals(1, r.tie_positions());
    assertEquals(3.5, r.min_tie_epsilon_to_pass(), 1e-12); // the mismatch: slot 9 (-3.0) instead of 3 (0.5)
    assertFalse(r.pass());
    assertTrue(r.first_mismatch().contains("query 1"), r.first_mismatch());

    RetrievalComparison onlyTie = RetrievalComparison.of(0, 2, new long[] {7, 1}, w, new long[] {5, 1}, w, scores, 1e-6);
    assertTrue(onlyTie.pass());
    // without reference scores, equal weights mean equal scores
    RetrievalComparison byWeights = RetrievalComparison.of(0, 2, new long[] {7, 1}, new double[] {0.6, 0.4}, new long[] {5, 1},
        new double[] {0.6, 0.4}, null, 1e-6);
    assertTrue(byWeights.pass());
    assertEquals("weights", byWeights.score_source());
    RetrievalComparison byWeightsBad = RetrievalComparison.of(0, 2, new long[] {7, 1}, new double[] {0.9, 0.1}, new long[] {5, 1},
        new double[] {0.6, 0.4}, null, 1e-6);
    assertFalse(byWeightsBad.pass());
  }

  @Test
  void erfAgainstKnownValues() {
    // reference values: Python's math.erf (correctly rounded libm)
    assertEquals(0.0, MathFunctions.erf(0), 0);
    assertEquals(0.5204998778130465, MathFunctions.erf(0.5), 1e-15);
    assertEquals(0.8427007929497149, MathFunctions.erf(1), 1e-15);
    assertEquals(0.9953222650189527, MathFunctions.erf(2), 1e-15);
    assertEquals(0.9999779095030014, MathFunctions.erf(3), 1e-15);
    assertEquals(0.9999999845827421, MathFunctions.erf(4), 1e-15);
    assertEquals(-0.9661051464753108, MathFunctions.erf(-1.5), 1e-15);
    assertEquals(0.9995930479825550, MathFunctions.erf(2.5), 1e-15);
    assertEquals(0.9996142945182758, MathFunctions.erf(2.51), 1e-15);
    assertEquals(0.9953222650189527, MathFunctions.erf(2.0000001) - 1.0e-7 * 2 / Math.sqrt(Math.PI) * Math.exp(-4), 1e-13);
    assertEquals(1.0, MathFunctions.erf(10), 0);
  }
}
