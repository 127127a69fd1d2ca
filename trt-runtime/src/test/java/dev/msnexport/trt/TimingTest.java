package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Engine timings use the project's one percentile rule (trtexec's, in single precision, pinned by
 * core's PercentilesTest); here only that Timing sorts what it is given and hands it to that rule.
 * Before the rule was shared, this class computed in double and its p99 of 1..100 was 99, not
 * trtexec's 100 (issue 13, item 3).
 */
class TimingTest {
  @Test
  void unsortedTimingsGoThroughTheSharedRule() {
    double[] v = new double[100];
    for (int i = 0; i < v.length; i++) {
      v[v.length - 1 - i] = i + 1; // 100..1, unsorted on purpose
    }
    assertEquals(50, TrtEngine.Timing.percentile(v, 50));
    assertEquals(100, TrtEngine.Timing.percentile(v, 99)); // trtexec: 1 - 0.99f leaves none out
    assertEquals(100, TrtEngine.Timing.percentile(v, 100));
    assertEquals(1, TrtEngine.Timing.percentile(v, 0));
    assertEquals(7, TrtEngine.Timing.percentile(new double[] {7}, 99));
    assertEquals(Double.NaN, TrtEngine.Timing.percentile(new double[0], 50));
  }
}
