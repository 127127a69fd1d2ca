package dev.msnexport.verifier.golden;

/** Double-precision special functions the contract needs and java.lang.Math lacks. */
public final class MathFunctions {
  private MathFunctions() {}

  private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

  /**
   * The error function, to about 1e-15 absolute: the Maclaurin series for |x| <= 2, and the
   * continued fraction of erfc (evaluated with the modified Lentz method) beyond.
   */
  public static double erf(double x) {
    if (Double.isNaN(x)) {
      return x;
    }
    double ax = Math.abs(x);
    if (ax <= 2.0) {
      // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
      double x2 = x * x;
      double term = x;
      double sum = x;
      for (int n = 1; n < 200; n++) {
        term *= -x2 / n;
        double add = term / (2 * n + 1);
        sum += add;
        if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
          break;
        }
      }
      return TWO_OVER_SQRT_PI * sum;
    }
    if (ax >= 6.5) {
      return Math.copySign(1.0, x);
    }
    double erfc = erfcContinuedFraction(ax);
    return Math.copySign(1.0 - erfc, x);
  }

  /** erfc(x) for x > 0 as exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))). */
  private static double erfcContinuedFraction(double x) {
    double tiny = 1e-300;
    double f = x;
    double c = x;
    double d = 0;
    for (int n = 1; n < 500; n++) {
      double an = n / 2.0;
      d = x + an * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = x + an / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      double delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) {
        break;
      }
    }
    return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
  }

  /** Exact (erf) GELU. */
  public static double gelu(double x) {
    return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
  }

  public static double sigmoid(double x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }

  /** In-place LayerNorm of v[off, off+n): eps 1e-5, biased variance, affine. */
  public static void layerNorm(double[] v, int off, int n, double[] gamma, double[] beta) {
    double mean = 0;
    for (int i = 0; i < n; i++) {
      mean += v[off + i];
    }
    mean /= n;
    double var = 0;
    for (int i = 0; i < n; i++) {
      double d = v[off + i] - mean;
      var += d * d;
    }
    var /= n;
    double inv = 1 / Math.sqrt(var + 1e-5);
    for (int i = 0; i < n; i++) {
      v[off + i] = (v[off + i] - mean) * inv * gamma[i] + beta[i];
    }
  }
}
