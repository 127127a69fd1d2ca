package dev.msnexport.ortops;

import static dev.msnexport.ortops.OnnxGraphs.FLOAT;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT8E4M3FN;
import static dev.msnexport.ortops.OnnxGraphs.INT64;
import static dev.msnexport.ortops.OnnxGraphs.INT8;
import static dev.msnexport.ortops.OnnxGraphs.withPluginAttrs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * msn.SparseGather over quantized tables (int8, float8 E4M3FN, with float32 scales as the 4th
 * input): the result against a float64 reference, and bad tables refused naming the tensor.
 */
class QuantizedSparseGatherOpTest {
  @RegisterExtension static final OpTestSupport.ClassRunner ORT = new OpTestSupport.ClassRunner();

  /** E4M3FN written from the format: bias 7, 3 mantissa bits, subnormals m * 2^-9. */
  static double e4m3(byte code) {
    int b = code & 0xff;
    int e = (b >> 3) & 15;
    int m = b & 7;
    double v = e == 0 ? m / 512.0 : (1 + m / 8.0) * Math.pow(2, e - 7);
    return (b & 0x80) != 0 ? -v : v;
  }

  static double decode(int type, byte code) {
    return type == INT8 ? code : e4m3(code);
  }

  /** SparseGather(v, i, w[, s]) with v (and s) initializers. */
  static byte[] graph(String node, int type, long m, long d, byte[] codes, float[] scales) {
    TensorProto v =
        TensorProto.newBuilder()
            .setName("v")
            .setDataType(type)
            .addDims(m)
            .addDims(d)
            .setRawData(ByteString.copyFrom(codes))
            .build();
    List<String> inputs = new ArrayList<>(List.of("v", "i", "w"));
    OnnxGraphs.Graph g = new OnnxGraphs.Graph().initializer(v).input("i", INT64).input("w", FLOAT);
    if (scales != null) {
      ByteBuffer b = ByteBuffer.allocate(scales.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float s : scales) {
        b.putFloat(s);
      }
      g.initializer(
          TensorProto.newBuilder()
              .setName("s")
              .setDataType(FLOAT)
              .addDims(scales.length)
              .setRawData(ByteString.copyFrom(b.array()))
              .build());
      inputs.add("s");
    }
    return g.node(MsnOrtOps.SPARSE_GATHER, node, inputs, List.of("o"), withPluginAttrs())
        .output("o", FLOAT)
        .toBytes();
  }

  static float[] run(String key, byte[] model, long[] idx, float[] w, int n, int k)
      throws OrtException {
    OrtSession s = ORT.get().session(key, model);
    try (OnnxTensor i = OrtRunner.longs(idx, n, k);
        OnnxTensor wt = OrtRunner.floats(w, n, k);
        OrtSession.Result r = s.run(Map.of("i", i, "w", wt))) {
      return OrtRunner.readFloats((OnnxTensor) r.get(0));
    }
  }

  static byte[] randomCodes(int type, Random rnd, int count) {
    byte[] c = new byte[count];
    for (int x = 0; x < count; x++) {
      int code;
      do {
        code = rnd.nextInt(256);
      } while (type == INT8 ? code == 0x80 : (code & 0x7f) == 0x7f);
      c[x] = (byte) code;
    }
    return c;
  }

  @ParameterizedTest(name = "type {0}")
  @ValueSource(ints = {INT8, FLOAT8E4M3FN})
  void matchesTheDequantizedTable(int type) throws OrtException {
    int m = 300;
    int d = 67;
    int n = 40;
    int k = 16;
    Random rnd = new Random(type);
    byte[] codes = randomCodes(type, rnd, m * d);
    float[] scales = new float[m];
    for (int r = 0; r < m; r++) {
      scales[r] = (float) Math.abs(rnd.nextGaussian() * 0.01);
    }
    scales[5] = 0; // a zero row
    java.util.Arrays.fill(codes, 5 * d, 6 * d, (byte) 0);
    long[] idx = new long[n * k];
    float[] w = new float[n * k];
    for (int x = 0; x < n * k; x++) {
      idx[x] = x % 97 == 0 ? 5 : rnd.nextInt(m);
      w[x] = rnd.nextFloat();
    }
    float[] out = run("q" + type, graph("sg_q", type, m, d, codes, scales), idx, w, n, k);
    for (int q = 0; q < n; q++) {
      for (int x = 0; x < d; x++) {
        double ref = 0;
        double mag = 0;
        for (int j = 0; j < k; j++) {
          int row = (int) idx[q * k + j];
          double term = (double) w[q * k + j] * scales[row] * decode(type, codes[row * d + x]);
          ref += term;
          mag += Math.abs(term);
        }
        double tol = 1e-30 + 3.0 * k * 0x1p-24 * mag;
        assertEquals(ref, out[q * d + x], tol, "out[" + q + ", " + x + "]");
      }
    }
  }

  private static void assertRefused(String node, byte[] model, String... parts) {
    OrtException e =
        assertThrows(
            OrtException.class,
            () -> run(node, model, new long[] {0, 1}, new float[] {0.5f, 0.5f}, 1, 2));
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), () -> "should mention '" + p + "': " + e.getMessage());
    }
  }

  private static final byte[] OK_CODES = {1, 2, 3, 4, 5, 6};

  @Test
  void missingScalesAreRefused() {
    assertRefused(
        "sg_noscales", graph("sg_noscales", INT8, 2, 3, OK_CODES, null), "'scales'", "missing");
  }

  @Test
  void wrongLengthScalesAreRefused() {
    assertRefused(
        "sg_len",
        graph("sg_len", INT8, 2, 3, OK_CODES, new float[] {1, 1, 1}),
        "'scales'",
        "[3]",
        "[2]");
  }

  @Test
  void nanOrNegativeScalesAreRefused() {
    assertRefused(
        "sg_nan",
        graph("sg_nan", FLOAT8E4M3FN, 2, 3, OK_CODES, new float[] {1, Float.NaN}),
        "'scales'",
        "row 1");
    assertRefused(
        "sg_neg", graph("sg_neg", INT8, 2, 3, OK_CODES, new float[] {-1, 1}), "'scales'", "row 0");
  }

  @Test
  void zeroScaleWithANonzeroRowIsRefused() {
    assertRefused(
        "sg_zero",
        graph("sg_zero", INT8, 2, 3, OK_CODES, new float[] {1, 0}),
        "'values'",
        "row 1",
        "scale 0");
  }

  @Test
  void outOfRangeCodesAreRefused() {
    byte[] c = OK_CODES.clone();
    c[4] = (byte) 0x80;
    assertRefused(
        "sg_m128",
        graph("sg_m128", INT8, 2, 3, c, new float[] {1, 1}),
        "'values'",
        "-128",
        "[1, 1]");
    c[4] = 0x7f;
    assertRefused(
        "sg_fp8nan",
        graph("sg_fp8nan", FLOAT8E4M3FN, 2, 3, c, new float[] {1, 1}),
        "'values'",
        "NaN",
        "[1, 1]");
  }

  @Test
  void scalesWithAFloatTableAreRefused() {
    byte[] floats = new byte[2 * 3 * 4];
    assertRefused(
        "sg_fscales",
        graph("sg_fscales", FLOAT, 2, 3, floats, new float[] {1, 1}),
        "'scales'",
        "float32");
  }
}
