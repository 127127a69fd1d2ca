package dev.msnexport.verifier.golden;

import static dev.msnexport.verifier.golden.MathFunctions.gelu;
import static dev.msnexport.verifier.golden.MathFunctions.layerNorm;
import static dev.msnexport.verifier.golden.MathFunctions.sigmoid;

import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model of docs/model-contract.md in plain Java, float64 throughout, written from the contract
 * and not from the graph code: the answer every other implementation is checked against. Dense
 * weights are read once into arrays; value tables stay memory-mapped and only the retrieved rows
 * are read.
 */
public final class GoldenModel {
  private final ModelConfig c;
  private final Checkpoint ckpt;
  private final Map<String, double[]> dense = new LinkedHashMap<>();

  /** Per MSN layer: retrieved slots [B*T*k] (in [0, n)), weights, and both halves' scores. */
  public record LayerRetrieval(
      int layer,
      int queries,
      int k,
      int s,
      long[] slots,
      double[] weights,
      double[] rowScores,
      double[] colScores) {
    /** The candidate score a_i + b_j of a slot, for query q. */
    public double score(int q, long slot) {
      int i = (int) (slot / s);
      int j = (int) (slot % s);
      return rowScores[q * s + i] + colScores[q * s + j];
    }
  }

  /**
   * Task outputs ({@code [B]} each, in task order), retrieval per MSN layer, and for an int8/fp8
   * table the quantization error of the gathered vectors per MSN layer (else empty).
   */
  public record Result(
      Map<String, double[]> outputs,
      Map<Integer, LayerRetrieval> retrieval,
      Map<Integer, GatherError> gatherErrors) {}

  private final DType valuesDtype;

  /** The model with the checkpoint's value tables as they are. */
  public GoldenModel(Checkpoint ckpt) {
    this(ckpt, DType.F32);
  }

  /**
   * The model as an export of value type {@code valuesDtype} computes it: an int8/fp8 table is
   * dequantized by the exporter's rule; other types read the checkpoint's values as they are.
   */
  public GoldenModel(Checkpoint ckpt, DType valuesDtype) {
    this.valuesDtype = valuesDtype;
    this.ckpt = ckpt;
    this.c = ckpt.config();
    for (Map.Entry<String, TensorView> e : ckpt.tensors().entrySet()) {
      if (!e.getKey().endsWith(".values")) {
        dense.put(e.getKey(), e.getValue().toDoubleArray());
      }
    }
  }

  public ModelConfig config() {
    return c;
  }

  private double[] w(String name) {
    double[] v = dense.get(name);
    if (v == null) {
      throw new IllegalStateException("checkpoint has no tensor " + name);
    }
    return v;
  }

  /** Runs the model on {@code tokens} ({@code [batch, T, D]} row-major). */
  public Result forward(float[] tokens, int batch) {
    int T = c.T();
    int D = c.D();
    if (tokens.length != (long) batch * T * D) {
      throw new IllegalArgumentException(
          "tokens holds " + tokens.length + " values, expected " + batch + "x" + T + "x" + D);
    }
    double[] x = new double[tokens.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = tokens[i];
    }
    Map<Integer, LayerRetrieval> retrieval = new LinkedHashMap<>();
    GatherRows rows = new GatherRows(D, valuesDtype);
    for (int l = 0; l < c.L(); l++) {
      String p = "blocks." + l + ".";
      x = tokenMixing(x, batch, p);
      if (c.isMsnLayer(l)) {
        retrieval.put(l, memory(x, batch, l, rows));
      }
      x = ffn(x, batch, p);
    }
    Map<String, double[]> outputs = new LinkedHashMap<>();
    double[] pooled = new double[batch * D];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < T; t++) {
        for (int d = 0; d < D; d++) {
          pooled[b * D + d] += x[(b * T + t) * D + d] / T;
        }
      }
    }
    for (String task : c.tasks()) {
      String p = "heads." + task + ".";
      double[] w1 = w(p + "w1");
      double[] b1 = w(p + "b1");
      double[] w2 = w(p + "w2");
      double b2 = w(p + "b2")[0];
      int hh = c.headHidden();
      double[] out = new double[batch];
      for (int b = 0; b < batch; b++) {
        double o = b2;
        for (int j = 0; j < hh; j++) {
          double acc = b1[j];
          for (int d = 0; d < D; d++) {
            acc += w1[j * D + d] * pooled[b * D + d];
          }
          o += w2[j] * gelu(acc);
        }
        out[b] = sigmoid(o);
      }
      outputs.put(task, out);
    }
    return new Result(outputs, retrieval, rows.errors());
  }

  /** RankMixer mixing: token t's chunk j becomes token j's chunk t; then x = LN(x + mix(x)). */
  private double[] tokenMixing(double[] x, int batch, String p) {
    int T = c.T();
    int D = c.D();
    int h = c.tokenChunk();
    double[] out = new double[x.length];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < T; t++) {
        for (int j = 0; j < T; j++) {
          for (int e = 0; e < h; e++) {
            // mixed[b, t, j*h + e] = x[b, j, t*h + e]
            out[(b * T + t) * D + j * h + e] =
                x[(b * T + t) * D + j * h + e] + x[(b * T + j) * D + t * h + e];
          }
        }
      }
    }
    double[] g = w(p + "mix_norm.weight");
    double[] be = w(p + "mix_norm.bias");
    for (int r = 0; r < batch * T; r++) {
      layerNorm(out, r * D, D, g, be);
    }
    return out;
  }

  private LayerRetrieval memory(double[] x, int batch, int l, GatherRows rows) {
    String p = "blocks." + l + ".msn.";
    int T = c.T();
    int D = c.D();
    int dk = c.dk();
    int S = c.S();
    int k = c.k();
    double[] keysRow = effectiveKeys(p, "row");
    double[] keysCol = effectiveKeys(p, "col");
    double[] wq = w(p + "query.weight");
    double[] bq = w(p + "query.bias");
    int queries = batch * T;
    long[] slots = new long[queries * k];
    double[] weights = new double[queries * k];
    double[] rowScores = new double[queries * S];
    double[] colScores = new double[queries * S];
    TensorView values = ckpt.tensor(p + "values");
    double[] q = new double[2 * dk];
    for (int n = 0; n < queries; n++) {
      int xo = n * D;
      for (int o = 0; o < 2 * dk; o++) {
        double acc = bq[o];
        for (int d = 0; d < D; d++) {
          acc += wq[o * D + d] * x[xo + d];
        }
        q[o] = acc;
      }
      layerNorm(q, 0, dk, w(p + "query_norm_row.weight"), w(p + "query_norm_row.bias"));
      layerNorm(q, dk, dk, w(p + "query_norm_col.weight"), w(p + "query_norm_col.bias"));
      for (int s = 0; s < S; s++) {
        double a = 0;
        double bb = 0;
        for (int d = 0; d < dk; d++) {
          a += keysRow[s * dk + d] * q[d];
          bb += keysCol[s * dk + d] * q[dk + d];
        }
        rowScores[n * S + s] = c.scoreScale() * a;
        colScores[n * S + s] = c.scoreScale() * bb;
      }
      int[] ti = TopK.select(rowScores, n * S, S, k);
      int[] tj = TopK.select(colScores, n * S, S, k);
      // all k*k candidates, then top-k with the lower slot first among equal scores
      long[] candSlot = new long[k * k];
      double[] candScore = new double[k * k];
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++) {
          candSlot[i * k + j] = (long) ti[i] * S + tj[j];
          candScore[i * k + j] = rowScores[n * S + ti[i]] + colScores[n * S + tj[j]];
        }
      }
      int[] best = TopK.selectBySlot(candScore, candSlot, k);
      double max = Double.NEGATIVE_INFINITY;
      for (int m = 0; m < k; m++) {
        max = Math.max(max, candScore[best[m]]);
      }
      double sum = 0;
      for (int m = 0; m < k; m++) {
        double e = Math.exp(candScore[best[m]] - max);
        weights[n * k + m] = e;
        sum += e;
      }
      double[] v = new double[D];
      int t = n % T;
      rows.begin();
      for (int m = 0; m < k; m++) {
        weights[n * k + m] /= sum;
        long slot = candSlot[best[m]];
        slots[n * k + m] = slot;
        long tableRow = c.perTokenMemory() ? (long) t * c.slots() + slot : slot;
        rows.add(values, tableRow, weights[n * k + m], v);
      }
      rows.end(l, v);
      for (int d = 0; d < D; d++) {
        double a =
            switch (c.gate()) {
              case "tanh" -> Math.tanh(v[d]);
              case "sigmoid" -> sigmoid(v[d]);
              default -> v[d];
            };
        x[xo + d] *= a;
      }
    }
    return new LayerRetrieval(l, queries, k, S, slots, weights, rowScores, colScores);
  }

  /** K' = LN(keys Theta^T) per key, [S, dk]. */
  private double[] effectiveKeys(String p, String half) {
    int S = c.S();
    int dk = c.dk();
    double[] keys = w(p + "keys_" + half);
    double[] theta = w(p + "theta_" + half);
    double[] out = new double[S * dk];
    for (int s = 0; s < S; s++) {
      for (int o = 0; o < dk; o++) {
        double acc = 0;
        for (int j = 0; j < dk; j++) {
          acc += keys[s * dk + j] * theta[o * dk + j];
        }
        out[s * dk + o] = acc;
      }
      layerNorm(
          out,
          s * dk,
          dk,
          w(p + "key_norm_" + half + ".weight"),
          w(p + "key_norm_" + half + ".bias"));
    }
    return out;
  }

  /** Per-token FFN with exact GELU, then x = LN(x + y). */
  private double[] ffn(double[] x, int batch, String p) {
    int T = c.T();
    int D = c.D();
    int H = c.ffnHidden();
    double[] w1 = w(p + "ffn.w1");
    double[] b1 = w(p + "ffn.b1");
    double[] w2 = w(p + "ffn.w2");
    double[] b2 = w(p + "ffn.b2");
    double[] out = new double[x.length];
    double[] hid = new double[H];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < T; t++) {
        int xo = (b * T + t) * D;
        for (int j = 0; j < H; j++) {
          double acc = b1[t * H + j];
          int wo = (t * H + j) * D;
          for (int d = 0; d < D; d++) {
            acc += w1[wo + d] * x[xo + d];
          }
          hid[j] = gelu(acc);
        }
        for (int d = 0; d < D; d++) {
          double acc = b2[t * D + d];
          int wo = (t * D + d) * H;
          for (int j = 0; j < H; j++) {
            acc += w2[wo + j] * hid[j];
          }
          out[xo + d] = x[xo + d] + acc;
        }
      }
    }
    double[] g = w(p + "ffn_norm.weight");
    double[] be = w(p + "ffn_norm.bias");
    for (int r = 0; r < batch * T; r++) {
      layerNorm(out, r * D, D, g, be);
    }
    return out;
  }
}
