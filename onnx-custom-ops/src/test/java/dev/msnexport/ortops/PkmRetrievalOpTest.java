package dev.msnexport.ortops;

import static dev.msnexport.ortops.OnnxGraphs.FLOAT;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT16;
import static dev.msnexport.ortops.OnnxGraphs.intAttr;
import static dev.msnexport.ortops.OnnxGraphs.withPluginAttrs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.msnexport.ortops.ContractReference.Retrieval;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** msn.PKMRetrieval in ONNX Runtime against {@link ContractReference}. */
class PkmRetrievalOpTest {
  @RegisterExtension static final OpTestSupport.ClassRunner ORT = new OpTestSupport.ClassRunner();

  /** Outputs of one run: weights as floats (decoded from float16 when needed) and slots. */
  record Output(float[] weights, long[] slots) {}

  static Output run(OrtRunner r, int type, int k, float[] rows, float[] cols, int n, int s)
      throws OrtException {
    OrtSession session =
        r.session(
            "pkm/" + type + "/" + k,
            OnnxGraphs.pkm("pkm_k" + k, type, withPluginAttrs(intAttr("k", k))));
    try (OnnxTensor a = OpTestSupport.floats(type, rows, n, s);
        OnnxTensor b = OpTestSupport.floats(type, cols, n, s);
        OrtSession.Result res = session.run(Map.of("r", a, "c", b))) {
      OnnxTensor w = (OnnxTensor) res.get("w").orElseThrow();
      OnnxTensor i = (OnnxTensor) res.get("i").orElseThrow();
      assertArrayEquals(new long[] {n, k}, w.getInfo().getShape(), "weights shape");
      assertArrayEquals(new long[] {n, k}, i.getInfo().getShape(), "indices shape");
      float[] weights;
      if (type == FLOAT16) {
        short[] bits = OrtRunner.readShorts(w);
        weights = new float[bits.length];
        for (int x = 0; x < bits.length; x++) {
          weights[x] = ContractReference.halfToFloat(bits[x]);
        }
      } else {
        weights = OrtRunner.readFloats(w);
      }
      return new Output(weights, OrtRunner.readLongs(i));
    }
  }

  /** Checks every row against the reference; float16 inputs must already be half-representable. */
  static void assertMatchesContract(
      Output out, float[] rows, float[] cols, int n, int s, int k, double tol) {
    for (int q = 0; q < n; q++) {
      float[] a = Arrays.copyOfRange(rows, q * s, (q + 1) * s);
      float[] b = Arrays.copyOfRange(cols, q * s, (q + 1) * s);
      Retrieval ref = ContractReference.pkm(a, b, k);
      long[] slots = Arrays.copyOfRange(out.slots(), q * k, (q + 1) * k);
      assertArrayEquals(ref.slots(), slots, "slots of query " + q);
      for (int m = 0; m < k; m++) {
        assertEquals(
            ref.weights()[m], out.weights()[q * k + m], tol, "weight " + m + " of query " + q);
      }
    }
  }

  static Stream<Arguments> float32Cases() {
    List<Arguments> cases = new ArrayList<>();
    for (int s : new int[] {8, 64, 256}) {
      for (int k : new int[] {1, 4, 16, 32, s}) {
        if (k > s) {
          continue;
        }
        for (int n : new int[] {1, 7, 1000}) {
          // The naive reference scores all k*k pairs per query; keep it to ~2M pairs per case.
          int rows = (int) Math.min(n, Math.max(1, 2_000_000L / ((long) k * k)));
          for (long seed : new long[] {1, 2}) {
            cases.add(Arguments.of(s, k, rows, seed));
          }
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "S={0} k={1} N={2} seed={3}")
  @MethodSource("float32Cases")
  void float32MatchesContract(int s, int k, int n, long seed) throws OrtException {
    float32AgainstContract(ORT.get(), new Random(seed * 1_000_003L + s * 31L + k), s, k, n);
  }

  /** Gaussian float32 scores of n queries over S x S slots, top k, against the contract. */
  private static void float32AgainstContract(OrtRunner runner, Random rnd, int s, int k, int n)
      throws OrtException {
    float[] rows = OpTestSupport.gaussian(rnd, n * s, 1.0);
    float[] cols = OpTestSupport.gaussian(rnd, n * s, 1.0);
    Output out = run(runner, FLOAT, k, rows, cols, n, s);
    assertMatchesContract(out, rows, cols, n, s, k, 1e-6);
  }

  static Stream<Arguments> float16Cases() {
    return Stream.of(
        Arguments.of(64, 4, 7, 3L),
        Arguments.of(64, 32, 1000, 4L),
        Arguments.of(256, 32, 1000, 5L),
        Arguments.of(256, 1, 7, 6L),
        Arguments.of(8, 8, 7, 7L));
  }

  /** float16 scores: weights come back as float16 (same type as the scores). */
  @ParameterizedTest(name = "fp16 S={0} k={1} N={2} seed={3}")
  @MethodSource("float16Cases")
  void float16MatchesContract(int s, int k, int n, long seed) throws OrtException {
    Random rnd = new Random(seed);
    float[] rows = OpTestSupport.roundToHalf(OpTestSupport.gaussian(rnd, n * s, 2.0));
    float[] cols = OpTestSupport.roundToHalf(OpTestSupport.gaussian(rnd, n * s, 2.0));
    Output out = run(ORT.get(), FLOAT16, k, rows, cols, n, s);
    assertMatchesContract(out, rows, cols, n, s, k, 1e-3); // float16 weights: ~2^-11 relative
  }

  /**
   * Small integer scores: ties everywhere, sums exact, so the two-stage search equals brute force.
   */
  @ParameterizedTest(name = "ties S=64 k={0}")
  @MethodSource("tieKs")
  void integerScoresWithManyTies(int k) throws OrtException {
    int s = 64;
    int n = 200;
    Random rnd = new Random(k);
    float[] rows = new float[n * s];
    float[] cols = new float[n * s];
    for (int i = 0; i < n * s; i++) {
      rows[i] = rnd.nextInt(4);
      cols[i] = rnd.nextInt(3) - 1;
    }
    Output out = run(ORT.get(), FLOAT, k, rows, cols, n, s);
    assertMatchesContract(out, rows, cols, n, s, k, 1e-6);
    for (int q = 0; q < 20; q++) {
      float[] a = Arrays.copyOfRange(rows, q * s, (q + 1) * s);
      float[] b = Arrays.copyOfRange(cols, q * s, (q + 1) * s);
      assertArrayEquals(
          ContractReference.pkmBruteForce(a, b, k).slots(),
          Arrays.copyOfRange(out.slots(), q * k, (q + 1) * k),
          "brute force, query " + q);
    }
  }

  static Stream<Integer> tieKs() {
    return Stream.of(1, 4, 16, 32, 64);
  }

  /** Stage 1: equal scores keep the lower index; stage 2: equal sums keep the lower slot. */
  @Test
  void stageOneTieKeepsLowerIndex() throws OrtException {
    // row top-2: indices 1, 2 (both 5); col top-2: indices 0, 2 (both 3); all four sums are 8.
    float[] a = {0, 5, 5, 0};
    float[] b = {3, 0, 3, 3};
    Output out = run(ORT.get(), FLOAT, 2, a, b, 1, 4);
    assertArrayEquals(new long[] {1 * 4 + 0, 1 * 4 + 2}, out.slots());
    assertArrayEquals(new float[] {0.5f, 0.5f}, out.weights());
  }

  @Test
  void stageTwoTieKeepsLowerSlotNotLowerRank() throws OrtException {
    // row ranks: idx 3 (5), idx 1 (4); col ranks: idx 2 (2), idx 0 (1).
    // Sums: (3,2)=7 slot 14; (3,0)=6 slot 12; (1,2)=6 slot 6. The tie at 6 goes to slot 6,
    // although its rank pair (1, 0) comes after (0, 1) in rank order.
    float[] a = {0, 4, 0, 5};
    float[] b = {1, 0, 2, 0};
    Output out = run(ORT.get(), FLOAT, 2, a, b, 1, 4);
    assertArrayEquals(new long[] {14, 6}, out.slots());
    double e = Math.exp(1);
    assertEquals(e / (e + 1), out.weights()[0], 1e-7);
    assertEquals(1 / (e + 1), out.weights()[1], 1e-7);
  }

  @Test
  void negativeZeroTiesWithPositiveZero() throws OrtException {
    float[] a = {-0.0f, 0.0f, -1, -1};
    float[] b = {0.0f, -0.0f, -1, -1};
    Output out = run(ORT.get(), FLOAT, 2, a, b, 1, 4);
    assertArrayEquals(new long[] {0, 1}, out.slots());
  }

  @Test
  void allEqualScoresGiveTheLowestSlots() throws OrtException {
    int s = 64;
    int k = 16;
    float[] a = new float[s];
    float[] b = new float[s];
    Arrays.fill(a, 1f);
    Arrays.fill(b, 1f);
    Output out = run(ORT.get(), FLOAT, k, a, b, 1, s);
    long[] expected = new long[k];
    for (int m = 0; m < k; m++) {
      expected[m] = m; // (row 0, col m)
    }
    assertArrayEquals(expected, out.slots());
    for (float w : out.weights()) {
      assertEquals(1.0 / k, w, 1e-7);
    }
  }

  /**
   * A pair outside the pruned set ((i+1)(j+1) > k) that ties the k-th score after float32 rounding
   * and has the lower slot must still win. k=3, S=3; B = 2^25 where floats are 4 apart: ranks a:
   * idx1 (2), idx0 (1); b: idx0 (B+4), idx1 (B). Sums: (0,0) -> B+8 slot 3, (1,0) -> B+4 slot 0,
   * (0,1) -> B slot 4, (1,1) = 1 + B -> B slot 1. Rank pair (1,1) is pruned by the bound but takes
   * third place from (0,1) on the slot rule.
   */
  @Test
  void prunedPairThatTiesAfterRoundingStillWins() throws OrtException {
    float big = 33554432f; // 2^25
    float[] a = {1f, 2f, -100f};
    float[] b = {big + 4f, big, -1e6f};
    Retrieval ref = ContractReference.pkm(a, b, 3);
    assertArrayEquals(new long[] {3, 0, 1}, ref.slots(), "the reference itself");
    Output out = run(ORT.get(), FLOAT, 3, a, b, 1, 3);
    assertArrayEquals(new long[] {3, 0, 1}, out.slots());
  }

  @Test
  void minusInfinityScoresRankLastAndWeighZero() throws OrtException {
    float inf = Float.POSITIVE_INFINITY;
    // row top-2: idx1 (1), idx2 (0); col top-2: idx0 (2), idx3 (0).
    // Sums: (1,0)=3 slot 4, (2,0)=2 slot 8, (1,3)=1 slot 7, (2,3)=0 slot 11.
    Output out =
        run(
            ORT.get(),
            FLOAT,
            2,
            new float[] {-inf, 1f, 0f, -inf},
            new float[] {2f, -inf, -inf, 0f},
            1,
            4);
    assertArrayEquals(new long[] {4, 8}, out.slots());
    // A kept -inf candidate gets weight 0.
    Output masked = run(ORT.get(), FLOAT, 2, new float[] {1f, -inf}, new float[] {0f, -inf}, 1, 2);
    assertArrayEquals(new long[] {0, 1}, masked.slots());
    assertArrayEquals(new float[] {1f, 0f}, masked.weights());
  }

  /** One intra-op thread (no ParallelFor fan-out) gives the same answer as the reference. */
  @Test
  void singleThreadMatchesContract() throws OrtException {
    try (OrtRunner single = new OrtRunner(1)) {
      float32AgainstContract(single, new Random(99), 256, 32, 300); // S, k, N
    }
  }

  @Test
  void emptyBatchGivesEmptyOutputs() throws OrtException {
    Output out = run(ORT.get(), FLOAT, 4, new float[0], new float[0], 0, 16);
    assertEquals(0, out.slots().length);
    assertEquals(0, out.weights().length);
  }
}
