package dev.msnexport.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.HostTensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules on synthetic runs through plain arrays (as trt-plugins' GPU tests call them). Three
 * samples, one token each, k = 3, two MSN layers: query q is sample q in each layer.
 */
class RunComparisonTest {
  static final Tolerance TOL = new Tolerance(1e-5, 0, 0.01);
  static final ParityTolerances PLAIN = ParityTolerances.of(TOL, Map.of(), Map.of());

  /** A run: task output "finish" [3, 1], then layers 0 and 1 ([3, 3] slots and weights each). */
  static Map<String, HostTensor> run(
      float[] finish, long[] slots0, float[] w0, long[] slots1, float[] w1) {
    Map<String, HostTensor> m = new LinkedHashMap<>();
    m.put("finish", HostTensor.ofFloats("finish", new long[] {3, 1}, finish));
    m.put(
        RunComparison.slotsOutput(0),
        HostTensor.ofInts(RunComparison.slotsOutput(0), new long[] {3, 3}, slots0));
    m.put(
        RunComparison.weightsOutput(0),
        HostTensor.ofFloats(RunComparison.weightsOutput(0), new long[] {3, 3}, w0));
    m.put(
        RunComparison.slotsOutput(1),
        HostTensor.ofInts(RunComparison.slotsOutput(1), new long[] {3, 3}, slots1));
    m.put(
        RunComparison.weightsOutput(1),
        HostTensor.ofFloats(RunComparison.weightsOutput(1), new long[] {3, 3}, w1));
    return m;
  }

  static final float[] FINISH = {0.1f, 0.2f, 0.3f};
  static final long[] SLOTS0 = {10, 11, 12, 20, 21, 22, 30, 31, 32};
  static final float[] W0 = {0.5f, 0.3f, 0.2f, 0.4f, 0.35f, 0.25f, 0.6f, 0.3f, 0.1f};
  static final long[] SLOTS1 = {40, 41, 42, 50, 51, 52, 60, 61, 62};
  static final float[] W1 = {0.7f, 0.2f, 0.1f, 0.5f, 0.3f, 0.2f, 0.4f, 0.4f, 0.2f};
  static final Map<String, HostTensor> REF = run(FINISH, SLOTS0, W0, SLOTS1, W1);

  static OutputComparison output(RunComparison c, String name) {
    return c.outputs().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void identicalRunsPass() {
    RunComparison c = RunComparison.of(REF, REF, null, PLAIN);
    assertTrue(c.pass());
    assertEquals(List.of(), c.failures());
    assertEquals(2, c.retrieval().size());
    assertEquals(3, c.retrieval().get(0).identical_queries());
    assertEquals(3, c.outputs().size());
    assertEquals("weights", c.retrieval().get(0).score_source());
  }

  @Test
  void setChangingTieExemptsWhatLiesDownstream() {
    // sample 1, layer 0: slot 29 takes the place of slot 22 at the boundary with the same weight (a
    // tie that changes the set); downstream, its layer-1 slots, weights and finish all differ.
    long[] slots0 = {10, 11, 12, 20, 21, 29, 30, 31, 32};
    long[] slots1 = {40, 41, 42, 55, 56, 57, 60, 61, 62};
    float[] w1 = W1.clone();
    w1[3] = 0.9f;
    w1[4] = 0.05f;
    w1[5] = 0.05f;
    float[] finish = {0.1f, 0.7f, 0.3f};
    RunComparison c = RunComparison.of(run(finish, slots0, W0, slots1, w1), REF, null, PLAIN);
    assertTrue(c.pass(), String.join("\n", c.failures()));
    RetrievalComparison l0 = c.retrieval().get(0);
    assertEquals(1, l0.tie_queries());
    assertEquals(1, l0.set_changing_tie_queries());
    assertEquals(2, l0.identical_queries());
    RetrievalComparison l1 = c.retrieval().get(1);
    assertEquals(1, l1.downstream_queries());
    assertEquals(2, l1.identical_queries());
    assertEquals(1, output(c, "finish").tie_exempt_elements());
    assertEquals(0.5, output(c, "finish").tie_exempt_max_abs(), 1e-6);
    assertEquals(
        3, output(c, RunComparison.weightsOutput(0)).tie_exempt_elements()); // query 1's row
    assertEquals(3, output(c, RunComparison.weightsOutput(1)).tie_exempt_elements());
    // the same error in a sample without a tie fails, and says where
    float[] finishBad = {0.1f, 0.2f, 0.8f};
    RunComparison bad = RunComparison.of(run(finishBad, slots0, W0, SLOTS1, W1), REF, null, PLAIN);
    assertFalse(bad.pass());
    assertEquals(2, output(bad, "finish").worst_index());
    assertEquals(1, bad.failures().size(), bad.failures().toString());
    assertTrue(bad.failures().get(0).startsWith("finish: 1 of 3 elements"), bad.failures().get(0));
  }

  @Test
  void reorderingTieExemptsNothing() {
    // sample 2 swaps two slots of equal weight: a tie within the same set, so its finish must still
    // match
    long[] slots0 = {10, 11, 12, 20, 21, 22, 31, 30, 32};
    float[] w0 = W0.clone();
    w0[6] = 0.45f;
    w0[7] = 0.45f;
    float[] wRef = W0.clone();
    wRef[6] = 0.45f;
    wRef[7] = 0.45f;
    Map<String, HostTensor> ref = run(FINISH, SLOTS0, wRef, SLOTS1, W1);
    RunComparison c =
        RunComparison.of(
            run(new float[] {0.1f, 0.2f, 0.35f}, slots0, w0, SLOTS1, W1), ref, null, PLAIN);
    assertEquals(1, c.retrieval().get(0).tie_queries());
    assertEquals(0, c.retrieval().get(0).set_changing_tie_queries());
    assertEquals(0, c.retrieval().get(1).downstream_queries());
    assertEquals(0, output(c, "finish").tie_exempt_elements());
    assertFalse(c.pass());
  }

  @Test
  void realMismatchFailsAndExemptsNothing() {
    // sample 0, layer 0: slot 19 with a far larger weight than the slot 12 it replaced
    long[] slots0 = {19, 10, 11, 20, 21, 22, 30, 31, 32};
    float[] w0 = {0.8f, 0.15f, 0.05f, 0.4f, 0.35f, 0.25f, 0.6f, 0.3f, 0.1f};
    RunComparison c = RunComparison.of(run(FINISH, slots0, w0, SLOTS1, W1), REF, null, PLAIN);
    assertFalse(c.pass());
    assertEquals(1, c.retrieval().get(0).mismatched_queries());
    assertEquals(0, c.retrieval().get(1).downstream_queries());
    assertEquals(0, output(c, "finish").tie_exempt_elements());
    List<String> f = c.failures();
    assertTrue(
        f.get(0)
            .startsWith("retrieval.0.slots: 1 of 3 queries differ beyond ties (tie_epsilon 0.0100"),
        f.get(0));
    assertTrue(f.get(0).contains("first: query 0"), f.get(0));
  }

  @Test
  void goldenScoresClassifyTies() {
    // slot 29 replaces slot 22 with a far smaller weight, but the golden scores of both are equal
    long[] slots0 = {10, 11, 12, 20, 21, 29, 30, 31, 32};
    float[] w0 = W0.clone();
    w0[5] = 0.01f;
    RetrievalComparison.SlotScores equal = (q, slot) -> slot == 29 || slot == 22 ? 1.0 : 2.0;
    RunComparison byScores =
        RunComparison.of(
            run(FINISH, slots0, w0, SLOTS1, W1), REF, layer -> layer == 0 ? equal : null, PLAIN);
    assertEquals("golden", byScores.retrieval().get(0).score_source());
    assertEquals("weights", byScores.retrieval().get(1).score_source());
    assertTrue(byScores.retrieval().get(0).pass());
    assertFalse(
        RunComparison.of(run(FINISH, slots0, w0, SLOTS1, W1), REF, null, PLAIN)
            .retrieval()
            .get(0)
            .pass());
  }

  @Test
  void weightsToleranceIsAtLeastTwiceTieEpsilon() {
    // rtol 0, tie_epsilon 0.01: a weight may move by 2% of itself (1.5% passes, 2.5% fails); other
    // outputs not at all
    float[] w0 = W0.clone();
    w0[0] = 0.5f * 1.015f;
    assertTrue(RunComparison.of(run(FINISH, SLOTS0, w0, SLOTS1, W1), REF, null, PLAIN).pass());
    w0[0] = 0.5f * 1.025f;
    RunComparison beyond = RunComparison.of(run(FINISH, SLOTS0, w0, SLOTS1, W1), REF, null, PLAIN);
    assertFalse(beyond.pass());
    assertEquals(0.02, output(beyond, RunComparison.weightsOutput(0)).rtol(), 0);
    assertEquals(0, output(beyond, "finish").rtol(), 0);
    // an rtol for every output still leaves the weights at 2 * tie_epsilon at least; one by name
    // wins
    ParityTolerances all = ParityTolerances.of(TOL, Map.of("", 1e-4), Map.of("", 0.0));
    assertEquals(0.02, all.rtolFor("retrieval.1.weights"), 0);
    assertEquals(1e-4, all.atolFor("finish"), 0);
    ParityTolerances named = ParityTolerances.of(TOL, Map.of(), Map.of("retrieval.1.weights", 0.5));
    assertEquals(0.5, named.rtolFor("retrieval.1.weights"), 0);
    assertEquals(0.02, named.rtolFor("retrieval.0.weights"), 0);
    assertEquals(1e-5, named.atolFor("retrieval.0.weights"), 0);
  }

  @Test
  void nonFiniteCandidateValuesFailEvenWhenExempt() {
    long[] slots0 = {10, 11, 12, 20, 21, 29, 30, 31, 32}; // sample 1 diverges
    float[] finish = {0.1f, Float.NaN, 0.3f};
    RunComparison c = RunComparison.of(run(finish, slots0, W0, SLOTS1, W1), REF, null, PLAIN);
    assertFalse(c.pass());
    assertEquals(1, output(c, "finish").non_finite());
    assertTrue(c.failures().get(0).contains("(1 non-finite)"), c.failures().get(0));
  }

  @Test
  void sizeMismatchNamesTheOutput() {
    Map<String, HostTensor> cand = new LinkedHashMap<>(REF);
    cand.put("finish", HostTensor.ofFloats("finish", new long[] {2, 1}, new float[] {0.1f, 0.2f}));
    RunComparison.SizeMismatch e =
        assertThrows(
            RunComparison.SizeMismatch.class, () -> RunComparison.of(cand, REF, null, PLAIN));
    assertEquals("finish", e.output());
    assertEquals(2, e.candidate());
    assertEquals(3, e.reference());
  }

  @Test
  void plainArraysAreParityTensors() {
    HostTensor f = HostTensor.ofFloats("x", new long[] {2}, new float[] {0.5f, -1.25f});
    assertFalse(f.isInteger());
    assertEquals(2, f.size());
    assertEquals(-1.25, f.floats()[1], 0);
    HostTensor i = HostTensor.ofInts("s", new long[] {1, 3}, new long[] {4, 5, 6});
    assertTrue(i.isInteger());
    assertEquals(3, i.size());
    assertThrows(
        IllegalArgumentException.class, () -> new HostTensor("n", new long[] {1}, null, null));
  }
}
