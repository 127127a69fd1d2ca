package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The baseline gate corrected for the machine's drift (docs/robustness.md section 8): the whole
 * machine 1.45x slower than when the baseline was taken (the false alarms measured on the 2-core CI
 * machine) is no regression; one backend 20% slower while the others are not is one; a run with no
 * other backend in the baseline gates uncorrected and says so. Synthetic samples, no timing.
 */
class BaselineDriftTest {
  static final LatencyGate.Settings S = new LatencyGate.Settings(500, 0.95, 3);

  static long[] samples(long seed, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] ns = new long[2000];
    for (int i = 0; i < ns.length; i++) {
      ns[i] = Math.round(200_000 * scale * Math.exp(0.05 * r.nextGaussian()));
    }
    return ns;
  }

  static BenchResult result(String backend, long[] ns) {
    return BenchFixtures.result(backend, 64, ns);
  }

  static BenchReport report(List<BenchResult> results) {
    return BenchFixtures.report(
        BenchFixtures.settings(
            results.stream().map(BenchResult::backend).toList(), List.of(64), 0, 2000, null, null),
        true,
        results,
        List.of());
  }

  /**
   * A baseline of ort-reference and ort-custom, and a run where each is {@code ref} and {@code
   * custom} times slower.
   */
  static List<GateResult> gates(double ref, double custom, boolean correction) {
    BenchReport base =
        report(
            List.of(
                result("ort-reference", samples(1, 1.0)), result("ort-custom", samples(2, 0.7))));
    List<BenchResult> now =
        new ArrayList<>(
            List.of(
                result("ort-reference", samples(3, ref)),
                result("ort-custom", samples(4, 0.7 * custom))));
    return BenchGates.baselineGates(now, base, 0.10, S, correction);
  }

  @Test
  void aMachineSlowerAsAWholeRaisesNoAlarm() {
    for (GateResult g : gates(1.45, 1.45, true)) {
      assertEquals("pass", g.verdict(), g.message());
      assertEquals(1.45, g.machine_drift(), 0.02, g.message());
      assertTrue(g.message().contains("baseline scaled by the machine's drift"), g.message());
    }
    // uncorrected, the same run fails both gates: what the measured false alarms were
    assertTrue(gates(1.45, 1.45, false).stream().noneMatch(GateResult::pass));
    assertNull(gates(1.45, 1.45, false).get(0).machine_drift());
  }

  @Test
  void oneBackendSlowerThanTheRestFails() {
    List<GateResult> g = gates(1.0, 1.20, true);
    assertEquals("pass", g.get(0).verdict(), g.get(0).message());
    assertEquals("fail", g.get(1).verdict(), g.get(1).message());
    assertEquals(1.20, g.get(1).ratio(), 0.02);
    // also on a machine 30% slower as a whole
    g = gates(1.30, 1.30 * 1.20, true);
    assertEquals("fail", g.get(1).verdict(), g.get(1).message());
  }

  @Test
  void withoutAnotherBackendTheGateIsUncorrectedAndSaysSo() {
    BenchReport base = report(List.of(result("ort-custom", samples(2, 1.0))));
    GateResult g =
        BenchGates.baselineGates(
                List.of(result("ort-custom", samples(4, 1.45))), base, 0.10, S, true)
            .get(0);
    assertEquals("fail", g.verdict());
    assertTrue(g.message().contains("no drift correction"), g.message());
    assertEquals(1.0, g.machine_drift());
  }

  @Test
  void aDriftThatIsNoPositiveFactorIsRefused() {
    long[] a = samples(1, 1.0);
    for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThrows(
          IllegalArgumentException.class,
          () -> LatencyGate.regression("ort-custom", 1, a, a, 0.10, bad, "x", S),
          "" + bad);
    }
    assertEquals(1.0, LatencyGate.drift(List.of()));
    assertEquals(
        2.0,
        LatencyGate.drift(
            java.util.Collections.singletonList(new long[][] {samples(5, 2.0), samples(6, 1.0)})),
        0.02);
  }
}
