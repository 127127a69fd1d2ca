import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.golden.GoldenModel;
import dev.msnexport.verifier.golden.MathFunctions;
import dev.msnexport.verifier.golden.TopK;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * CPU emulation of where an fp16 TensorRT engine of the MSN model rounds, to find which rounding
 * moves the candidate scores c = a_i + b_j of MSN layer 1.
 *
 * <p>The forward is GoldenModel's (shared/docs/msn-model.md), in float64, with switches that round
 * chosen intermediate tensors (and running sums) to float32 or float16. The reference is the same
 * code with no rounding at all (checked against GoldenModel itself). Every mode other than the
 * reference rounds every tensor to float32 (and accumulates dot products in float32); the
 * switches then put chosen pieces in float16:
 *
 * <ul>
 *   <li>mix16: token mixing in fp16 (the transposed copy x[b, j, t*h+e] is rounded to fp16; the
 *       residual Add and the LayerNorm stay fp32);
 *   <li>ffnStore16 (hypothesis a): the FFN's input, W1, b1, pre-activation, GELU output, W2, b2 and
 *       output y stored in fp16, products accumulated in fp32; the residual Add and LN stay fp32;
 *   <li>ffnAcc (hypothesis b): the W1 (K = D) and W2 (K = H) running sums rounded to fp16 after
 *       every add, either sequentially or in 32-term chunks whose fp16 sums are added in fp16;
 *   <li>table16 / v16 (hypothesis c): value table rows in fp16 (fp32 accumulation, as the
 *       SparseGather contract says) and/or the gathered v rounded to fp16 before the fp32 gate;
 *   <li>gelu16 (hypothesis d): GELU on an fp16 input, evaluated as the exported graph writes it
 *       (Mul by fp16(1/sqrt 2), Erf, Add 1, Mul 0.5, Mul) with every op's result in fp16.
 * </ul>
 *
 * Run: java -cp JARS:CLASSES Fp16Emulation PROFILE [BATCH] [SEED]
 */
public final class Fp16Emulation extends Fp16Arithmetic {

  // ---- model ---------------------------------------------------------------------------------

  private final ModelConfig c;
  private final Checkpoint ckpt;
  private final Map<String, float[]> w32 = new HashMap<>();
  private final Map<String, float[]> w16 = new HashMap<>();

  Fp16Emulation(Checkpoint ckpt) {
    this.ckpt = ckpt;
    this.c = ckpt.config();
    for (Map.Entry<String, TensorView> e : ckpt.tensors().entrySet()) {
      if (!e.getKey().endsWith(".values")) {
        w32.put(e.getKey(), e.getValue().toFloatArray()); // the checkpoint is float32: exact
      }
    }
  }

  private float[] w(String name) {
    float[] v = w32.get(name);
    if (v == null) {
      throw new IllegalStateException("no tensor " + name);
    }
    return v;
  }

  private synchronized float[] w16(String name) {
    return w16.computeIfAbsent(name, n -> {
      float[] s = w(n);
      float[] o = new float[s.length];
      for (int i = 0; i < s.length; i++) {
        o[i] = (float) f16(s[i]);
      }
      return o;
    });
  }


  /** LayerNorm of every token row of {@code out} with the norm {@code prefix}.weight/.bias. */
  void normRows(double[] out, int rows, int width, String prefix, java.util.function.DoubleUnaryOperator r) {
    float[] g = w(prefix + ".weight");
    float[] be = w(prefix + ".bias");
    for (int row = 0; row < rows; row++) {
      layerNorm(out, row * width, width, g, be, r);
    }
  }

  Map<Integer, Layer> forward(float[] tokens, int batch, Mode m) {
    return forward(tokens, batch, m, null);
  }

  /** {@code ref}: the reference's layers, for modes that take some layers' retrieval from it. */
  Map<Integer, Layer> forward(float[] tokens, int batch, Mode m, Map<Integer, Layer> ref) {
    java.util.function.DoubleUnaryOperator rb = m.exact ? (v -> v) : Fp16Emulation::f32;
    int T = c.T();
    int D = c.D();
    double[] x = new double[tokens.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = tokens[i];
    }
    Map<Integer, Layer> out = new LinkedHashMap<>();
    for (int l = 0; l < c.L(); l++) {
      String p = "blocks." + l + ".";
      x = tokenMixing(x, batch, p, m, rb);
      if (c.isMsnLayer(l)) {
        out.put(l, memory(x, batch, l, m, rb, m.exactRetrieval.contains(l) ? ref.get(l) : null));
      }
      x = ffn(x, batch, p, m, rb);
    }
    return out;
  }

  private double[] tokenMixing(double[] x, int batch, String p, Mode m, java.util.function.DoubleUnaryOperator rb) {
    int T = c.T();
    int D = c.D();
    int h = c.tokenChunk();
    double[] out = new double[x.length];
    // element i is x[b, t, j*h + e]; its mixed partner is x[b, j, t*h + e]
    for (int i = 0; i < out.length; i++) {
      int j = i % D / h;
      int t = i / D % T;
      double mixed = x[i - (t * D + j * h) + j * D + t * h];
      out[i] = rb.applyAsDouble(x[i] + (m.mix16 ? f16(mixed) : mixed));
    }
    normRows(out, batch * T, D, p + "mix_norm", m.ln16 ? Fp16Emulation::f16 : rb);
    return out;
  }

  private final Map<String, double[]> exactKeys = new HashMap<>();

  /** K' = LN(keys Theta^T) in float64, [S, dk]: the exporter's own folding (before its float32 store). */
  private synchronized double[] keys64(String p, String half) {
    return exactKeys.computeIfAbsent(p + half, k -> MsnOnnxExporter.foldKeys(toDouble(w(p + "keys_" + half)),
        toDouble(w(p + "theta_" + half)), toDouble(w(p + "key_norm_" + half + ".weight")), toDouble(w(p + "key_norm_" + half + ".bias")),
        c.S(), c.dk()));
  }

  private Layer memory(double[] x, int batch, int l, Mode m, java.util.function.DoubleUnaryOperator rb, Layer ref) {
    String p = "blocks." + l + ".msn.";
    int T = c.T(), D = c.D(), dk = c.dk(), S = c.S(), k = c.k();
    double[] kr64 = keys64(p, "row");
    double[] kc64 = keys64(p, "col");
    java.util.function.DoubleUnaryOperator rk = m.exact ? (v -> v) : m.smm16 ? Fp16Emulation::f16 : Fp16Emulation::f32;
    double[] kr = Arrays.stream(kr64).map(rk).toArray();
    double[] kc = Arrays.stream(kc64).map(rk).toArray();
    float[] wq = m.q16 ? w16(p + "query.weight") : w(p + "query.weight");
    float[] bq = m.q16 ? w16(p + "query.bias") : w(p + "query.bias");
    java.util.function.DoubleUnaryOperator rq = m.q16 ? Fp16Emulation::f16 : rb;
    java.util.function.DoubleUnaryOperator rqn = m.smm16 ? Fp16Emulation::f16 : rb;
    java.util.function.DoubleUnaryOperator rs = m.smm16 || m.s16 ? Fp16Emulation::f16 : rb;
    java.util.function.DoubleUnaryOperator rc = m.c16 ? Fp16Emulation::f16 : rb;
    double[] weights = new double[queries0(batch) * k];
    Acc acc = m.exact ? Acc.F64 : Acc.F32;
    int queries = batch * T;
    long[] slots = new long[queries * k];
    double[] rowScores = new double[queries * S];
    double[] colScores = new double[queries * S];
    TensorView values = ckpt.tensor(p + "values");
    double scale = c.scoreScale();
    IntStream.range(0, queries).parallel().forEach(n -> {
      int xo = n * D;
      double[] q = new double[2 * dk];
      double[] xq = new double[D];
      for (int d = 0; d < D; d++) {
        xq[d] = rq.applyAsDouble(x[xo + d]);
      }
      for (int o = 0; o < 2 * dk; o++) {
        int row = o * D;
        q[o] = rq.applyAsDouble(m.splitK > 1 && !m.exact && !m.qAcc64
            ? (float) (chains(D, m.splitK, d -> (double) wq[row + d] * xq[d]) + bq[o])
            : dot(wq, o * D, xq, 0, D, bq[o], m.qAcc64 ? Acc.F64 : acc));
      }
      layerNorm(q, 0, dk, w(p + "query_norm_row.weight"), w(p + "query_norm_row.bias"), rqn);
      layerNorm(q, dk, dk, w(p + "query_norm_col.weight"), w(p + "query_norm_col.bias"), rqn);
      for (int s = 0; s < S; s++) {
        double a = 0;
        double bb = 0;
        if (m.exact || m.scoreAcc64) {
          for (int d = 0; d < dk; d++) {
            a += kr[s * dk + d] * q[d];
            bb += kc[s * dk + d] * q[dk + d];
          }
        } else if (m.splitK > 1) {
          int ko = s * dk;
          a = chains(dk, m.splitK, d -> kr[ko + d] * q[d]);
          bb = chains(dk, m.splitK, d -> kc[ko + d] * q[dk + d]);
        } else {
          for (int d = 0; d < dk; d++) {
            a = (float) (a + kr[s * dk + d] * q[d]);
            bb = (float) (bb + kc[s * dk + d] * q[dk + d]);
          }
        }
        rowScores[n * S + s] = rs.applyAsDouble(scale * a);
        colScores[n * S + s] = rs.applyAsDouble(scale * bb);
      }
      int[] ti = TopK.select(rowScores, n * S, S, k);
      int[] tj = TopK.select(colScores, n * S, S, k);
      long[] candSlot = new long[k * k];
      double[] candScore = new double[k * k];
      for (int ij = 0; ij < k * k; ij++) { // candidate (i, j) = row slot ti[i], column slot tj[j]
        int i = ij / k;
        int j = ij % k;
        candSlot[ij] = (long) ti[i] * S + tj[j];
        candScore[ij] = rc.applyAsDouble(rowScores[n * S + ti[i]] + colScores[n * S + tj[j]]);
      }
      int[] best = TopK.selectBySlot(candScore, candSlot, k);
      double max = Double.NEGATIVE_INFINITY;
      for (int mm = 0; mm < k; mm++) {
        max = Math.max(max, candScore[best[mm]]);
      }
      double[] wts = new double[k];
      double sum = 0;
      for (int mm = 0; mm < k; mm++) {
        wts[mm] = Math.exp(candScore[best[mm]] - max);
        sum += wts[mm];
      }
      double[] v = new double[D];
      float[] row = new float[D];
      for (int mm = 0; mm < k; mm++) {
        double wt = ref != null ? rb.applyAsDouble(ref.weights()[n * k + mm]) : rb.applyAsDouble(wts[mm] / sum);
        long slot = ref != null ? ref.slots()[n * k + mm] : candSlot[best[mm]];
        weights[n * k + mm] = wt;
        slots[n * k + mm] = slot;
        long tableRow = c.perTokenMemory() ? (long) (n % T) * c.slots() + slot : slot;
        values.readFloats(tableRow * D, row, 0, D);
        for (int d = 0; d < D; d++) {
          double val = m.table16 ? f16(row[d]) : row[d];
          v[d] = rb.applyAsDouble(v[d] + wt * val);
        }
      }
      for (int d = 0; d < D; d++) {
        double vd = m.v16 ? f16(v[d]) : v[d];
        double a = switch (c.gate()) {
          case "tanh" -> Math.tanh(vd);
          case "sigmoid" -> 1 / (1 + Math.exp(-vd));
          default -> vd;
        };
        x[xo + d] = rb.applyAsDouble(x[xo + d] * rb.applyAsDouble(a));
      }
    });
    return new Layer(rowScores, colScores, slots, weights);
  }

  private int queries0(int batch) {
    return batch * c.T();
  }

  private double[] ffn(double[] x, int batch, String p, Mode m, java.util.function.DoubleUnaryOperator rb) {
    int T = c.T();
    int D = c.D();
    int H = c.ffnHidden();
    boolean s16 = m.ffnStore16;
    float[] w1 = s16 ? w16(p + "ffn.w1") : w(p + "ffn.w1");
    float[] b1 = s16 ? w16(p + "ffn.b1") : w(p + "ffn.b1");
    float[] w2 = s16 ? w16(p + "ffn.w2") : w(p + "ffn.w2");
    float[] b2 = s16 ? w16(p + "ffn.b2") : w(p + "ffn.b2");
    Acc acc = m.exact ? Acc.F64 : m.ffnAcc;
    java.util.function.DoubleUnaryOperator rs = s16 ? Fp16Emulation::f16 : rb; // storage of FFN tensors
    double[] out = new double[x.length];
    IntStream.range(0, batch * T).parallel().forEach(r -> {
      int t = r % T;
      int xo = r * D;
      double[] xin = new double[D];
      for (int d = 0; d < D; d++) {
        xin[d] = rs.applyAsDouble(x[xo + d]);
      }
      double[] hid = new double[H];
      for (int j = 0; j < H; j++) {
        double pre = rs.applyAsDouble(dot(w1, (t * H + j) * D, xin, 0, D, b1[t * H + j], acc));
        hid[j] = m.gelu16 ? gelu16(pre) : rs.applyAsDouble(gelu(pre));
      }
      for (int d = 0; d < D; d++) {
        double y = rs.applyAsDouble(dot(w2, (t * D + d) * H, hid, 0, H, b2[t * D + d], acc));
        out[xo + d] = rb.applyAsDouble(x[xo + d] + y);
      }
    });
    normRows(out, batch * T, D, p + "ffn_norm", m.ln16 ? Fp16Emulation::f16 : rb);
    return out;
  }

  /** See {@link Fp16EmulationRun#main}. */
  public static void main(String[] args) throws Exception {
    Fp16EmulationRun.main(args);
  }
}
