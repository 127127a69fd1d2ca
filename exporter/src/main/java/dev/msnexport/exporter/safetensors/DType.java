package dev.msnexport.exporter.safetensors;

import java.util.Arrays;
import java.util.Optional;

/**
 * Element types of safetensors files, with their byte sizes and ONNX TensorProto codes. Floats
 * convert to and from float32 here, in one place (fp16 and bf16 use round-to-nearest-even).
 */
public enum DType {
  F64("F64", 8, 11, true),
  F32("F32", 4, 1, true),
  F16("F16", 2, 10, true),
  BF16("BF16", 2, 16, true),
  I64("I64", 8, 7, false),
  I32("I32", 4, 6, false),
  I16("I16", 2, 5, false),
  I8("I8", 1, 3, false),
  U8("U8", 1, 2, false),
  BOOL("BOOL", 1, 9, false),
  /**
   * OCP FP8 E4M3FN (ONNX FLOAT8E4M3FN): a storage type of quantized value tables only; not a
   * checkpoint type (not {@link #isFloating()}).
   */
  F8_E4M3("F8_E4M3", 1, 17, false);

  private final String safetensorsName;
  private final int size;
  private final int onnxCode;
  private final boolean floating;

  DType(String safetensorsName, int size, int onnxCode, boolean floating) {
    this.safetensorsName = safetensorsName;
    this.size = size;
    this.onnxCode = onnxCode;
    this.floating = floating;
  }

  public String safetensorsName() {
    return safetensorsName;
  }

  public int size() {
    return size;
  }

  /** The {@code TensorProto.DataType} number. */
  public int onnxCode() {
    return onnxCode;
  }

  public boolean isFloating() {
    return floating;
  }

  public static Optional<DType> fromSafetensors(String name) {
    return Arrays.stream(values()).filter(d -> d.safetensorsName.equals(name)).findFirst();
  }

  public static Optional<DType> fromOnnx(int code) {
    return Arrays.stream(values()).filter(d -> d.onnxCode == code).findFirst();
  }

  /**
   * Parses a value-table storage type: {@link #parseFloat}'s, or int8 ({@link #I8}) and fp8 ({@link
   * #F8_E4M3}), the per-row quantized tables of docs/model-contract.md.
   */
  public static DType parseValues(String s) {
    return switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "int8", "i8" -> I8;
      case "fp8", "f8_e4m3", "float8e4m3fn" -> F8_E4M3;
      default -> parseFloat(s);
    };
  }

  /** Parses the CLI spelling: fp32, fp16, bf16 (or the safetensors names). */
  public static DType parseFloat(String s) {
    return switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "fp32", "f32", "float32", "float" -> F32;
      case "fp16", "f16", "float16", "half" -> F16;
      case "bf16", "bfloat16" -> BF16;
      default ->
          throw new IllegalArgumentException(
              "unknown float type '" + s + "' (expected fp32, fp16 or bf16)");
    };
  }

  public String cliName() {
    return switch (this) {
      case F32 -> "fp32";
      case F16 -> "fp16";
      case BF16 -> "bf16";
      case I8 -> "int8";
      case F8_E4M3 -> "fp8";
      default -> safetensorsName.toLowerCase(java.util.Locale.ROOT);
    };
  }

  // ---- float conversions --------------------------------------------------------------------

  /** IEEE 754 binary16 to float32 (exact). */
  public static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant * 0x1p-24f; // subnormal: mant * 2^-24, exact in float32
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** float32 to IEEE 754 binary16, round-to-nearest-even; overflow gives infinity. */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs > 0x7f800000) {
      return (short) (sign | 0x7e00); // NaN
    }
    if (abs >= 0x477ff000) { // rounds to >= 65520: infinity
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x38800000) { // below the smallest normal half (2^-14): subnormal or zero
      float a = Float.intBitsToFloat(abs);
      int m = Math.round(a * 0x1p24f); // Math.round is half-up; fix to even below
      float exact = a * 0x1p24f;
      if (exact - Math.floor(exact) == 0.5f && (m & 1) == 1) {
        m -= 1;
      }
      return (short) (sign | m);
    }
    int exp = ((abs >>> 23) - 112) << 10;
    int mant = abs & 0x7fffff;
    int half = exp | (mant >>> 13);
    int rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
      half += 1;
    }
    return (short) (sign | half);
  }

  public static float bf16ToFloat(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  /** Round-to-nearest-even, NaN kept as a quiet NaN. */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** FP8 E4M3FN to float32 (exact); codes 0x7f and 0xff are NaN (E4M3FN has no infinity). */
  public static float e4m3ToFloat(byte code) {
    int b = code & 0xff;
    int exp = (b >>> 3) & 0xf;
    int mant = b & 0x7;
    float v;
    if (exp == 0xf && mant == 0x7) {
      v = Float.NaN;
    } else if (exp == 0) {
      v = mant * 0x1p-9f; // subnormal: mant * 2^-9
    } else {
      v = Math.scalb(1 + mant / 8f, exp - 7);
    }
    return (b & 0x80) != 0 ? -v : v;
  }

  /**
   * {@code x} to FP8 E4M3FN, round to nearest, ties to even; magnitudes past the largest finite
   * value (448) saturate to +-448; NaN is refused (E4M3FN's NaN is no value a table may hold).
   */
  public static byte floatToE4m3(double x) {
    if (Double.isNaN(x)) {
      throw new IllegalArgumentException("NaN has no FP8 E4M3FN value");
    }
    int sign = (Double.doubleToRawLongBits(x) < 0) ? 0x80 : 0;
    double a = Math.min(Math.abs(x), 448);
    int code;
    if (a < 0x1p-6) { // subnormal grid: multiples of 2^-9; 8 * 2^-9 is the smallest normal (code 8)
      code = (int) Math.rint(a * 0x1p9);
    } else {
      int e = Math.getExponent(a); // a in [2^e, 2^(e+1)), e in [-6, 8]
      int m = (int) Math.rint((Math.scalb(a, -e) - 1) * 8); // 0..8, ties to even
      if (m == 8) {
        e += 1;
        m = 0;
      }
      code = ((e + 7) << 3) | m;
      code = Math.min(code, 0x7e); // rounding up past 448 would give the NaN code: saturate
    }
    return (byte) (sign | code);
  }
}
