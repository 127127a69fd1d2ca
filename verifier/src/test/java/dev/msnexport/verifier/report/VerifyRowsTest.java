package dev.msnexport.verifier.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.msnexport.verifier.health.MemoryHealth;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory-health fraction cell of both verify reports: exact, or sampled with its interval. */
class VerifyRowsTest {
  static MemoryHealth.Layer layer(String method, double f, double lo, double hi, long counted) {
    return new MemoryHealth.Layer(
        0, 4_194_304, 131_072, 125_829, f, 0.031, 10.0, 0.95, 41_943, 0.05, List.of(), method,
        counted, lo, hi);
  }

  @Test
  void exactCountsShowTheFractionSampledOnesTheirInterval() {
    assertEquals("3.0%", VerifyRows.fraction(layer("exact", 0.03, 0.03, 0.03, 4_194_304)));
    assertEquals(
        "~3.0% (95%: 2.84-3.10%, 65536 slots sampled)",
        VerifyRows.fraction(layer("sampled", 0.0297, 0.0284, 0.0310, 65_536)));
  }
}
