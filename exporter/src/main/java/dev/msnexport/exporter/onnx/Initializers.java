package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The initializers both graphs share, made once from the checkpoint (by checkpoint-derived name)
 * and written to the export's {@link TensorStore}: weights as float32 (optionally transposed or
 * broadcast), the folded keys, and the value tables in their storage type.
 */
final class Initializers {
  private final Checkpoint ckpt;
  private final ModelConfig c;
  private final DType valuesDtype;
  private final TensorStore store;
  private final Map<String, TensorProto> weights = new HashMap<>();

  Initializers(Checkpoint ckpt, DType valuesDtype, TensorStore store) {
    this.ckpt = ckpt;
    this.c = ckpt.config();
    this.valuesDtype = valuesDtype;
    this.store = store;
  }

  /** The shared tensor {@code key} (made on first use) as an initializer of {@code g}. */
  private String shared(GraphBuilder g, String key, Function<String, TensorProto> make) {
    TensorProto t = weights.computeIfAbsent(key, make);
    g.initializer(t);
    return t.getName();
  }

  /** A checkpoint weight as float32, optionally with its last two axes swapped (for x W^T). */
  String weight(GraphBuilder g, String name, boolean transposeLast2) {
    return shared(
        g,
        transposeLast2 ? name + ".T" : name,
        k -> {
          TensorView v = ckpt.tensor(name);
          long[] dims = v.shape();
          float[] data = v.toFloatArray();
          if (transposeLast2) {
            data = transposeLast2(data, dims);
          }
          return store.addFloats(k, dims, data, DType.F32);
        });
  }

  /** {@code data} with its last two axes swapped; {@code dims} is updated in place. */
  private static float[] transposeLast2(float[] data, long[] dims) {
    int r = (int) dims[dims.length - 2];
    int cc = (int) dims[dims.length - 1];
    int batches = data.length / (r * cc);
    float[] tr = new float[data.length];
    for (int bi = 0; bi < batches; bi++) {
      int base = bi * r * cc;
      for (int i = 0; i < r; i++) {
        for (int j = 0; j < cc; j++) {
          tr[base + j * r + i] = data[base + i * cc + j];
        }
      }
    }
    dims[dims.length - 2] = cc;
    dims[dims.length - 1] = r;
    return tr;
  }

  /** A per-token bias [T, X] as [T, 1, X], to broadcast over the batch in [T, B, X]. */
  String weight3(GraphBuilder g, String name) {
    return shared(
        g,
        name + ".bcast",
        k -> {
          TensorView v = ckpt.tensor(name);
          return store.addFloats(
              k, new long[] {v.dim(0), 1, v.dim(1)}, v.toFloatArray(), DType.F32);
        });
  }

  /**
   * score_scale * LN(keys Theta^T)^T as [dk, S] (or, {@code keyMajor}, as [S, dk] for MsnLayer),
   * computed in double: the exporter folds what is constant at inference time.
   */
  String foldedKeys(GraphBuilder g, int l, String half, boolean keyMajor) {
    String p = "blocks." + l + ".msn.";
    return shared(
        g,
        p + "folded_keys_" + half + (keyMajor ? "_sdk" : ""),
        k -> {
          double[] folded =
              foldKeys(
                  ckpt.tensor(p + "keys_" + half).toDoubleArray(),
                  ckpt.tensor(p + "theta_" + half).toDoubleArray(),
                  ckpt.tensor(p + "key_norm_" + half + ".weight").toDoubleArray(),
                  ckpt.tensor(p + "key_norm_" + half + ".bias").toDoubleArray(),
                  c.S(),
                  c.dk());
          float[] kt = new float[c.dk() * c.S()];
          for (int s = 0; s < c.S(); s++) {
            for (int d = 0; d < c.dk(); d++) {
              int at = keyMajor ? s * c.dk() + d : d * c.S() + s;
              kt[at] = (float) (c.scoreScale() * folded[s * c.dk() + d]);
              if (!Float.isFinite(kt[at])) {
                throw foldedKeysOverflow(p + "keys_" + half, s, d);
              }
            }
          }
          long[] dims = keyMajor ? new long[] {c.S(), c.dk()} : new long[] {c.dk(), c.S()};
          return store.addFloats(k, dims, kt, DType.F32);
        });
  }

  private BadInputException foldedKeysOverflow(String keys, int s, int d) {
    return new BadInputException(
        "checkpoint "
            + ckpt.weightsFile()
            + ": the folded keys of '"
            + keys
            + "' (score_scale "
            + c.scoreScale()
            + " x LN(keys theta^T)) overflow float32 at key "
            + s
            + ", index "
            + d);
  }

  /**
   * K' = LN(keys Theta^T), row-major [S, dk]; LayerNorm per key over dk, eps 1e-5, biased variance.
   */
  static double[] foldKeys(
      double[] keys, double[] theta, double[] gamma, double[] beta, int s, int dk) {
    double[] out = new double[s * dk];
    double[] row = new double[dk];
    for (int i = 0; i < s; i++) {
      for (int o = 0; o < dk; o++) {
        double acc = 0;
        for (int j = 0; j < dk; j++) {
          acc += keys[i * dk + j] * theta[o * dk + j];
        }
        row[o] = acc;
      }
      double mean = 0;
      for (double v : row) {
        mean += v;
      }
      mean /= dk;
      double var = 0;
      for (double v : row) {
        var += (v - mean) * (v - mean);
      }
      var /= dk;
      double inv = 1 / Math.sqrt(var + 1e-5);
      for (int o = 0; o < dk; o++) {
        out[i * dk + o] = (row[o] - mean) * inv * gamma[o] + beta[o];
      }
    }
    return out;
  }

  /**
   * The value table, in the requested storage type, streamed from the checkpoint: {table, scales}
   * (scales null unless quantized; a quantized table as the custom or the reference graph reads
   * it).
   */
  String[] values(GraphBuilder g, int l, boolean custom) {
    TensorProto[] t = table(l);
    g.initializer(custom ? t[0] : QuantizedTable.referenceView(t[0]));
    if (t[1] == null) {
      return new String[] {t[0].getName(), null};
    }
    g.initializer(t[1]);
    return new String[] {t[0].getName(), t[1].getName()};
  }

  /**
   * The custom graph's value table of MSN layer {@code l}: the table and its scales, or, past
   * {@code maxElements} elements, their shards ({@link TableShards}).
   */
  TableShards.Table valueShards(GraphBuilder g, int l, long maxElements) {
    TensorProto[] t = table(l);
    return TableShards.add(g, t[0], t[1], maxElements);
  }

  /**
   * {table, scales} of MSN layer {@code l}, made once for both graphs (scales null: not quantized).
   */
  private TensorProto[] table(int l) {
    String name = "blocks." + l + ".msn.values";
    if (RowQuantizer.isQuantized(valuesDtype)) {
      return QuantizedValues.of(weights, store, ckpt, name, c.valueRows(), c.D(), valuesDtype);
    }
    return new TensorProto[] {
      weights.computeIfAbsent(name, k -> valueTable(k, ckpt.tensor(name))), null
    };
  }

  /** The value table {@code v} streamed to the store in the storage type. */
  private TensorProto valueTable(String key, TensorView v) {
    long rows = c.valueRows();
    long[] dims = {rows, c.D()};
    DType as = valuesDtype;
    long bytes = rows * c.D() * as.size();
    SafetensorsWriter.Source src;
    if (v.dtype() == as) {
      src = v::transferTo;
    } else {
      src =
          out -> {
            int chunk = 1 << 16;
            float[] buf = new float[chunk];
            for (long i = 0; i < v.numel(); i += chunk) {
              int n = (int) Math.min(chunk, v.numel() - i);
              v.readFloats(i, buf, 0, n);
              SafetensorsWriter.writeConverted(out, as, buf, 0, n);
            }
          };
    }
    return store.add(key, as, dims, src, bytes);
  }
}
