package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.profiles.Profile;
import dev.msnexport.verifier.backend.HostTensor;
import dev.msnexport.verifier.parity.OutputComparison;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A candidate whose retrieval differs from the reference's by a tie in one sample: that sample's
 * task outputs and retrieval weights are exempt from the float check, the other samples are not.
 */
class TieExemptionTest {
  static final Verifier.Tolerances TOL = new Verifier.Tolerances(new Profile.Tolerance(1e-5, 0, 1e-3), Map.of(), Map.of());

  /** B = 2 samples, T = 2 tokens, k = 2: queries 0..3, sample b owns queries 2b and 2b+1. */
  static Map<String, HostTensor> outputs(double click1, long[] slots, double[] weights) {
    Map<String, HostTensor> m = new LinkedHashMap<>();
    m.put("click", HostTensor.ofFloats("click", new long[] {2, 1}, new double[] {0.25, click1}));
    m.put("retrieval.0.slots", HostTensor.ofInts("retrieval.0.slots", new long[] {4, 2}, slots));
    m.put("retrieval.0.weights", HostTensor.ofFloats("retrieval.0.weights", new long[] {4, 2}, weights));
    return m;
  }

  static final long[] REF_SLOTS = {1, 2, 3, 4, 5, 6, 7, 8};
  static final double[] REF_W = {0.6, 0.4, 0.7, 0.3, 0.5, 0.5, 0.9, 0.1};

  @Test
  void tieInOneSampleExemptsThatSampleOnly() {
    // query 2 (sample 1) swaps two slots of equal weight: a tie; sample 1's click moves by 0.1
    long[] slots = {1, 2, 3, 4, 6, 5, 7, 8};
    VerifyReport.Comparison c = Verifier.compare("cand", outputs(0.6, slots, REF_W), "ref", outputs(0.5, REF_SLOTS, REF_W), null, TOL);
    assertTrue(c.pass(), c.toString());
    assertEquals(1, c.retrieval().get(0).tie_queries());
    OutputComparison click = c.outputs().stream().filter(o -> o.name().equals("click")).findFirst().orElseThrow();
    assertEquals(1, click.tie_exempt_elements());
    assertEquals(0.1, click.tie_exempt_max_abs(), 1e-12);
    assertEquals(0, click.max_abs(), 0);
    OutputComparison w = c.outputs().stream().filter(o -> o.name().equals("retrieval.0.weights")).findFirst().orElseThrow();
    assertEquals(4, w.tie_exempt_elements()); // queries 2 and 3 (sample 1), k = 2 each
  }

  @Test
  void errorInASampleWithoutTiesStillFails() {
    long[] slots = {1, 2, 3, 4, 6, 5, 7, 8}; // tie in sample 1, but the error is in sample 0
    VerifyReport.Comparison c = Verifier.compare("cand", withClick0(outputs(0.5, slots, REF_W), 0.35), "ref",
        outputs(0.5, REF_SLOTS, REF_W), null, TOL);
    assertFalse(c.pass());
    OutputComparison click = c.outputs().stream().filter(o -> o.name().equals("click")).findFirst().orElseThrow();
    assertEquals(0, click.worst_index());
  }

  @Test
  void mismatchIsNotATieAndExemptsNothing() {
    double[] w = REF_W.clone();
    w[4] = 0.9; // slot 6 with a far larger weight: a real mismatch, not a tie
    w[5] = 0.1;
    long[] slots = {1, 2, 3, 4, 6, 5, 7, 8};
    VerifyReport.Comparison c = Verifier.compare("cand", outputs(0.6, slots, w), "ref", outputs(0.5, REF_SLOTS, REF_W), null, TOL);
    assertFalse(c.pass());
    assertEquals(1, c.retrieval().get(0).mismatched_queries());
    OutputComparison click = c.outputs().stream().filter(o -> o.name().equals("click")).findFirst().orElseThrow();
    assertEquals(0, click.tie_exempt_elements());
    assertFalse(click.pass());
  }

  static Map<String, HostTensor> withClick0(Map<String, HostTensor> m, double click0) {
    double[] v = m.get("click").floats().clone();
    v[0] = click0;
    m.put("click", HostTensor.ofFloats("click", new long[] {2, 1}, v));
    return m;
  }
}
