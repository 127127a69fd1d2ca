package dev.msnexport.exporter.quant;

import dev.msnexport.exporter.safetensors.DType;

/**
 * The one rule for quantized value tables (docs/model-contract.md, "Quantized value tables"): each
 * row r of a table gets a float32 scale and one byte per element, symmetric (no zero point).
 *
 * <ul>
 *   <li>{@code amax_r = max_j |V[r,j]|} over the float32 values;
 *   <li>{@code scale_r = amax_r / QMAX} in float32 (QMAX 127 for int8, 448 for fp8 E4M3FN);
 *   <li>int8: {@code q = clamp(rint(V / scale_r), -127, 127)}, the quotient in float64, ties to
 *       even; -128 is never stored;
 *   <li>fp8: {@code q = E4M3FN(V / scale_r)}, the quotient in float64, round to nearest even,
 *       saturating at +-448 ({@link DType#floatToE4m3});
 *   <li>a row whose scale would be below float32's smallest normal (2^-126: every |V| under {@link
 *       #flushBelow}), all-zero rows included, is stored as zeros with scale 0.
 * </ul>
 *
 * The dequantized value is {@code scale_r * decode(q)}: exact in float64 (a 24-bit scale times a
 * 4-bit or 8-bit code), what the golden model uses; kernels compute {@code w * scale * q} in
 * float32. NaN and infinite values are refused.
 */
public final class RowQuantizer {
  private RowQuantizer() {}

  /**
   * Rows whose largest magnitude is below this ({@code QMAX * 2^-126}) are stored as zeros with
   * scale 0.
   */
  public static float flushBelow(DType t) {
    return qmax(t) * Float.MIN_NORMAL;
  }

  /**
   * Relative slack of {@link #errorBound}: covers the float64 rounding of the quotient (at most 448
   * * 2^-53 relative) and of the sums that check the bound.
   */
  static final double BOUND_SLACK = 0x1p-30;

  /** Whether {@code t} is a quantized table type (int8 or fp8 E4M3FN). */
  public static boolean isQuantized(DType t) {
    return t == DType.I8 || t == DType.F8_E4M3;
  }

  /** The code that {@code scale_r} maps {@code amax_r} to: 127 (int8) or 448 (fp8). */
  public static float qmax(DType t) {
    return switch (t) {
      case I8 -> 127f;
      case F8_E4M3 -> 448f;
      default -> throw new IllegalArgumentException("not a quantized table type: " + t);
    };
  }

  /** The scale of a row whose largest magnitude is {@code amax}. */
  public static float scale(float amax, DType t) {
    if (!(amax >= 0) || !Float.isFinite(amax)) {
      throw new IllegalArgumentException(
          "the largest magnitude of a row must be finite, got " + amax);
    }
    float s = amax / qmax(t);
    return s < Float.MIN_NORMAL ? 0f : s;
  }

  /**
   * Quantizes {@code row[off, off+d)} into {@code codes[codeOff, codeOff+d)} and returns its scale.
   *
   * @throws IllegalArgumentException naming the column of a NaN or infinite value
   */
  public static float quantize(float[] row, int off, int d, DType t, byte[] codes, int codeOff) {
    float amax = 0;
    for (int j = 0; j < d; j++) {
      float v = row[off + j];
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException("column " + j + " holds " + v + ", not a finite value");
      }
      amax = Math.max(amax, Math.abs(v));
    }
    float s = scale(amax, t);
    for (int j = 0; j < d; j++) {
      codes[codeOff + j] = s == 0 ? 0 : encode(row[off + j] / (double) s, t);
    }
    return s;
  }

  /** One element's code: {@code x} is the value over its row's scale. */
  static byte encode(double x, DType t) {
    if (t == DType.I8) {
      return (byte) Math.max(-127, Math.min(127, Math.rint(x)));
    }
    return DType.floatToE4m3(x);
  }

  /** A code as the number it stands for (before the scale): exact in float32. */
  public static float decode(byte code, DType t) {
    return switch (t) {
      case I8 -> code;
      case F8_E4M3 -> DType.e4m3ToFloat(code);
      default -> throw new IllegalArgumentException("not a quantized table type: " + t);
    };
  }

  /** {@code scale * decode(code)}, exact in float64. */
  public static double dequantize(byte code, float scale, DType t) {
    return (double) scale * decode(code, t);
  }

  /**
   * The most the dequantized value of {@code v} can differ from it, for a row of scale {@code
   * scale}: int8, half a step ({@code scale / 2}); fp8, half a step of E4M3 at {@code v / scale}:
   * at most {@code |v| * 2^-4} for normals (3 mantissa bits: steps of 2^(e-3) on [2^e, 2^(e+1))),
   * {@code scale * 2^-10} on the subnormal grid (steps of 2^-9); a flushed row (scale 0), {@link
   * #flushBelow}. Each with a relative slack of {@link #BOUND_SLACK}.
   */
  public static double errorBound(double v, float scale, DType t) {
    double b;
    if (scale == 0) {
      b = flushBelow(t);
    } else if (t == DType.I8) {
      b = scale / 2.0;
    } else {
      b = Math.max(Math.abs(v) * 0x1p-4, scale * 0x1p-10);
    }
    return b * (1 + BOUND_SLACK);
  }
}
