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
public final class Fp16Emulation {
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

  /** Which tensors are rounded to fp16 (everything else fp32), or {@code exact}: nothing rounded. */
  static final class Mode implements Cloneable {
    String name;
    String label;
    boolean exact;
    boolean mix16; // token mixing's transposed copy in fp16
    boolean ffnStore16; // (a)
    Acc ffnAcc = Acc.F32; // (b) when F16_*
    boolean table16; // (c) value table rows
    boolean v16; // (c) gathered v before the gate
    boolean gelu16; // (d)
    boolean q16; // query projection: input x, W_q, b_q and q in fp16 (fp32 accumulation)
    boolean smm16; // key products: LN(q), K' and the scores a, b in fp16 (fp32 accumulation)
    boolean s16; // only the scores a, b stored in fp16
    boolean c16; // candidate scores c = a_i + b_j rounded to fp16 before top-k and softmax
    boolean ln16; // the outputs of mix_norm and ffn_norm in fp16
    boolean qAcc64; // fp32 question: the query projection's dot products (K = D) accumulated in float64, q rounded once
    boolean scoreAcc64; // fp32 question: the key products' dot products (K = dk) accumulated in float64, a and b rounded once
    int splitK = 1; // fp32 question: query projection and key products as splitK float32 chains over contiguous slices, then summed (export --scoring-split-k)
    java.util.Set<Integer> exactRetrieval = java.util.Set.of(); // layers whose slots and weights are the reference's

    static Mode fp32(String name, String label) {
      Mode m = new Mode();
      m.name = name;
      m.label = label;
      return m;
    }

    Mode with(java.util.function.Consumer<Mode> f) {
      try {
        Mode c = (Mode) clone();
        f.accept(c);
        return c;
      } catch (CloneNotSupportedException e) {
        throw new AssertionError(e);
      }
    }
  }

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

  /** Per MSN layer: row and column scores [queries, S] as the mode computes them, and its top-k slots. */
  record Layer(double[] row, double[] col, long[] slots, double[] weights) {}

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

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** LayerNorm of every token row of {@code out} with the norm {@code prefix}.weight/.bias. */
  void normRows(double[] out, int rows, int width, String prefix, java.util.function.DoubleUnaryOperator r) {
    float[] g = w(prefix + ".weight");
    float[] be = w(prefix + ".bias");
    for (int row = 0; row < rows; row++) {
      layerNorm(out, row * width, width, g, be, r);
    }
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
        double wt = ref != null ? rb.applyAsDouble(ref.weights[n * k + mm]) : rb.applyAsDouble(wts[mm] / sum);
        long slot = ref != null ? ref.slots[n * k + mm] : candSlot[best[mm]];
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

  // ---- checks and driver ---------------------------------------------------------------------

  /** 1 when f16(f) differs from DType's rounding of f (the first five are printed, {@code badSoFar} counting), else 0. */
  private static int mismatch(float f, int badSoFar) {
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

  public static void main(String[] args) throws Exception {
    String profileName = args.length > 0 ? args[0] : "small";
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    long seed = args.length > 2 ? Long.parseLong(args[2]) : 0;
    checkF16();
    Profile prof = Profiles.load(profileName);
    ModelConfig cfg = prof.model();
    Path ck = Files.createTempDirectory("fp16emu-ck");
    SyntheticCheckpoint.write(cfg, ck, 0);
    int T = cfg.T();
    int D = cfg.D();
    // the verifier's inputs (Inputs.random): SplittableRandom(seed), N(0, 1) cast to float
    float[] tokens = new float[batch * T * D];
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = (float) rnd.nextGaussian();
    }
    try (Checkpoint c = Checkpoint.open(ck)) {
      Fp16Emulation emu = new Fp16Emulation(c);
      long t0 = System.nanoTime();
      Mode exactMode = Mode.fp32("exact", "float64 (reference)").with(x -> x.exact = true);
      Map<Integer, Layer> exact = emu.forward(tokens, batch, exactMode);
      // the reference must be GoldenModel
      GoldenModel.Result g = new GoldenModel(c).forward(tokens, batch);
      double worst = 0;
      for (var e : g.retrieval().entrySet()) {
        Layer mine = exact.get(e.getKey());
        var lr = e.getValue();
        for (int i = 0; i < mine.row.length; i++) {
          worst = Math.max(worst, Math.abs(mine.row[i] - lr.rowScores()[i]));
          worst = Math.max(worst, Math.abs(mine.col[i] - lr.colScores()[i]));
        }
        if (!Arrays.equals(mine.slots, lr.slots())) {
          throw new IllegalStateException("layer " + e.getKey() + ": slots differ from GoldenModel");
        }
      }
      System.out.printf(Locale.ROOT, "reference vs GoldenModel: max |score diff| %.3g, slots identical (%.1f s)%n", worst,
          (System.nanoTime() - t0) / 1e9);
      if (worst > 1e-9) {
        throw new IllegalStateException("reference does not match GoldenModel");
      }
      int k = cfg.k();
      int S = cfg.S();
      double maxC = 0;
      Map<Integer, Double> layerMaxC = new LinkedHashMap<>();
      for (var e : exact.entrySet()) {
        Layer L = e.getValue();
        double lm = 0;
        for (int q = 0; q < L.slots.length / k; q++) {
          for (int mm = 0; mm < k; mm++) {
            long s = L.slots[q * k + mm];
            lm = Math.max(lm, Math.abs(L.row[q * S + (int) (s / S)] + L.col[q * S + (int) (s % S)]));
          }
        }
        layerMaxC.put(e.getKey(), lm);
        maxC = Math.max(maxC, lm);
      }
      System.out.printf(Locale.ROOT, "profile %s, batch %d, input seed %d, checkpoint seed 0: max|c| over top-k = %.2f %s; unit = u*max|c| = %.4g%n",
          profileName, batch, seed, maxC, layerMaxC, U * maxC);

      List<Mode> modes = new ArrayList<>();
      Mode fp32 = Mode.fp32("fp32", "float32 everywhere (baseline)");
      java.util.function.BiFunction<String, String, Mode> base = (n, lab) -> fp32.with(x -> { x.name = n; x.label = lab; });
      Mode engine = base.apply("engine-fp32acc", "described engine: mix16 + (a) + (c) + (d), fp32 accumulation")
          .with(x -> { x.mix16 = true; x.ffnStore16 = true; x.table16 = true; x.v16 = true; x.gelu16 = true; });
      java.util.function.BiFunction<Mode, String[], Mode> rename = (mm, nl) -> mm.with(x -> { x.name = nl[0]; x.label = nl[1]; });
      modes.add(fp32);
      modes.add(base.apply("mix16", "token mixing fp16").with(x -> x.mix16 = true));
      modes.add(base.apply("a", "(a) FFN storage fp16, fp32 accumulation").with(x -> x.ffnStore16 = true));
      modes.add(base.apply("b-seq", "(b) FFN fp16 storage + fp16 accumulation, sequential").with(x -> { x.ffnStore16 = true; x.ffnAcc = Acc.F16_SEQ; }));
      modes.add(base.apply("b-blk32", "(b) FFN fp16 storage + fp16 accumulation, 32-term blocks").with(x -> { x.ffnStore16 = true; x.ffnAcc = Acc.F16_BLK32; }));
      modes.add(base.apply("c-table", "(c) value table fp16 (v fp32)").with(x -> x.table16 = true));
      modes.add(base.apply("c", "(c) value table fp16 + v fp16 before gate").with(x -> { x.table16 = true; x.v16 = true; }));
      modes.add(base.apply("d", "(d) GELU fp16 (op by op)").with(x -> x.gelu16 = true));
      modes.add(engine);
      modes.add(rename.apply(engine, new String[] {"engine-fp16seq", "described engine with (b-seq)"}).with(x -> x.ffnAcc = Acc.F16_SEQ));
      modes.add(rename.apply(engine, new String[] {"engine-fp16blk", "described engine with (b-blk32)"}).with(x -> x.ffnAcc = Acc.F16_BLK32));
      // beyond the brief: fp16 inside the scoring path, which the described engine keeps fp32
      modes.add(base.apply("ln16", "LayerNorm outputs (mix_norm, ffn_norm) fp16").with(x -> x.ln16 = true));
      modes.add(base.apply("q16", "query projection fp16 (x, W_q, b_q, q; fp32 acc)").with(x -> x.q16 = true));
      modes.add(base.apply("s16", "scores a, b stored fp16").with(x -> x.s16 = true));
      modes.add(base.apply("smm16", "key products fp16 (LN(q), K', a, b; fp32 acc)").with(x -> x.smm16 = true));
      modes.add(base.apply("c16", "candidate scores c fp16 (top-k, softmax input)").with(x -> x.c16 = true));
      modes.add(rename.apply(engine, new String[] {"engine+s16", "described engine + scores a, b fp16"}).with(x -> x.s16 = true));
      modes.add(rename.apply(engine, new String[] {"engine+smm16", "described engine + key products fp16"}).with(x -> x.smm16 = true));
      modes.add(rename.apply(engine, new String[] {"engine+q16+smm16", "described engine + query projection and key products fp16"})
          .with(x -> { x.q16 = true; x.smm16 = true; }));
      // the fp32 engine's question (no fp16): which float32 accumulation moves layer 1's softmax weights
      modes.add(base.apply("f32-qacc64", "none (fp32); query projection sums in float64").with(x -> x.qAcc64 = true));
      modes.add(base.apply("f32-sacc64", "none (fp32); key product sums in float64").with(x -> x.scoreAcc64 = true));
      modes.add(base.apply("f32-qsacc64", "none (fp32); both in float64").with(x -> { x.qAcc64 = true; x.scoreAcc64 = true; }));
      modes.add(base.apply("f32-ffnacc64", "none (fp32); FFN sums in float64").with(x -> x.ffnAcc = Acc.F64));
      modes.add(base.apply("f32-split2", "none (fp32); query projection and key products split in 2 chains").with(x -> x.splitK = 2));
      modes.add(base.apply("f32-split4", "none (fp32); query projection and key products split in 4 chains").with(x -> x.splitK = 4));
      // attribution: the same modes with layer 0's slots and softmax weights taken from the reference
      modes.add(base.apply("mix16+L0-exact", "token mixing fp16, layer-0 retrieval exact").with(x -> { x.mix16 = true; x.exactRetrieval = java.util.Set.of(0); }));
      modes.add(rename.apply(engine, new String[] {"engine+L0-exact", "described engine, layer-0 retrieval exact"}).with(x -> x.exactRetrieval = java.util.Set.of(0)));
      modes.add(rename.apply(engine, new String[] {"engine-fp16seq+L0-exact", "engine with (b-seq), layer-0 retrieval exact"})
          .with(x -> { x.ffnAcc = Acc.F16_SEQ; x.exactRetrieval = java.util.Set.of(0); }));
      modes.add(rename.apply(engine, new String[] {"engine+s16+L0-exact", "engine + scores fp16, layer-0 retrieval exact"})
          .with(x -> { x.s16 = true; x.exactRetrieval = java.util.Set.of(0); }));

      StringBuilder md = new StringBuilder();
      md.append(String.format(Locale.ROOT, "| profile | mode | what is fp16 | L0 max | L0 p99 | L1 max | L1 p99 | L1 top-k slots changed "
          + "| L0 weights max abs err | L1 weights max abs err |%n"));
      for (Mode m : modes) {
        long t1 = System.nanoTime();
        Map<Integer, Layer> got = emu.forward(tokens, batch, m, exact);
        StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %s | %s | %s |", profileName, m.name, m.label));
        String changed = "";
        StringBuilder weightErrors = new StringBuilder();
        for (var e : exact.entrySet()) {
          Layer ex = e.getValue();
          Layer em = got.get(e.getKey());
          int queries = ex.slots.length / k;
          double[] per = new double[queries];
          int slotChanges = 0;
          for (int q = 0; q < queries; q++) {
            double worstQ = 0;
            for (int mm = 0; mm < k; mm++) {
              long s = ex.slots[q * k + mm];
              int i = (int) (s / S);
              int j = (int) (s % S);
              double cex = ex.row[q * S + i] + ex.col[q * S + j];
              double cem = m.exact ? em.row[q * S + i] + em.col[q * S + j] : f32(em.row[q * S + i] + em.col[q * S + j]);
              worstQ = Math.max(worstQ, Math.abs(cem - cex));
            }
            per[q] = worstQ / (U * maxC);
            long[] a = Arrays.copyOfRange(ex.slots, q * k, q * k + k);
            long[] b = Arrays.copyOfRange(em.slots, q * k, q * k + k);
            Arrays.sort(a);
            Arrays.sort(b);
            if (!Arrays.equals(a, b)) {
              slotChanges++;
            }
          }
          double werr = 0; // softmax weights, where both runs took the same slot at the same position
          for (int i = 0; i < ex.weights.length; i++) {
            if (ex.slots[i] == em.slots[i]) {
              werr = Math.max(werr, Math.abs(ex.weights[i] - em.weights[i]));
            }
          }
          weightErrors.append(String.format(Locale.ROOT, " %.2e |", werr));
          Arrays.sort(per);
          double max = per[queries - 1];
          double p99 = per[(int) Math.ceil(0.99 * queries) - 1];
          row.append(String.format(Locale.ROOT, " %.3f | %.3f |", max, p99));
          changed = slotChanges + "/" + queries;
        }
        row.append(" ").append(changed).append(" |").append(weightErrors);
        System.out.println(row + String.format(Locale.ROOT, "  (%.1f s)", (System.nanoTime() - t1) / 1e9));
        md.append(row).append('\n');
      }
      System.out.println();
      System.out.print(md);
    }
  }
}
