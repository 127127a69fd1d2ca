package dev.msnexport.ortops;

import static dev.msnexport.ortops.OnnxGraphs.FLOAT;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT16;
import static dev.msnexport.ortops.OnnxGraphs.INT64;
import static dev.msnexport.ortops.OnnxGraphs.intAttr;
import static dev.msnexport.ortops.OnnxGraphs.stringAttr;
import static dev.msnexport.ortops.OnnxGraphs.withPluginAttrs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * msn.MsnLayer against the contract computed here step by step (query projection, LayerNorms and
 * scores in double rounded to float32, {@link ContractReference#pkm}, the weighted read, the gate),
 * with exact score ties from duplicated key rows, per-token tables and float16 tokens; bad
 * attributes and shapes fail naming the node and the attribute or tensor.
 */
class MsnLayerOpTest {
  @RegisterExtension static final OpTestSupport.ClassRunner ORT = new OpTestSupport.ClassRunner();

  static final String OP = MsnOrtOps.MSN_LAYER;
  static final List<String> INPUTS =
      List.of("x", "wq", "bq", "lrw", "lrb", "lcw", "lcb", "krow", "kcol", "values");

  /** One layer's sizes and inputs (x as float32; rounded to half when the test feeds float16). */
  record Layer(int n, int d, int dk, int s, int k, int tokens, boolean perToken, float[][] t) {
    static Layer random(Random rnd, int n, int d, int dk, int s, int k, int tokens, boolean pt) {
      long rows = (long) s * s * (pt ? tokens : 1);
      float[][] t = new float[10][];
      t[0] = OpTestSupport.gaussian(rnd, n * d, 1);
      t[1] = OpTestSupport.gaussian(rnd, 2 * dk * d, 1 / Math.sqrt(d));
      t[2] = OpTestSupport.gaussian(rnd, 2 * dk, 0.1);
      for (int i = 3; i < 7; i++) {
        t[i] = OpTestSupport.gaussian(rnd, dk, 0.1);
        for (int j = 0; i % 2 == 1 && j < dk; j++) {
          t[i][j] += 1; // LN weights near 1, biases near 0
        }
      }
      for (int h = 7; h < 9; h++) {
        t[h] = OpTestSupport.gaussian(rnd, s * dk, 1);
        for (int j = 1; j < s; j += 2) { // odd key rows repeat the even ones: exact ties
          System.arraycopy(t[h], (j - 1) * dk, t[h], j * dk, dk);
        }
      }
      t[9] = OpTestSupport.gaussian(rnd, (int) rows * d, 1);
      return new Layer(n, d, dk, s, k, tokens, pt, t);
    }

    long[][] shapes() {
      long rows = (long) s * s * (perToken ? tokens : 1);
      return new long[][] {
        {n, d}, {2L * dk, d}, {2L * dk}, {dk}, {dk}, {dk}, {dk}, {s, dk}, {s, dk}, {rows, d}
      };
    }
  }

  static byte[] graph(String node, int xType, AttributeProto... attrs) {
    OnnxGraphs.Graph g = new OnnxGraphs.Graph().input("x", xType);
    for (String in : INPUTS.subList(1, INPUTS.size())) {
      g.input(in, FLOAT);
    }
    return g.node(OP, node, INPUTS, List.of("y", "w", "i"), withPluginAttrs(attrs))
        .output("y", xType)
        .output("w", FLOAT)
        .output("i", INT64)
        .toBytes();
  }

  static AttributeProto[] attrs(Layer l, String gate) {
    return new AttributeProto[] {
      intAttr("k", l.k()),
      stringAttr("gate", gate),
      intAttr("tokens", l.tokens()),
      intAttr("per_token", l.perToken() ? 1 : 0)
    };
  }

  static Map<String, OnnxTensor> feed(Layer l, int xType) throws OrtException {
    Map<String, OnnxTensor> m = new LinkedHashMap<>();
    long[][] shapes = l.shapes();
    m.put("x", OpTestSupport.floats(xType, l.t()[0], shapes[0]));
    for (int i = 1; i < 10; i++) {
      m.put(INPUTS.get(i), OrtRunner.floats(l.t()[i], shapes[i]));
    }
    return m;
  }

  /** The contract for query r of x (already as the kernel sees it): {y, weights}, slots. */
  static float[] reference(Layer l, float[] x, int r, String gate, long[] slotsOut, float[] wOut) {
    float[][] t = l.t();
    int d = l.d();
    int dk = l.dk();
    float[] q = new float[2 * dk];
    for (int o = 0; o < 2 * dk; o++) {
      double acc = 0;
      for (int i = 0; i < d; i++) {
        acc += (double) t[1][o * d + i] * x[r * d + i];
      }
      q[o] = (float) (acc + t[2][o]);
    }
    layerNorm(q, 0, dk, t[3], t[4]);
    layerNorm(q, dk, dk, t[5], t[6]);
    float[] a = scores(t[7], q, 0, l.s(), dk);
    float[] b = scores(t[8], q, dk, l.s(), dk);
    ContractReference.Retrieval ret = ContractReference.pkm(a, b, l.k());
    long off = l.perToken() ? (long) (r % l.tokens()) * l.s() * l.s() : 0;
    float[] y = new float[d];
    for (int i = 0; i < d; i++) {
      float v = 0;
      for (int m = 0; m < l.k(); m++) {
        v += (float) ret.weights()[m] * t[9][(int) ((ret.slots()[m] + off) * d + i)];
      }
      float act =
          switch (gate) {
            case "tanh" -> (float) Math.tanh(v);
            case "sigmoid" -> (float) (1 / (1 + Math.exp(-v)));
            default -> v;
          };
      y[i] = x[r * d + i] * act;
    }
    System.arraycopy(ret.slots(), 0, slotsOut, 0, l.k());
    for (int m = 0; m < l.k(); m++) {
      wOut[m] = (float) ret.weights()[m];
    }
    return y;
  }

  private static void layerNorm(float[] q, int from, int n, float[] g, float[] b) {
    double mean = 0;
    for (int i = 0; i < n; i++) {
      mean += q[from + i];
    }
    mean /= n;
    double var = 0;
    for (int i = 0; i < n; i++) {
      var += (q[from + i] - mean) * (q[from + i] - mean);
    }
    var /= n;
    double inv = 1 / Math.sqrt(var + (double) 1e-5f);
    for (int i = 0; i < n; i++) {
      q[from + i] = (float) ((q[from + i] - mean) * inv * g[i] + b[i]);
    }
  }

  private static float[] scores(float[] keys, float[] q, int from, int s, int dk) {
    float[] out = new float[s];
    for (int j = 0; j < s; j++) {
      double acc = 0;
      for (int i = 0; i < dk; i++) {
        acc += (double) keys[j * dk + i] * q[from + i];
      }
      out[j] = (float) acc;
    }
    return out;
  }

  private void check(Layer l, int xType, String gate, String node) throws OrtException {
    OrtSession s = ORT.get().session(node, graph(node, xType, attrs(l, gate)));
    Map<String, OnnxTensor> in = feed(l, xType);
    float[] x = xType == FLOAT16 ? OpTestSupport.roundToHalf(l.t()[0]) : l.t()[0];
    try (OrtSession.Result res = s.run(in)) {
      float[] y =
          xType == FLOAT16
              ? halves(OrtRunner.readShorts((OnnxTensor) res.get(0)))
              : OrtRunner.readFloats((OnnxTensor) res.get(0));
      float[] w = OrtRunner.readFloats((OnnxTensor) res.get(1));
      long[] idx = OrtRunner.readLongs((OnnxTensor) res.get(2));
      int ties = 0;
      for (int r = 0; r < l.n(); r++) {
        long[] slots = new long[l.k()];
        float[] wr = new float[l.k()];
        float[] yr = reference(l, x, r, gate, slots, wr);
        long[] got = java.util.Arrays.copyOfRange(idx, r * l.k(), (r + 1) * l.k());
        assertArrayEquals(slots, got, node + " query " + r + " slots");
        for (int m = 0; m < l.k(); m++) {
          assertEquals(wr[m], w[r * l.k() + m], 1e-6, node + " query " + r + " weight " + m);
          ties += m > 0 && wr[m] == wr[m - 1] ? 1 : 0;
        }
        double tol = xType == FLOAT16 ? 2e-3 : 1e-5;
        for (int i = 0; i < l.d(); i++) {
          float want = yr[i];
          assertEquals(want, y[r * l.d() + i], tol * (1 + Math.abs(want)), node + " y " + r);
        }
      }
      assertTrue(
          ties > 0, "duplicated key rows give tied candidates, so the tie rule is exercised");
    } finally {
      in.values().forEach(OnnxValue::close);
    }
  }

  private static float[] halves(short[] bits) {
    float[] f = new float[bits.length];
    for (int i = 0; i < bits.length; i++) {
      f[i] = ContractReference.halfToFloat(bits[i]);
    }
    return f;
  }

  @Test
  void matchesTheContractWithTiesAndPerTokenTables() throws OrtException {
    check(Layer.random(new Random(1), 24, 8, 4, 6, 5, 3, true), FLOAT, "tanh", "ml_ties");
  }

  @Test
  void sharedTableSigmoidGate() throws OrtException {
    check(Layer.random(new Random(2), 40, 16, 8, 16, 16, 4, false), FLOAT, "sigmoid", "ml_sig");
  }

  @Test
  void float16TokensIdentityGate() throws OrtException {
    check(Layer.random(new Random(3), 16, 16, 8, 8, 4, 2, false), FLOAT16, "identity", "ml_half");
  }

  // ---- bad input ----------------------------------------------------------------------------

  private static void assertMentions(Exception e, String... parts) {
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), () -> "should mention '" + p + "': " + e.getMessage());
    }
  }

  private OrtException runFails(Layer l, String node, AttributeProto... attrs) throws OrtException {
    OrtSession s = ORT.get().session(node, graph(node, FLOAT, attrs));
    Map<String, OnnxTensor> in = feed(l, FLOAT);
    try {
      return assertThrows(OrtException.class, () -> s.run(in).close());
    } finally {
      in.values().forEach(OnnxValue::close);
    }
  }

  @Test
  void kAboveSNamesNodeAndAttribute() throws OrtException {
    Layer l = Layer.random(new Random(4), 4, 8, 4, 4, 4, 2, false);
    Layer big = new Layer(l.n(), l.d(), l.dk(), l.s(), 5, l.tokens(), false, l.t());
    assertMentions(
        runFails(l, "ml_k", attrs(big, "tanh")),
        "msn.MsnLayer",
        "ml_k",
        "attribute k = 5",
        "S = 4");
  }

  @Test
  void wrongShapesNameTheTensor() throws OrtException {
    Layer l = Layer.random(new Random(5), 4, 8, 4, 4, 2, 2, true);
    Layer shared = new Layer(l.n(), l.d(), l.dk(), l.s(), l.k(), l.tokens(), false, l.t());
    // per_token = 0 with a [T*S*S, D] table: 'values' has the wrong row count
    assertMentions(runFails(l, "ml_rows", attrs(shared, "tanh")), "ml_rows", "'values'", "[16, 8]");
    Layer three = new Layer(l.n(), l.d(), l.dk(), l.s(), l.k(), 3, true, l.t());
    assertMentions(runFails(l, "ml_tok", attrs(three, "tanh")), "ml_tok", "'values'");
    // K_col [S, dk + 1]
    OrtSession s = ORT.get().session("ml_kcol", graph("ml_kcol", FLOAT, attrs(l, "tanh")));
    Map<String, OnnxTensor> in = feed(l, FLOAT);
    in.put("kcol", OrtRunner.floats(new float[l.s() * (l.dk() + 1)], l.s(), l.dk() + 1)).close();
    try {
      OrtException e = assertThrows(OrtException.class, () -> s.run(in).close());
      assertMentions(e, "ml_kcol", "'K_col'", "[4, 5]", "expected [4, 4]");
    } finally {
      in.values().forEach(OnnxValue::close);
    }
  }

  @Test
  void badGateFailsAtLoadNamingTheAttribute() {
    Layer l = Layer.random(new Random(6), 4, 8, 4, 4, 2, 2, false);
    OrtException e =
        assertThrows(
            OrtException.class,
            () -> ORT.get().newSession(graph("ml_gate", FLOAT, attrs(l, "relu"))).close());
    assertMentions(e, "msn.MsnLayer", "ml_gate", "gate = 'relu'", "tanh");
  }
}
