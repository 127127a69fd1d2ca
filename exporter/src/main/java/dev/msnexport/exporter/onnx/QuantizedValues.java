package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.TensorView;
import java.util.Map;
import java.util.Set;

/** A checkpoint's value table quantized into the export (once; both graphs share it). */
final class QuantizedValues {
  private QuantizedValues() {}

  /**
   * Refuses a value-table type the export cannot write, and a quantized one with {@code
   * --fuse-msn-layer} (msn.MsnLayer reads float tables only), before anything is written.
   */
  static void checkOptions(DType valuesDtype, boolean fuseMsnLayer) {
    if (!Set.of(DType.F32, DType.F16, DType.BF16, DType.I8, DType.F8_E4M3).contains(valuesDtype)) {
      throw new BadInputException(
          "--values-dtype must be fp32, fp16, bf16, int8 or fp8, got " + valuesDtype.cliName());
    }
    if (fuseMsnLayer && RowQuantizer.isQuantized(valuesDtype)) {
      throw new BadInputException(
          "--fuse-msn-layer cannot be used with --values-dtype "
              + valuesDtype.cliName()
              + ": msn.MsnLayer reads fp32, fp16 or bf16 value tables only (leave out"
              + " --fuse-msn-layer: SparseGather reads the quantized tables)");
    }
  }

  /**
   * {codes, scales} of checkpoint tensor {@code name} as {@code [rows, d]}, streamed from the
   * memory-mapped checkpoint; cached in {@code shared} under the two initializer names.
   */
  static TensorProto[] of(
      Map<String, TensorProto> shared,
      TensorStore store,
      Checkpoint ckpt,
      String name,
      long rows,
      int d,
      DType as) {
    String scales = QuantizedTable.scalesName(name);
    if (!shared.containsKey(name)) {
      TensorView v = ckpt.tensor(name);
      try {
        TensorProto[] q =
            QuantizedTable.add(
                store,
                name,
                new long[] {rows, d},
                (first, n, buf) -> v.readFloats(first * d, buf, 0, n * d),
                as);
        shared.put(name, q[0]);
        shared.put(scales, q[1]);
      } catch (IllegalArgumentException e) {
        throw new BadInputException(
            "checkpoint "
                + ckpt.weightsFile()
                + ": tensor '"
                + name
                + "' cannot be quantized to "
                + as.cliName()
                + ": "
                + e.getMessage(),
            e);
      }
    }
    return new TensorProto[] {shared.get(name), shared.get(scales)};
  }
}
