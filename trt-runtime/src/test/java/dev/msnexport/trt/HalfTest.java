package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HalfTest {
  @Test
  void everyHalfValueRoundTrips() {
    for (int h = 0; h < 0x10000; h++) {
      float f = Half.toFloat((short) h);
      if (Float.isNaN(f)) {
        assertTrue(
            Float.isNaN(Half.toFloat(Half.fromFloat(f))),
            "NaN stays NaN: " + Integer.toHexString(h));
      } else {
        assertEquals(
            h, Half.fromFloat(f) & 0xffff, "bits " + Integer.toHexString(h) + " (" + f + ")");
      }
    }
  }

  @Test
  void knownValuesAndRounding() {
    assertEquals(1.0f, Half.toFloat((short) 0x3c00));
    assertEquals(-2.0f, Half.toFloat((short) 0xc000));
    assertEquals(65504f, Half.toFloat((short) 0x7bff));
    assertEquals(0x1p-24f, Half.toFloat((short) 0x0001)); // smallest subnormal
    assertEquals(Float.POSITIVE_INFINITY, Half.toFloat(Half.fromFloat(70000f)));
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0)
    assertEquals(0x3c00, Half.fromFloat(1f + 0x1p-11f) & 0xffff);
    // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: ties to even (1 + 2^-9)
    assertEquals(0x3c02, Half.fromFloat(1f + 3 * 0x1p-11f) & 0xffff);
    assertEquals(0, Half.fromFloat(0x1p-26f) & 0xffff); // below half the smallest subnormal
    assertEquals(1.5f, Half.bf16ToFloat((short) 0x3fc0));
  }
}
