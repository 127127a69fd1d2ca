import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.verifier.golden.MathFunctions;
import java.util.SplittableRandom;

/**
 * The arithmetic of {@link Fp16Emulation}: rounding a double to fp16 (checked against the project's
 * {@code DType.floatToHalf} on every run) or fp32, dot products under an accumulation mode, split-K
 * chains, LayerNorm and GELU as the exported graph writes them.
 */
class Fp16Arithmetic {
  /** fp16's unit roundoff, 2^-11. */
  static final double U = 0x1p-11;

  // ---- rounding ----------------------------------------------------------------------------

  /** Round a double to the nearest IEEE binary16 value (ties to even, subnormals, overflow to inf). */
  static double f16(double x) {
    double ax = Math.abs(x);
    if (!(ax < 65520.0)) { // NaN stays NaN; >= 65520 rounds to infinity
      return Double.isNaN(x) ? x : Math.copySign(Double.POSITIVE_INFINITY, x);
    }
    double r;
    if (ax < 0x1p-14) { // subnormal half: multiples of 2^-24 (scaling by 2^24 is exact)
      r = Math.rint(ax * 0x1p24) * 0x1p-24;
    } else { // keep 10 of the 52 stored mantissa bits: drop 42, round to nearest even
      long bits = Double.doubleToRawLongBits(ax);
      long lsb = (bits >>> 42) & 1L;
      bits += (1L << 41) - 1 + lsb;
      bits &= ~((1L << 42) - 1);
      r = Double.longBitsToDouble(bits);
    }
    return Math.copySign(r, x);
  }

  static double f32(double x) {
    return (float) x;
  }

  enum Acc { F64, F32, F16_SEQ, F16_BLK32 }

  /** Plain-order dot product sum_d w[wo+d] * x[xo+d], plus bias, under an accumulation mode. */
  /** {@code parts} float32 chains over contiguous slices of the n terms, their sums added in float32 (a split-K product). */
  static double chains(int n, int parts, java.util.function.IntToDoubleFunction term) {
    double total = 0;
    int len = (n + parts - 1) / parts;
    for (int c0 = 0; c0 < n; c0 += len) {
      double s = 0;
      for (int d = c0; d < Math.min(n, c0 + len); d++) {
        s = (float) (s + term.applyAsDouble(d));
      }
      total = (float) (total + s);
    }
    return total;
  }

  static double dot(float[] w, int wo, double[] x, int xo, int n, double bias, Acc acc) {
    switch (acc) {
      case F64: {
        double s = bias;
        for (int d = 0; d < n; d++) {
          s += w[wo + d] * x[xo + d];
        }
        return s;
      }
      case F32: {
        // fp32 FMA chain: w and x are float-valued, so w*x is exact in double; one rounding per add
        double s = 0;
        for (int d = 0; d < n; d++) {
          s = (float) (s + (double) w[wo + d] * x[xo + d]);
        }
        return (float) (s + bias);
      }
      case F16_SEQ: {
        double s = 0;
        for (int d = 0; d < n; d++) {
          s = f16(s + (double) w[wo + d] * x[xo + d]);
        }
        return f16(s + bias);
      }
      case F16_BLK32: {
        double total = 0;
        for (int d0 = 0; d0 < n; d0 += 32) {
          double s = 0;
          int end = Math.min(n, d0 + 32);
          for (int d = d0; d < end; d++) {
            s = f16(s + (double) w[wo + d] * x[xo + d]);
          }
          total = f16(total + s);
        }
        return f16(total + bias);
      }
      default:
        throw new AssertionError();
    }
  }

  /** Golden's LayerNorm (MathFunctions.layerNorm, float64 inside), the result rounded by {@code r}. */
  static void layerNorm(double[] v, int off, int n, float[] g, float[] b, java.util.function.DoubleUnaryOperator r) {
    MathFunctions.layerNorm(v, off, n, toDouble(g), toDouble(b));
    for (int i = 0; i < n; i++) {
      v[off + i] = r.applyAsDouble(v[off + i]);
    }
  }

  static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  static double erf(double x) {
    return dev.msnexport.verifier.golden.MathFunctions.erf(x);
  }

  static double gelu(double x) {
    return dev.msnexport.verifier.golden.MathFunctions.gelu(x);
  }

  /** The exported graph's GELU with every op in fp16: Mul(x, fp16(1/sqrt2)) -> Erf -> Add 1; Mul(x, 0.5); Mul. */
  static double gelu16(double x) {
    double xh = f16(x);
    double e = f16(erf(f16(xh * f16(1 / Math.sqrt(2)))));
    double half = f16(xh * 0.5);
    return f16(half * f16(e + 1));
  }

  /** 1 when f16(f) differs from DType's rounding of f (the first five are printed, {@code badSoFar} counting), else 0. */
  static int mismatch(float f, int badSoFar) {
    double mine = f16(f);
    double ref = DType.halfToFloat(DType.floatToHalf(f));
    if (Double.doubleToLongBits(mine) == Double.doubleToLongBits(ref)) {
      return 0;
    }
    if (badSoFar < 5) {
      System.out.printf("f16 mismatch at %s: mine %s, DType %s%n", f, mine, ref);
    }
    return 1;
  }

  /** f16 against the project's DType.floatToHalf on every half, every midpoint and its neighbours, and random floats. */
  static void checkF16() {
    int bad = 0;
    long tested = 0;
    for (int h = 0; h < 0x7c00; h++) {
      float a = DType.halfToFloat((short) h);
      float b = DType.halfToFloat((short) (h + 1)); // h + 1 == 0x7c00 is infinity
      float mid = (float) (((double) a + b) / 2);
      for (float f : new float[] {a, mid, Math.nextDown(mid), Math.nextUp(mid), -a, -mid, -Math.nextUp(mid)}) {
        tested++;
        bad += mismatch(f, bad);
      }
    }
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < 5_000_000; i++) {
      float f = Float.intBitsToFloat(r.nextInt());
      if (Float.isNaN(f)) {
        continue;
      }
      tested++;
      bad += mismatch(f, bad);
    }
    // double inputs: a tie in double that is not a tie after a float cast (no double rounding)
    double t = 1 + 0x1p-11 + 0x1p-40; // just above the midpoint between 1 and 1+2^-10
    if (f16(t) != 1 + 0x1p-10 || f16(1 + 0x1p-11) != 1.0 || f16(0x1p-25 + 0x1p-60) != 0x1p-24 || f16(0x1p-25) != 0) {
      bad++;
      System.out.println("f16 double-input tie checks failed");
    }
    System.out.printf("f16 rounding check: %d values, %d mismatches against DType.floatToHalf%n", tested, bad);
    if (bad > 0) {
      throw new IllegalStateException("f16 rounding is wrong");
    }
  }
}
