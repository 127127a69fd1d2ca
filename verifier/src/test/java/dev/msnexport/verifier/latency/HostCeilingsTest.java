package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The host probes run and give usable, finite ceilings (their values are a benchmark's business).
 */
class HostCeilingsTest {
  @Test
  void probesGiveFinitePositiveCeilings() {
    FloorModel.Ceilings c = HostCeilings.measure(1);
    assertTrue(c.copy_bytes_per_s() > 0 && Double.isFinite(c.copy_bytes_per_s()), c.source());
    assertTrue(c.flops_per_s() > 0 && Double.isFinite(c.flops_per_s()), c.source());
    assertTrue(c.source().contains("measured"), c.source());
  }
}
