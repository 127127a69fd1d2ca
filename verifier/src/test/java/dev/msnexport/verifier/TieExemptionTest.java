package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.HostTensor;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.parity.Tolerance;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Ties and what lies downstream of them. B = 2 samples, T = 2 tokens, k = 2, two MSN layers: sample
 * b owns queries 2b and 2b+1 of each layer. A tie that changes a query's slot set makes its sample
 * diverge: its later layers and its task outputs are exempt; a tie that only reorders slots exempts
 * nothing.
 */
class TieExemptionTest {
  static final Verifier.Tolerances TOL =
      new Verifier.Tolerances(new Tolerance(1e-5, 0, 1e-3), Map.of(), Map.of());

  static final long[] REF_SLOTS0 = {1, 2, 3, 4, 5, 6, 7, 8};
  static final double[] REF_W0 = {0.6, 0.4, 0.7, 0.3, 0.5, 0.5, 0.9, 0.1};
  static final long[] REF_SLOTS1 = {11, 12, 13, 14, 15, 16, 17, 18};
  static final double[] REF_W1 = {0.8, 0.2, 0.6, 0.4, 0.7, 0.3, 0.9, 0.1};

  static Map<String, HostTensor> outputs(
      double[] click, long[] slots0, double[] w0, long[] slots1, double[] w1) {
    Map<String, HostTensor> m = new LinkedHashMap<>();
    m.put("click", HostTensor.ofFloats("click", new long[] {2, 1}, click));
    m.put("retrieval.0.slots", HostTensor.ofInts("retrieval.0.slots", new long[] {4, 2}, slots0));
    m.put("retrieval.0.weights", HostTensor.ofFloats("retrieval.0.weights", new long[] {4, 2}, w0));
    m.put("retrieval.1.slots", HostTensor.ofInts("retrieval.1.slots", new long[] {4, 2}, slots1));
    m.put("retrieval.1.weights", HostTensor.ofFloats("retrieval.1.weights", new long[] {4, 2}, w1));
    return m;
  }

  static Map<String, HostTensor> reference() {
    return outputs(new double[] {0.25, 0.5}, REF_SLOTS0, REF_W0, REF_SLOTS1, REF_W1);
  }

  /** The candidate's outputs compared with {@link #reference()} under {@link #TOL}. */
  static VerifyReport.Comparison compareWithReference(
      double[] click, long[] slots0, double[] w0, long[] slots1, double[] w1) {
    return Verifier.compare(
        "cand", outputs(click, slots0, w0, slots1, w1), "ref", reference(), null, TOL);
  }

  static OutputComparison output(VerifyReport.Comparison c, String name) {
    return c.outputs().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void setChangingTieExemptsItsSampleDownstream() {
    // layer 0, query 2 (sample 1): slot 9 instead of 6 at the boundary, same weight: a tie that
    // changes the set.
    long[] slots0 = {1, 2, 3, 4, 5, 9, 7, 8};
    // downstream in layer 1, sample 1 retrieves other slots with other weights, and its click moves
    // by 0.1
    long[] slots1 = {11, 12, 13, 14, 25, 26, 27, 28};
    double[] w1 = {0.8, 0.2, 0.6, 0.4, 0.95, 0.05, 0.55, 0.45};
    VerifyReport.Comparison c =
        compareWithReference(new double[] {0.25, 0.6}, slots0, REF_W0, slots1, w1);
    assertTrue(c.pass(), c.toString());
    RetrievalComparison l0 = c.retrieval().get(0);
    RetrievalComparison l1 = c.retrieval().get(1);
    assertEquals(1, l0.tie_queries());
    assertEquals(1, l0.set_changing_tie_queries());
    assertEquals(0, l0.downstream_queries());
    assertEquals(2, l1.downstream_queries()); // queries 2 and 3: sample 1
    assertEquals(2, l1.identical_queries());
    assertEquals(0, l1.mismatched_queries());
    assertEquals(1, output(c, "click").tie_exempt_elements());
    assertEquals(0.1, output(c, "click").tie_exempt_max_abs(), 1e-12);
    assertEquals(
        2, output(c, "retrieval.0.weights").tie_exempt_elements()); // query 2: its slot set changed
    assertEquals(4, output(c, "retrieval.1.weights").tie_exempt_elements());
  }

  @Test
  void reorderingTieExemptsNothing() {
    // query 2 swaps two slots of equal weight: a tie, but the same set, so sample 1's click must
    // match
    long[] slots0 = {1, 2, 3, 4, 6, 5, 7, 8};
    VerifyReport.Comparison c =
        compareWithReference(new double[] {0.25, 0.6}, slots0, REF_W0, REF_SLOTS1, REF_W1);
    assertFalse(c.pass());
    assertEquals(1, c.retrieval().get(0).tie_queries());
    assertEquals(0, c.retrieval().get(0).set_changing_tie_queries());
    assertEquals(0, output(c, "click").tie_exempt_elements());
    assertFalse(output(c, "click").pass());
    assertEquals(1, output(c, "click").worst_index());
  }

  @Test
  void errorInASampleWithoutTiesStillFails() {
    long[] slots0 = {1, 2, 3, 4, 5, 9, 7, 8}; // sample 1 diverges, but the error is in sample 0
    VerifyReport.Comparison c =
        compareWithReference(new double[] {0.35, 0.5}, slots0, REF_W0, REF_SLOTS1, REF_W1);
    assertFalse(c.pass());
    assertEquals(0, output(c, "click").worst_index());
  }

  @Test
  void mismatchIsNotATieAndExemptsNothing() {
    double[] w0 = REF_W0.clone();
    w0[4] = 0.9; // slot 9 with a far larger weight: a real mismatch, not a tie
    w0[5] = 0.1;
    long[] slots0 = {1, 2, 3, 4, 9, 6, 7, 8};
    VerifyReport.Comparison c =
        compareWithReference(new double[] {0.25, 0.6}, slots0, w0, REF_SLOTS1, REF_W1);
    assertFalse(c.pass());
    assertEquals(1, c.retrieval().get(0).mismatched_queries());
    assertEquals(0, c.retrieval().get(1).downstream_queries());
    assertEquals(0, output(c, "click").tie_exempt_elements());
  }

  @Test
  void weightsToleranceFollowsTieEpsilon() {
    // scores that may move by tie_epsilon move a weight w by up to about 2 * tie_epsilon * w
    Verifier.Tolerances t =
        new Verifier.Tolerances(new Tolerance(5e-3, 1e-2, 0.2), Map.of(), Map.of());
    assertEquals(0.4, t.rtolFor("retrieval.0.weights"), 0);
    assertEquals(1e-2, t.rtolFor("click"), 0);
    Verifier.Tolerances named =
        new Verifier.Tolerances(
            new Tolerance(5e-3, 1e-2, 0.2), Map.of(), Map.of("retrieval.0.weights", 1e-3));
    assertEquals(1e-3, named.rtolFor("retrieval.0.weights"), 0);
  }
}
