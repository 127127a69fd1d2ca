package dev.msnexport.exporter.onnx;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.TensorView;

/** What an export refuses before it writes anything: bad options and values it cannot store. */
final class ExportChecks {
  /** Protobuf cannot serialize a message of 2 GiB; stay clear of it. */
  static final long EMBED_LIMIT = (1L << 31) - (64L << 20);

  private ExportChecks() {}

  /** The options' own ranges and combinations. */
  static void options(MsnOnnxExporter.Options opts) {
    if (opts.scoringSplitK() < 1 || opts.scoringSplitK() > 64) {
      throw new BadInputException("--scoring-split-k must be 1..64, got " + opts.scoringSplitK());
    }
    QuantizedValues.checkOptions(opts.valuesDtype(), opts.fuseMsnLayer());
  }

  /**
   * Whether the tensors go to the external data file; refuses an embedded export of more than
   * protobuf can hold.
   */
  static boolean external(MsnOnnxExporter.ExternalData choice, long estimatedBytes) {
    boolean external =
        switch (choice) {
          case ALWAYS -> true;
          case NEVER -> false;
          case AUTO -> estimatedBytes > EMBED_LIMIT;
        };
    if (!external && estimatedBytes > EMBED_LIMIT) {
      throw new BadInputException(
          "the model needs "
              + estimatedBytes / (1 << 20)
              + " MiB of tensors, more than an ONNX file "
              + "can embed (2 GiB): use --external-data auto or always");
    }
    return external;
  }

  /**
   * Refuses, before anything is written, a checkpoint value that the graph's storage type cannot
   * hold (F64 1e300 in a float32 graph, 1e6 in an fp16 value table): it would become infinite.
   */
  static void refuseOverflow(Checkpoint ckpt, DType valuesDtype) {
    float[] buf = new float[1 << 16];
    for (TensorView t : ckpt.tensors().values()) {
      DType as = t.name().endsWith(".values") ? valuesDtype : DType.F32;
      if (t.dtype() == as
          || t.dtype().size() == 2 && as != DType.F16
          || RowQuantizer.isQuantized(as)) {
        // the same type, fp16/bf16 into a wider range, or a quantized table (its float32 scale
        // spans every finite float32): every finite value stays finite
        continue;
      }
      for (long i = 0; i < t.numel(); i += buf.length) {
        int n = (int) Math.min(buf.length, t.numel() - i);
        t.readFloats(i, buf, 0, n);
        for (int j = 0; j < n; j++) {
          if (!Float.isFinite(stored(buf[j], as))) {
            throw new BadInputException(
                "checkpoint "
                    + ckpt.weightsFile()
                    + ": tensor '"
                    + t.name()
                    + "' holds "
                    + t.getDouble(i + j)
                    + " at flat index "
                    + (i + j)
                    + ", which overflows "
                    + as.cliName()
                    + " (the type the export stores it in)");
          }
        }
      }
    }
  }

  /** {@code v} as the storage type keeps it. */
  private static float stored(float v, DType as) {
    return switch (as) {
      case F16 -> DType.halfToFloat(DType.floatToHalf(v));
      case BF16 -> DType.bf16ToFloat(DType.floatToBf16(v));
      default -> v;
    };
  }
}
