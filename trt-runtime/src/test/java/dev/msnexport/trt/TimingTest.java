package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TimingTest {
  @Test
  void percentilesFollowTrtexecsRule() {
    double[] v = new double[100];
    for (int i = 0; i < v.length; i++) {
      v[v.length - 1 - i] = i + 1; // 100..1, unsorted on purpose
    }
    assertEquals(50, TrtEngine.Timing.percentile(v, 50));
    assertEquals(99, TrtEngine.Timing.percentile(v, 99));
    assertEquals(100, TrtEngine.Timing.percentile(v, 100));
    assertEquals(1, TrtEngine.Timing.percentile(v, 0));
    assertEquals(7, TrtEngine.Timing.percentile(new double[] {7}, 99));
    assertEquals(Double.NaN, TrtEngine.Timing.percentile(new double[0], 50));
  }
}
