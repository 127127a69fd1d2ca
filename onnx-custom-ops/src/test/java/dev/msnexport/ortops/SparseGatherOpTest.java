package dev.msnexport.ortops;

import static dev.msnexport.ortops.OnnxGraphs.BFLOAT16;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT16;
import static dev.msnexport.ortops.OnnxGraphs.INT64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * msn.SparseGather in ONNX Runtime against {@link ContractReference}. The build runs this class
 * twice: with the CPU-selected inner loop and with MSN_ORT_OPS_ISA=generic (see the pom).
 */
class SparseGatherOpTest {
  @RegisterExtension static final OpTestSupport.ClassRunner ORT = new OpTestSupport.ClassRunner();

  /**
   * Values as given to the op (raw 16-bit patterns for float16/bfloat16) and as the reference sees
   * them.
   */
  record Table(int type, float[] exact, short[] bits) {}

  static Table table(int type, Random rnd, int m, int d) {
    float[] exact = new float[m * d];
    short[] bits = type == FLOAT ? null : new short[m * d];
    for (int i = 0; i < m * d; i++) {
      float v = (float) rnd.nextGaussian();
      if (type == FLOAT16) {
        bits[i] = ContractReference.floatToHalf(v);
        v = ContractReference.halfToFloat(bits[i]);
      } else if (type == BFLOAT16) {
        bits[i] = ContractReference.floatToBfloat16(v);
        v = ContractReference.bfloat16ToFloat(bits[i]);
      }
      exact[i] = v;
    }
    return new Table(type, exact, bits);
  }

  static float[] run(
      int weightType, Table values, int m, int d, long[] idx, float[] weights, int n, int k)
      throws OrtException {
    OrtSession session =
        ORT.get()
            .session(
                "sg/" + values.type() + "/" + weightType,
                OnnxGraphs.sparseGather("sg", values.type(), INT64, weightType));
    OnnxTensor v =
        values.type() == FLOAT
            ? OrtRunner.floats(values.exact(), m, d)
            : OrtRunner.halves(
                values.bits(),
                values.type() == FLOAT16 ? OnnxJavaType.FLOAT16 : OnnxJavaType.BFLOAT16,
                m,
                d);
    try (v;
        OnnxTensor i = OrtRunner.longs(idx, n, k);
        OnnxTensor w = OpTestSupport.floats(weightType, weights, n, k);
        OrtSession.Result res = session.run(Map.of("v", v, "i", i, "w", w))) {
      OnnxTensor o = (OnnxTensor) res.get(0);
      assertArrayEquals(new long[] {n, d}, o.getInfo().getShape(), "output shape");
      return OrtRunner.readFloats(o);
    }
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // valueType, weightType, M, D, N, K
        Arguments.of(FLOAT, FLOAT, 3, 8, 1, 1),
        Arguments.of(FLOAT, FLOAT, 50, 37, 7, 5),
        Arguments.of(FLOAT, FLOAT, 500, 768, 1000, 32),
        Arguments.of(FLOAT, FLOAT, 4096, 33, 1000, 32),
        Arguments.of(FLOAT16, FLOAT, 50, 37, 7, 5),
        Arguments.of(FLOAT16, FLOAT, 500, 768, 200, 32),
        Arguments.of(BFLOAT16, FLOAT, 50, 37, 7, 5),
        Arguments.of(BFLOAT16, FLOAT, 500, 768, 200, 32),
        Arguments.of(FLOAT, FLOAT16, 50, 40, 7, 3),
        Arguments.of(BFLOAT16, FLOAT16, 100, 768, 64, 32));
  }

  @ParameterizedTest(name = "values={0} weights={1} M={2} D={3} N={4} K={5}")
  @MethodSource("cases")
  void matchesContract(int valueType, int weightType, int m, int d, int n, int k)
      throws OrtException {
    Random rnd = new Random(31L * m + 7L * d + n + k + valueType);
    Table values = table(valueType, rnd, m, d);
    long[] idx = new long[n * k];
    float[] w = new float[n * k];
    for (int x = 0; x < n * k; x++) {
      idx[x] = rnd.nextInt(m); // repeats included
      float wx = (float) rnd.nextGaussian();
      w[x] =
          weightType == FLOAT16
              ? ContractReference.halfToFloat(ContractReference.floatToHalf(wx))
              : wx;
    }
    float[] out = run(weightType, values, m, d, idx, w, n, k);
    double[] ref = ContractReference.sparseGather(values.exact(), d, idx, w, n, k);
    for (int q = 0; q < n; q++) {
      for (int x = 0; x < d; x++) {
        double magnitude = 0; // float32 accumulation error is bounded by ~K * 2^-24 * sum |w v|
        for (int j = 0; j < k; j++) {
          magnitude += Math.abs(w[q * k + j] * values.exact()[(int) idx[q * k + j] * d + x]);
        }
        double tol = 1e-7 + 2.0 * k * 0x1p-24 * magnitude;
        assertEquals(ref[q * d + x], out[q * d + x], tol, "out[" + q + ", " + x + "]");
      }
    }
  }

  @Test
  void zeroNeighboursGiveZeros() throws OrtException {
    Table values = table(FLOAT, new Random(1), 4, 16);
    float[] out = run(FLOAT, values, 4, 16, new long[0], new float[0], 3, 0);
    assertEquals(3 * 16, out.length);
    for (float o : out) {
      assertEquals(0f, o);
    }
  }

  @Test
  void sameRowTwiceAddsUp() throws OrtException {
    Table values = table(FLOAT, new Random(2), 5, 9);
    float[] out =
        run(FLOAT, values, 5, 9, new long[] {4, 4, 0}, new float[] {0.25f, 0.5f, 0f}, 1, 3);
    for (int x = 0; x < 9; x++) {
      assertEquals(0.75f * values.exact()[4 * 9 + x], out[x], 1e-6f);
    }
  }

  @Test
  void emptyBatch() throws OrtException {
    Table values = table(FLOAT, new Random(3), 5, 9);
    assertTrue(run(FLOAT, values, 5, 9, new long[0], new float[0], 0, 4).length == 0);
  }
}
