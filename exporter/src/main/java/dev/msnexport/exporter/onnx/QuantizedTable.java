package dev.msnexport.exporter.onnx;

import static dev.msnexport.exporter.onnx.GraphBuilder.attrInt;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A value table quantized per row ({@link RowQuantizer}) as two initializers: the codes {@code NAME
 * [M, D]} (INT8 or FLOAT8E4M3FN) and the float32 scales {@code NAME.scales [M]}; and how the
 * reference graph decodes gathered rows with opset-17 ops.
 */
final class QuantizedTable {
  private QuantizedTable() {}

  /** The scales' initializer name for the table {@code table}. */
  static String scalesName(String table) {
    return table + ".scales";
  }

  /** Reads {@code n} rows from row {@code first} into {@code buf} (row-major, {@code n * D}). */
  interface Rows {
    void read(long first, int n, float[] buf);
  }

  /**
   * Quantizes {@code rows} ({@code dims = [M, D]}) into the store: returns {codes, scales}. A NaN
   * or infinite value throws IllegalArgumentException naming its row and column.
   */
  static TensorProto[] add(TensorStore store, String name, long[] dims, Rows rows, DType as) {
    long m = dims[0];
    int d = Math.toIntExact(dims[1]);
    float[] scales = new float[Math.toIntExact(m)];
    int chunkRows = Math.max(1, (1 << 16) / Math.max(d, 1));
    TensorProto codes =
        store.add(
            name,
            as,
            dims,
            out -> {
              float[] buf = new float[chunkRows * d];
              byte[] q = new byte[chunkRows * d];
              for (long r = 0; r < m; r += chunkRows) {
                int n = (int) Math.min(chunkRows, m - r);
                rows.read(r, n, buf);
                for (int i = 0; i < n; i++) {
                  try {
                    scales[(int) (r + i)] = RowQuantizer.quantize(buf, i * d, d, as, q, i * d);
                  } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("row " + (r + i) + ", " + e.getMessage(), e);
                  }
                }
                ByteBuffer bb = ByteBuffer.wrap(q, 0, n * d);
                while (bb.hasRemaining()) {
                  out.write(bb);
                }
              }
            },
            m * d);
    TensorProto sc = store.addFloats(scalesName(name), new long[] {m}, scales, DType.F32);
    return new TensorProto[] {codes, sc};
  }

  /** As above, from an in-memory table. */
  static TensorProto[] add(TensorStore store, String name, long[] dims, float[] values, DType as) {
    int d = Math.toIntExact(dims[1]);
    return add(
        store,
        name,
        dims,
        (first, n, buf) -> System.arraycopy(values, (int) first * d, buf, 0, n * d),
        as);
  }

  /**
   * The codes as the reference graph reads them: int8 as they are; fp8 as UINT8 (the same bytes,
   * the same external data), decoded by a lookup table ({@link #decodeGathered}), so that the
   * reference graph stays opset 17 (FLOAT8E4M3FN Cast needs opset 19).
   */
  static TensorProto referenceView(TensorProto codes) {
    if (codes.getDataType() != DType.F8_E4M3.onnxCode()) {
      return codes;
    }
    return codes.toBuilder().setDataType(DType.U8.onnxCode()).build();
  }

  /**
   * Gathered codes {@code [..., D]} to float32 code values (before the scale): int8, a Cast; fp8
   * (UINT8 view), Cast to int32 and a Gather from the 256-entry table of E4M3FN values (exact).
   */
  static String decodeGathered(GraphBuilder g, String gathered, DType as) {
    if (as == DType.I8) {
      return g.op("Cast", List.of(gathered), attrInt("to", TensorProto.DataType.FLOAT_VALUE));
    }
    String idx = g.op("Cast", List.of(gathered), attrInt("to", TensorProto.DataType.INT32_VALUE));
    return g.op("Gather", List.of(e4m3Lut(g), idx), attrInt("axis", 0));
  }

  private static String e4m3Lut(GraphBuilder g) {
    float[] lut = new float[256];
    for (int c = 0; c < 256; c++) {
      lut[c] = DType.e4m3ToFloat((byte) c);
    }
    return g.floatTensor(new long[] {256}, lut);
  }
}
