package dev.msnexport.ortops;

import java.util.Arrays;
import java.util.Comparator;

/**
 * A plain, deliberately naive Java reading of the two ops in docs/model-contract.md, written
 * independently of the native kernels: full sorts instead of selection, every k*k pair instead of
 * the pruned set, softmax in double. Candidate scores are float32 sums (c = a_i + b_j of two
 * float32 tensors, as the ONNX Add of the reference graph computes them); everything after that is
 * double.
 */
final class ContractReference {
  private ContractReference() {}

  /** One query's retrieval: slots and weights in output order. */
  record Retrieval(long[] slots, double[] weights, float[] scores) {}

  /** Ranks 0..n-1 by descending score, ties by ascending index (numeric compare: -0 == +0). */
  static Integer[] rankDescending(float[] x) {
    Integer[] order = new Integer[x.length];
    for (int i = 0; i < x.length; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order,
        (p, q) -> {
          if (x[p] > x[q]) {
            return -1;
          }
          if (x[p] < x[q]) {
            return 1;
          }
          return Integer.compare(p, q);
        });
    return order;
  }

  /** The contract's two-stage retrieval for one query (a, b of length S). */
  static Retrieval pkm(float[] a, float[] b, int k) {
    int s = a.length;
    Integer[] ra = rankDescending(a);
    Integer[] rb = rankDescending(b);
    int n = k * k;
    float[] c = new float[n];
    long[] slot = new long[n];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        c[i * k + j] = a[ra[i]] + b[rb[j]]; // float32 addition
        slot[i * k + j] = (long) ra[i] * s + rb[j];
      }
    }
    return topKSoftmax(c, slot, k);
  }

  /** Brute force over all S*S slots (equal to {@link #pkm} whenever sums are exact). */
  static Retrieval pkmBruteForce(float[] a, float[] b, int k) {
    int s = a.length;
    float[] c = new float[s * s];
    long[] slot = new long[s * s];
    for (int i = 0; i < s; i++) {
      for (int j = 0; j < s; j++) {
        c[i * s + j] = a[i] + b[j];
        slot[i * s + j] = (long) i * s + j;
      }
    }
    return topKSoftmax(c, slot, k);
  }

  private static Retrieval topKSoftmax(float[] c, long[] slot, int k) {
    Integer[] order = new Integer[c.length];
    for (int i = 0; i < c.length; i++) {
      order[i] = i;
    }
    Comparator<Integer> byScoreThenSlot =
        (p, q) -> {
          if (c[p] > c[q]) {
            return -1;
          }
          if (c[p] < c[q]) {
            return 1;
          }
          return Long.compare(slot[p], slot[q]);
        };
    Arrays.sort(order, byScoreThenSlot);
    long[] slots = new long[k];
    float[] scores = new float[k];
    double[] w = new double[k];
    double max = c[order[0]];
    double sum = 0;
    for (int m = 0; m < k; m++) {
      slots[m] = slot[order[m]];
      scores[m] = c[order[m]];
      w[m] = Math.exp(scores[m] - max);
      sum += w[m];
    }
    for (int m = 0; m < k; m++) {
      w[m] /= sum;
    }
    return new Retrieval(slots, w, scores);
  }

  /** out[n] = sum_m weights[n, m] * values[indices[n, m]], in double. */
  static double[] sparseGather(
      float[] values, int d, long[] indices, float[] weights, int n, int k) {
    double[] out = new double[n * d];
    for (int q = 0; q < n; q++) {
      for (int m = 0; m < k; m++) {
        int row = (int) indices[q * k + m];
        double w = weights[q * k + m];
        for (int x = 0; x < d; x++) {
          out[q * d + x] += w * values[row * d + x];
        }
      }
    }
    return out;
  }

  // ---- float16 / bfloat16, written from the IEEE formats (not from the native code) -------------

  static short floatToHalf(float f) {
    int sign = (Float.floatToRawIntBits(f) >>> 16) & 0x8000;
    if (Float.isNaN(f)) {
      return (short) (sign | 0x7e00);
    }
    float a = Math.abs(f);
    if (a >= 65520f) {
      return (short) (sign | 0x7c00);
    }
    if (a < 0x1p-14f) { // subnormal half: a multiple of 2^-24, rounded to nearest even
      return (short) (sign | (int) Math.rint(a * 0x1p24));
    }
    int e = Math.getExponent(a);
    long m = (long) Math.rint((a / Math.scalb(1.0, e) - 1.0) * 1024.0);
    if (m == 1024) {
      m = 0;
      e++;
    }
    return (short) (sign | ((e + 15) << 10) | (int) m);
  }

  static float halfToFloat(short h) {
    int sign = (h & 0x8000) != 0 ? -1 : 1;
    int e = (h >>> 10) & 0x1f;
    int m = h & 0x3ff;
    if (e == 0) {
      return sign * (float) (m * 0x1p-24);
    }
    if (e == 31) {
      return m == 0 ? sign * Float.POSITIVE_INFINITY : Float.NaN;
    }
    return sign * (float) Math.scalb(1.0 + m / 1024.0, e - 15);
  }

  static short floatToBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int rounded = bits + 0x7fff + ((bits >>> 16) & 1); // round to nearest even (finite inputs)
    return (short) (rounded >>> 16);
  }

  static float bfloat16ToFloat(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }
}
