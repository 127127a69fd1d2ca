package dev.msnexport.ortops;

import static dev.msnexport.ortops.OnnxGraphs.FLOAT;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OrtException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * msn.PKMRetrieval at the xl profile's scale and beyond (S = 1024..4096, up to 16.8M candidate
 * slots per query) against a brute force over every slot: each of the S*S float32 sums {@code a_i +
 * b_j} is a candidate, the best k by (score descending, slot ascending), softmax in double.
 */
class PkmRetrievalLargeSTest {
  @RegisterExtension static final OpTestSupport.ClassRunner ORT = new OpTestSupport.ClassRunner();

  /** Top k of all S*S sums of one query: {slots, weights (as double bits)} via a bounded heap. */
  static PkmRetrievalOpTest.Output bruteForce(float[] a, float[] b, int k) {
    int s = a.length;
    float maxB = Float.NEGATIVE_INFINITY;
    for (float v : b) {
      maxB = Math.max(maxB, v);
    }
    float[] hs = new float[k]; // min-heap: the root is the worst kept candidate
    long[] hslot = new long[k];
    int size = 0;
    for (int i = 0; i < s; i++) {
      // rows come in slot order: a row whose best sum cannot beat the root (ties lose on slot) goes
      if (size == k && a[i] + maxB <= hs[0]) {
        continue;
      }
      for (int j = 0; j < s; j++) {
        float c = a[i] + b[j];
        long slot = (long) i * s + j;
        if (size < k) {
          hs[size] = c;
          hslot[size] = slot;
          siftUp(hs, hslot, size++);
        } else if (c > hs[0]) {
          hs[0] = c;
          hslot[0] = slot;
          siftDown(hs, hslot, k);
        }
      }
    }
    Integer[] order = new Integer[k];
    for (int m = 0; m < k; m++) {
      order[m] = m;
    }
    Arrays.sort(order, (p, q) -> worse(hs, hslot, p, q) ? 1 : worse(hs, hslot, q, p) ? -1 : 0);
    long[] slots = new long[k];
    float[] w = new float[k];
    double max = hs[order[0]];
    double sum = 0;
    double[] e = new double[k];
    for (int m = 0; m < k; m++) {
      slots[m] = hslot[order[m]];
      e[m] = Math.exp(hs[order[m]] - max);
      sum += e[m];
    }
    for (int m = 0; m < k; m++) {
      w[m] = (float) (e[m] / sum);
    }
    return new PkmRetrievalOpTest.Output(w, slots);
  }

  /** Whether entry p ranks below entry q: lower score, or equal score and higher slot. */
  private static boolean worse(float[] hs, long[] hslot, int p, int q) {
    return hs[p] < hs[q] || hs[p] == hs[q] && hslot[p] > hslot[q];
  }

  private static void siftUp(float[] hs, long[] hslot, int i) {
    while (i > 0) {
      int parent = (i - 1) / 2;
      if (!worse(hs, hslot, i, parent)) {
        return;
      }
      swap(hs, hslot, i, parent);
      i = parent;
    }
  }

  private static void siftDown(float[] hs, long[] hslot, int size) {
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      int r = l + 1;
      int m = i;
      if (l < size && worse(hs, hslot, l, m)) {
        m = l;
      }
      if (r < size && worse(hs, hslot, r, m)) {
        m = r;
      }
      if (m == i) {
        return;
      }
      swap(hs, hslot, i, m);
      i = m;
    }
  }

  private static void swap(float[] hs, long[] hslot, int i, int j) {
    float t = hs[i];
    hs[i] = hs[j];
    hs[j] = t;
    long u = hslot[i];
    hslot[i] = hslot[j];
    hslot[j] = u;
  }

  @ParameterizedTest(name = "S={0} k={1} N={2} fp16={3}")
  @CsvSource({
    "1024, 32, 8, false",
    "2048, 32, 8, false",
    "2048, 64, 4, false",
    "4096, 32, 8, false",
    "4096, 128, 2, false",
    "2048, 32, 4, true",
    "4096, 32, 4, true"
  })
  void matchesBruteForceOverEverySlot(int s, int k, int n, boolean half) throws OrtException {
    Random rnd = new Random(31L * s + k);
    float[] rows = OpTestSupport.gaussian(rnd, n * s, half ? 2.0 : 1.0);
    float[] cols = OpTestSupport.gaussian(rnd, n * s, half ? 2.0 : 1.0);
    if (half) {
      rows = OpTestSupport.roundToHalf(rows);
      cols = OpTestSupport.roundToHalf(cols);
    }
    PkmRetrievalOpTest.Output out =
        PkmRetrievalOpTest.run(ORT.get(), half ? FLOAT16 : FLOAT, k, rows, cols, n, s);
    for (int q = 0; q < n; q++) {
      float[] a = Arrays.copyOfRange(rows, q * s, (q + 1) * s);
      float[] b = Arrays.copyOfRange(cols, q * s, (q + 1) * s);
      PkmRetrievalOpTest.Output ref = bruteForce(a, b, k);
      assertArrayEquals(
          ref.slots(), Arrays.copyOfRange(out.slots(), q * k, (q + 1) * k), "slots of query " + q);
      for (int m = 0; m < k; m++) {
        assertEquals(
            ref.weights()[m],
            out.weights()[q * k + m],
            half ? 1e-3 : 1e-6,
            "weight " + m + " of query " + q);
      }
    }
  }
}
