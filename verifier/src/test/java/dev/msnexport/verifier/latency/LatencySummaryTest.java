package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.msnexport.common.Percentiles;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The latency summary, the bootstrap's resampling and the gates' reference graphs, by hand. */
class LatencySummaryTest {
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

  /** The reference graph's spec a bench gate holds a backend against, formatted; or null. */
  static String referenceOf(String backend) {
    dev.msnexport.verifier.backend.BackendSpec r = BenchGates.referenceOf(backend);
    return r == null ? null : r.format();
  }

  @Test
  void referenceGraphOfEachCandidate() {
    assertEquals("ort-reference", referenceOf("ort-custom"));
    assertEquals("trt:reference", referenceOf("trt"));
    assertEquals("trt:reference", referenceOf("trt:custom"));
    assertEquals("trt:fp16:reference", referenceOf("trt:fp16"));
    assertEquals("trt:fp16:reference", referenceOf("trt:fp16:custom"));
    assertNull(referenceOf("trt:reference"));
    assertNull(referenceOf("ort-reference"));
    assertNull(referenceOf("golden"));
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
