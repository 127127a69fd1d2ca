package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The per-SM rates behind the GPU peaks, against the datasheet figures they must reproduce. */
class GpuCeilingsTest {
  @Test
  void hopperRatesGiveTheH100SxmPeaks() {
    double[] r = GpuCeilings.perSmFlopsPerClock(9, 0);
    // H100 SXM: 132 SMs at 1.98 GHz; 66.9 TFLOP/s float32 (128 FMA units per SM)
    assertEquals(66.9e12, 132 * 1.98e9 * r[0], 0.1e12);
    // dense fp16 tensor: NVIDIA's 989.4 TFLOP/s is quoted at 1.83 GHz
    assertEquals(989.4e12, 132 * 1.83e9 * r[1], 0.5e12);
  }

  @Test
  void ampereRatesGiveTheA100Peaks() {
    double[] r = GpuCeilings.perSmFlopsPerClock(8, 0);
    assertEquals(19.5e12, 108 * 1.41e9 * r[0], 0.1e12);
    assertEquals(312e12, 108 * 1.41e9 * r[1], 1e12);
  }

  @Test
  void unknownArchitecturesHaveNoRates() {
    assertNull(GpuCeilings.perSmFlopsPerClock(12, 0));
    assertArrayEquals(new double[] {256, 512}, GpuCeilings.perSmFlopsPerClock(8, 9));
  }
}
