package dev.msnexport.exporter.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.exporter.safetensors.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Hand-computed rows for the quantization rule (docs/model-contract.md). */
class RowQuantizerTest {
  private static byte[] codes(float[] row, DType t, float expectScale) {
    byte[] q = new byte[row.length];
    assertEquals(expectScale, RowQuantizer.quantize(row, 0, row.length, t, q, 0));
    return q;
  }

  @Test
  void int8TiesGoToEven() {
    // amax 127 -> scale exactly 1: the quotients are the values themselves
    float[] row = {127, 2.5f, -2.5f, 3.5f, 0.5f, -0.5f, 1.5f, -126.4f};
    assertArrayEquals(new byte[] {127, 2, -2, 4, 0, 0, 2, -126}, codes(row, DType.I8, 1f));
    // scale 0.5: 0.25 / 0.5 = 0.5 -> 0, 0.75 / 0.5 = 1.5 -> 2
    assertArrayEquals(
        new byte[] {127, 0, 2}, codes(new float[] {63.5f, 0.25f, 0.75f}, DType.I8, 0.5f));
  }

  @Test
  void int8MaxMagnitudeIsPlusMinus127NeverMinus128() {
    assertArrayEquals(new byte[] {-127, 1}, codes(new float[] {-254, 2}, DType.I8, 2f));
    // amax / (amax / 127 rounded) may land just past 127: clamped
    SplittableRandom rnd = new SplittableRandom(3);
    for (int i = 0; i < 10_000; i++) {
      float a = (float) (rnd.nextDouble() * 1e3 + 1e-3);
      byte[] q = new byte[2];
      RowQuantizer.quantize(new float[] {-a, a}, 0, 2, DType.I8, q, 0);
      assertArrayEquals(new byte[] {-127, 127}, q, "amax " + a);
    }
  }

  @Test
  void zeroAndTinyRowsAreZerosWithScaleZero() {
    assertArrayEquals(new byte[3], codes(new float[] {0, -0f, 0}, DType.I8, 0f));
    assertArrayEquals(new byte[2], codes(new float[] {0, 0}, DType.F8_E4M3, 0f));
    // 1e-37 < 127 * 2^-126: the scale would be subnormal
    assertArrayEquals(new byte[] {0, 0}, codes(new float[] {1e-37f, -1e-38f}, DType.I8, 0f));
    float justAbove = RowQuantizer.flushBelow(DType.I8) * 1.01f;
    byte[] q = new byte[1];
    assertTrue(RowQuantizer.quantize(new float[] {justAbove}, 0, 1, DType.I8, q, 0) > 0);
    assertEquals(127, q[0]);
  }

  @Test
  void nonFiniteValuesAreRefusedWithTheirColumn() {
    byte[] q = new byte[3];
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RowQuantizer.quantize(new float[] {1, Float.NaN, 2}, 0, 3, DType.I8, q, 0));
    assertTrue(e.getMessage().contains("column 1"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RowQuantizer.quantize(
                new float[] {Float.POSITIVE_INFINITY}, 0, 1, DType.F8_E4M3, q, 0));
    assertThrows(IllegalArgumentException.class, () -> DType.floatToE4m3(Double.NaN));
  }

  @Test
  void fp8RoundsToNearestEvenWithSubnormals() {
    float[] row = {
      448, 1.0625f, 1.1875f, -2, 0x1p-9f, 3 * 0x1p-10f, 0x1p-10f, 0x1p-6f - 0x1p-11f, 0.0625f
    };
    byte[] q = codes(row, DType.F8_E4M3, 1f);
    assertArrayEquals(new byte[] {0x7e, 0x38, 0x3a, (byte) 0xc0, 0x01, 0x02, 0x00, 0x08, 0x18}, q);
    float[] back = {448, 1, 1.25f, -2, 0x1p-9f, 0x1p-8f, 0, 0x1p-6f, 0.0625f};
    for (int i = 0; i < q.length; i++) {
      assertEquals(back[i], RowQuantizer.decode(q[i], DType.F8_E4M3), "code " + q[i]);
    }
  }

  @Test
  void fp8SaturatesAndDecodesEveryCode() {
    assertEquals(0x7e, DType.floatToE4m3(460));
    assertEquals((byte) 0xfe, DType.floatToE4m3(-1e9));
    assertTrue(Float.isNaN(DType.e4m3ToFloat((byte) 0x7f)));
    assertTrue(Float.isNaN(DType.e4m3ToFloat((byte) 0xff)));
    // every non-NaN code round-trips
    for (int c = 0; c < 256; c++) {
      float v = DType.e4m3ToFloat((byte) c);
      if (!Float.isNaN(v)) {
        assertEquals(v, DType.e4m3ToFloat(DType.floatToE4m3(v)), "code " + c);
      }
    }
  }

  @Test
  void errorBoundsHoldAndAreTight() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (DType t : new DType[] {DType.I8, DType.F8_E4M3}) {
      double worst = 0;
      int d = 64;
      float[] row = new float[d];
      byte[] q = new byte[d];
      for (int r = 0; r < 2000; r++) {
        double mag = Math.pow(10, rnd.nextDouble(-6, 3));
        for (int j = 0; j < d; j++) {
          row[j] = (float) (rnd.nextGaussian() * mag);
        }
        float s = RowQuantizer.quantize(row, 0, d, t, q, 0);
        for (int j = 0; j < d; j++) {
          double err = Math.abs(RowQuantizer.dequantize(q[j], s, t) - row[j]);
          double bound = RowQuantizer.errorBound(row[j], s, t);
          assertTrue(err <= bound, t + ": error " + err + " > bound " + bound);
          worst = Math.max(worst, err / bound);
        }
      }
      assertTrue(worst > 0.9, t + ": the bound is loose, worst error/bound " + worst);
    }
  }
}
