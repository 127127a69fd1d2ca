package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The gates and the benchmark plan refuse non-finite or meaningless limits whoever calls them (the
 * CLI checks its options; an API caller must not get a gate that a NaN limit makes always pass).
 */
class LimitGuardTest {
  static final long[] SAMPLES = {100, 110, 120, 130, 140, 150, 160, 170, 180, 190};

  @Test
  void gatesRefuseANonFiniteOrNonPositiveLimit() {
    LatencyGate.Settings s = LatencyGate.Settings.defaults();
    for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, 0, -1}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> LatencyGate.ratio("ort-custom", "ort-reference", 1, SAMPLES, SAMPLES, bad, s),
              "ratio limit " + bad);
      assertTrue(e.getMessage().contains("finite positive"), e.getMessage());
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> LatencyGate.regression("ort-custom", 1, SAMPLES, SAMPLES, Double.NaN, 1.0, null, s));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            LatencyGate.regression(
                "ort-custom", 1, SAMPLES, SAMPLES, Double.POSITIVE_INFINITY, 1.0, null, s));
  }

  @Test
  void settingsAndPlansRefuseMeaninglessValues() {
    assertThrows(IllegalArgumentException.class, () -> new LatencyGate.Settings(0, 0.95, 0));
    assertThrows(
        IllegalArgumentException.class, () -> new LatencyGate.Settings(100, Double.NaN, 0));
    assertThrows(IllegalArgumentException.class, () -> new LatencyGate.Settings(100, 1, 0));
    assertThrows(
        IllegalArgumentException.class, () -> new LatencyBenchmark.Plan(Double.NaN, 10, 0, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> new LatencyBenchmark.Plan(0, 0, Double.POSITIVE_INFINITY, 1));
    assertThrows(
        IllegalArgumentException.class, () -> new LatencyBenchmark.Plan(0, 0, Double.NaN, 1));
  }
}
