package dev.msnexport.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.exporter.safetensors.DType;
import org.junit.jupiter.api.Test;

class DTypeTest {
  @Test
  void halfKnownValues() {
    assertEquals(0x3c00, DType.floatToHalf(1f) & 0xffff);
    assertEquals(0xc000, DType.floatToHalf(-2f) & 0xffff);
    assertEquals(0x7bff, DType.floatToHalf(65504f) & 0xffff);
    assertEquals(0x7c00, DType.floatToHalf(1e6f) & 0xffff);
    assertEquals(0x0001, DType.floatToHalf(0x1p-24f) & 0xffff);
    assertEquals(0x3c00, DType.floatToHalf(1f + 0x1p-11f) & 0xffff, "ties to even");
    assertEquals(0x3c02, DType.floatToHalf(1f + 3 * 0x1p-11f) & 0xffff, "ties to even (up)");
    assertTrue(Float.isNaN(DType.halfToFloat(DType.floatToHalf(Float.NaN))));
    assertEquals(Float.NEGATIVE_INFINITY, DType.halfToFloat((short) 0xfc00));
  }

  @Test
  void everyHalfRoundTrips() {
    for (int h = 0; h < 0x10000; h++) {
      float f = DType.halfToFloat((short) h);
      if (!Float.isNaN(f)) {
        assertEquals(h, DType.floatToHalf(f) & 0xffff, "half 0x" + Integer.toHexString(h));
      }
    }
  }

  @Test
  void halfRoundingIsNearest() {
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    for (int i = 0; i < 100_000; i++) {
      float f = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(-20, 15)));
      float back = DType.halfToFloat(DType.floatToHalf(f));
      float ulp = Math.max(Math.ulp(back), 0x1p-24f); // half ulp spacing bound
      assertTrue(
          Math.abs(back - f) <= Math.abs(f) * 0x1p-11 + 0x1p-25,
          f + " -> " + back + " (" + ulp + ")");
    }
  }

  @Test
  void bf16RoundTripsAndRounds() {
    for (int b = 0; b < 0x10000; b++) {
      float f = DType.bf16ToFloat((short) b);
      if (!Float.isNaN(f)) {
        assertEquals(b, DType.floatToBf16(f) & 0xffff);
      }
    }
    assertEquals(0x3f80, DType.floatToBf16(1f + 0x1p-8f) & 0xffff, "ties to even");
    assertEquals(0x3f81, DType.floatToBf16(1f + 0x1p-8f + 0x1p-20f) & 0xffff);
  }
}
