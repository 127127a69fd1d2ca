package dev.msnexport.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * trtexec's percentile rule, against values worked out by hand: the one percentile rule of the
 * project (latency summaries, gates, engine timings), tested here once.
 */
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
}
