package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** trtexec's percentile rule and the latency summary, against values worked out by hand. */
class PercentilesTest {
  @Test
  void trtexecRuleInSinglePrecision() {
    // n = 100, p99: 1 - 0.99f = 0.0099999905, times 100 is just below 1: nothing excluded, the
    // maximum
    assertEquals(99, Percentiles.index(100, 99));
    // n = 1000, p99: 9.9999905 -> 9 excluded -> index 990 (double arithmetic would give 10 -> 989)
    assertEquals(990, Percentiles.index(1000, 99));
    // n = 10, p90: 1 - 0.9f = 0.100000024, times 10 = 1.0000002 -> 1 excluded -> index 8
    assertEquals(8, Percentiles.index(10, 90));
    // n = 1000, p99.9: 0.99999 -> 0 excluded -> the maximum
    assertEquals(999, Percentiles.index(1000, 99.9));
    // n = 20, p95: 1 - 0.95f = 0.050000012, times 20 = 1.0000002 -> 1 -> index 18
    assertEquals(18, Percentiles.index(20, 95));
    // n = 4, p50: 2 excluded -> index 1 (the lower middle); p0: all but one excluded -> 0; p100 ->
    // the maximum
    assertEquals(1, Percentiles.index(4, 50));
    assertEquals(0, Percentiles.index(4, 0));
    assertEquals(3, Percentiles.index(4, 100));
    assertEquals(0, Percentiles.index(1, 99));
    assertThrows(IllegalArgumentException.class, () -> Percentiles.index(10, 101));
    assertThrows(IllegalArgumentException.class, () -> Percentiles.index(0, 50));
  }

  @Test
  void medianAsTrtexec() {
    assertEquals(2.5, Percentiles.median(new long[] {1, 2, 3, 10}));
    assertEquals(3, Percentiles.median(new long[] {1, 2, 3, 10, 11}));
    assertEquals(7, Percentiles.median(new double[] {7}));
  }

  @Test
  void statsByHand() {
    // 1..10 ms, shuffled: min 1, max 10, mean 5.5, median 5.5, p90 index 8 -> 9, p95 index 9 -> 10,
    // p99 / p99.9 -> 10, population stddev sqrt(8.25)
    long[] ns = {7, 3, 10, 1, 9, 2, 8, 5, 6, 4};
    for (int i = 0; i < ns.length; i++) {
      ns[i] *= 1_000_000;
    }
    LatencyStats s = LatencyStats.ofNanos(ns);
    assertEquals(10, s.count());
    assertEquals(1, s.min(), 1e-12);
    assertEquals(10, s.max(), 1e-12);
    assertEquals(5.5, s.mean(), 1e-12);
    assertEquals(5.5, s.p50(), 1e-12);
    assertEquals(9, s.p90(), 1e-12);
    assertEquals(10, s.p95(), 1e-12);
    assertEquals(10, s.p99(), 1e-12);
    assertEquals(10, s.p99_9(), 1e-12);
    assertEquals(Math.sqrt(8.25), s.stddev(), 1e-12);
  }

  @Test
  void bootstrapResampleMatchesMaterializedResample() {
    SplittableRandom g = new SplittableRandom(3);
    long[] sorted = new long[257];
    for (int i = 0; i < sorted.length; i++) {
      sorted[i] = 1000 + g.nextInt(100_000);
    }
    java.util.Arrays.sort(sorted);
    for (double p : new double[] {50, 90, 99}) {
      SplittableRandom a = new SplittableRandom(11);
      SplittableRandom b = new SplittableRandom(11);
      int[] counts = new int[sorted.length];
      for (int rep = 0; rep < 50; rep++) {
        double fast = Bootstrap.resampledPercentile(sorted, counts, a, p);
        long[] resample = new long[sorted.length];
        for (int i = 0; i < resample.length; i++) {
          resample[i] = sorted[b.nextInt(sorted.length)];
        }
        java.util.Arrays.sort(resample);
        assertEquals(Percentiles.of(resample, p), fast, "p" + p + " resample " + rep);
      }
    }
  }

  @Test
  void referenceGraphOfEachCandidate() {
    assertEquals("ort-reference", LatencyGate.referenceOf("ort-custom"));
    assertEquals("trt:reference", LatencyGate.referenceOf("trt"));
    assertEquals("trt:reference", LatencyGate.referenceOf("trt:custom"));
    assertEquals("trt:fp16:reference", LatencyGate.referenceOf("trt:fp16"));
    assertEquals("trt:fp16:reference", LatencyGate.referenceOf("trt:fp16:custom"));
    assertNull(LatencyGate.referenceOf("trt:reference"));
    assertNull(LatencyGate.referenceOf("ort-reference"));
    assertNull(LatencyGate.referenceOf("golden"));
  }

  @Test
  void skippedGateCarriesNoFigures() {
    GateResult g =
        LatencyGate.gate(
            "x",
            GateResult.REFERENCE_RATIO,
            "a",
            "b",
            1,
            new long[0],
            new long[] {1},
            1.0,
            LatencyGate.Settings.defaults());
    assertEquals("skipped", g.verdict());
    assertNull(g.ratio());
  }
}
