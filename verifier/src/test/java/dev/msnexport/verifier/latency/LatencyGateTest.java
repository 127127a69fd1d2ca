package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The gates on synthetic samples with fixed seeds: no wall-clock timing, so the outcome is the
 * same on every machine. Latencies are drawn from a long-tailed distribution like real ones.
 */
class LatencyGateTest {
  static final int N = 2000;
  static final LatencyGate.Settings S = new LatencyGate.Settings(2000, 0.95, 0);

  /** Log-normal around {@code medianUs} microseconds, with a heavy tail, in ns. */
  static long[] latencies(long seed, int n, double medianUs, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] ns = new long[n];
    for (int i = 0; i < n; i++) {
      double us = medianUs * Math.exp(0.35 * r.nextGaussian());
      if (r.nextDouble() < 0.02) {
        us *= 3; // occasional stalls: the tail p99 lives in
      }
      ns[i] = Math.round(us * scale * 1000);
    }
    return ns;
  }

  @Test
  void aSlowerCandidateFailsBothGates() {
    // 50% slower: p99 of a long-tailed distribution is noisy, a clear regression is what it can see at 2,000 samples
    long[] base = latencies(1, N, 200, 1.0);
    long[] slow = latencies(2, N, 200, 1.5);
    GateResult reg = LatencyGate.regression("ort-custom", 64, slow, base, 0.10, S);
    assertEquals("fail", reg.verdict(), reg.message());
    assertFalse(reg.pass());
    assertTrue(reg.ci_low() > 1.10 && reg.ci_low() <= reg.ratio() && reg.ratio() <= reg.ci_high(), reg.message());
    GateResult ratio = LatencyGate.ratio("ort-custom", "ort-reference", 64, slow, base, 1.0, S);
    assertEquals("fail", ratio.verdict(), ratio.message());
  }

  @Test
  void anEqualCandidatePassesAtLeast19Of20() {
    int ratioPasses = 0;
    int regressionPasses = 0;
    for (int trial = 0; trial < 20; trial++) {
      long[] a = latencies(100 + 2 * trial, N, 200, 1.0);
      long[] b = latencies(101 + 2 * trial, N, 200, 1.0);
      LatencyGate.Settings s = new LatencyGate.Settings(2000, 0.95, trial);
      // the hardest case: the profiles' max_p99_ratio is 1.0, exactly the true ratio
      if (LatencyGate.ratio("ort-custom", "ort-reference", 1, a, b, 1.0, s).pass()) {
        ratioPasses++;
      }
      if (LatencyGate.regression("ort-custom", 1, a, b, 0.10, s).pass()) {
        regressionPasses++;
      }
    }
    assertTrue(ratioPasses >= 19, ratioPasses + " of 20 equal candidates passed the ratio gate");
    assertEquals(20, regressionPasses, "an equal candidate never fails a 10% regression gate");
  }

  @Test
  void aSmallNoisyDifferenceIsOnlySuspect() {
    // 4% slower with only 300 samples: the point ratio may exceed 1.0 but the interval cannot exclude it
    long[] base = latencies(7, 300, 200, 1.0);
    long[] cand = latencies(8, 300, 200, 1.04);
    GateResult g = LatencyGate.ratio("ort-custom", "ort-reference", 1, cand, base, 1.0, S);
    assertTrue(g.pass(), g.message());
    assertTrue(g.ci_low() < 1.0 && g.ci_high() > 1.0, g.message());
  }

  @Test
  void sameSamplesGiveRatioOne() {
    long[] a = latencies(5, 500, 100, 1.0);
    Bootstrap.Interval ci = Bootstrap.percentileRatio(a, a, 99, 500, 0.95, 1);
    assertEquals(1.0, ci.point());
    assertTrue(ci.low() <= 1.0 && ci.high() >= 1.0);
    // deterministic for a seed
    assertEquals(ci, Bootstrap.percentileRatio(a, a, 99, 500, 0.95, 1));
  }
}
