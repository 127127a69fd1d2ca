package dev.msnexport.verifier.golden;

import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.TensorView;
import java.util.Map;
import java.util.TreeMap;

/**
 * How the golden model reads the value-table rows it gathers: as the checkpoint holds them, or, for
 * an int8/fp8 export, dequantized by the exporter's own rule ({@link RowQuantizer}; each row's
 * codes depend on that row only, so they are recomputed here from the checkpoint). For a quantized
 * table it also sums, per gathered vector, the same weights times the unquantized rows and the
 * per-element error bounds, and records how far the quantized vector is from the unquantized one
 * ({@link GatherError}).
 */
final class GatherRows {
  private final DType as;
  private final int d;
  private final float[] row;
  private final byte[] codes;
  private final double[] exact;
  private final double[] bound;
  private final Map<Integer, GatherError> errors = new TreeMap<>();

  GatherRows(int d, DType as) {
    this.d = d;
    this.as = RowQuantizer.isQuantized(as) ? as : null;
    this.row = new float[d];
    this.codes = new byte[d];
    this.exact = new double[d];
    this.bound = new double[d];
  }

  boolean quantized() {
    return as != null;
  }

  /** Starts a gathered vector. */
  void begin() {
    java.util.Arrays.fill(exact, 0);
    java.util.Arrays.fill(bound, 0);
  }

  /** {@code v += w * row r of values} (dequantized when the export is quantized). */
  void add(TensorView values, long r, double w, double[] v) {
    values.readFloats(r * d, row, 0, d);
    if (as == null) {
      for (int x = 0; x < d; x++) {
        v[x] += w * row[x];
      }
      return;
    }
    float scale = RowQuantizer.quantize(row, 0, d, as, codes, 0);
    for (int x = 0; x < d; x++) {
      v[x] += w * RowQuantizer.dequantize(codes[x], scale, as);
      exact[x] += w * row[x];
      bound[x] += Math.abs(w) * RowQuantizer.errorBound(row[x], scale, as);
    }
  }

  /** Ends the gathered vector {@code v} of MSN layer {@code layer}. */
  void end(int layer, double[] v) {
    if (as == null) {
      return;
    }
    GatherError e = errors.getOrDefault(layer, GatherError.empty(layer));
    for (int x = 0; x < d; x++) {
      e = e.add(Math.abs(v[x] - exact[x]), bound[x]);
    }
    errors.put(layer, e);
  }

  /** Per MSN layer, the error of every gathered vector so far (empty: not quantized). */
  Map<Integer, GatherError> errors() {
    return errors;
  }
}
