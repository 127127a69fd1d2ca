package dev.msnexport.trt;

/**
 * Whether the graph's value tables hold int8/fp8 codes with per-row scales, as the caller that owns
 * the export decides it (for our exports the verifier and the CLI, from the manifest's {@code
 * values_dtype}; this module reads no file of the export). TensorRT then builds a strongly typed
 * network at any precision: the tables' INT8/FP8 codes are data of a plugin input, not tensors for
 * TensorRT to quantize, and a weakly typed network would ask for their dynamic range.
 *
 * @param dtype the tables' storage type as the export names it (e.g. int8, fp8); null when the
 *     value tables are floating point ({@link #NONE})
 */
public record QuantizedTables(String dtype) {
  /** Floating-point value tables: nothing quantized. */
  public static final QuantizedTables NONE = new QuantizedTables(null);

  /** Whether any value table is quantized. */
  public boolean present() {
    return dtype != null;
  }
}
