package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.exporter.safetensors.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * A value table too large for one runtime weight, split into row ranges. TensorRT (10.6) builds no
 * engine with an initializer of more than {@link #MAX_ELEMENTS} elements ("weight count is out of
 * range for int32_t"), and {@code xl}'s tables hold 4,194,304 x 768 = 3.2 G. Each shard is a view
 * of the one table (the same external data with its own offset and length; an embedded table is
 * sliced), so nothing is written twice, and the custom graph runs SparseGather once per shard on
 * the slots that fall in it (the others weigh zero there); the reference graph keeps the whole
 * table. Shards hold a power of two rows, all but the last the same.
 */
final class TableShards {
  private TableShards() {}

  /** The most elements one shard may hold: TensorRT's int32 weight count. */
  static final long MAX_ELEMENTS = Integer.MAX_VALUE;

  /**
   * The custom graph's view of one table: initializer names of the value shards, of their scale
   * shards (quantized tables; else null), and the rows of every shard but the last.
   */
  record Table(List<String> values, List<String> scales, long rowsPerShard) {
    Table {
      values = List.copyOf(values);
      scales = scales == null ? null : List.copyOf(scales);
      if (scales != null && scales.size() != values.size()) {
        throw new IllegalArgumentException("a scale shard per value shard");
      }
    }

    static Table whole(String values, String scales, long rows) {
      return new Table(List.of(values), scales == null ? null : List.of(scales), rows);
    }

    boolean sharded() {
      return values.size() > 1;
    }
  }

  /**
   * Rows per shard of a {@code rows x d} table: all of them when the table fits {@code
   * maxElements}, else the largest power of two whose shard fits.
   */
  static long rowsPerShard(long rows, long d, long maxElements) {
    if (rows * d <= maxElements) {
      return rows;
    }
    long fit = maxElements / d;
    if (fit < 1) {
      throw new IllegalArgumentException(
          "one row of " + d + " elements exceeds the " + maxElements + "-element limit");
    }
    return Long.highestOneBit(fit);
  }

  /**
   * Rows {@code [first, first + rows)} of table {@code t} (rows along dimension 0) as an
   * initializer named {@code name}: external data with the range's offset and length, or a slice of
   * the embedded bytes.
   */
  static TensorProto view(TensorProto t, String name, long first, long rows) {
    long all = t.getDims(0);
    if (first < 0 || rows < 1 || first + rows > all) {
      throw new IllegalArgumentException(
          t.getName() + ": rows " + first + ".." + (first + rows) + " of " + all);
    }
    long rowBytes =
        DType.fromOnnx(t.getDataType())
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        t.getName() + ": element type " + t.getDataType() + " has no size here"))
            .size();
    for (int i = 1; i < t.getDimsCount(); i++) {
      rowBytes *= t.getDims(i);
    }
    TensorProto.Builder b = t.toBuilder().setName(name).setDims(0, rows);
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      TensorStore.External at = TensorStore.External.of(t);
      if (at.location() == null) {
        throw new IllegalArgumentException(t.getName() + ": external data without a location");
      }
      new TensorStore.External(at.location(), at.offset() + first * rowBytes, rows * rowBytes)
          .applyTo(b);
    } else if (t.hasRawData()) {
      b.setRawData(
          t.getRawData()
              .substring(
                  Math.toIntExact(first * rowBytes), Math.toIntExact((first + rows) * rowBytes)));
    } else {
      throw new IllegalArgumentException(t.getName() + ": neither raw nor external data");
    }
    return b.build();
  }

  /**
   * Shard views of {@code values} (and of its per-row {@code scales}, else null), added to {@code
   * g}: the table itself when it fits {@code maxElements}.
   */
  static Table add(GraphBuilder g, TensorProto values, TensorProto scales, long maxElements) {
    long rows = values.getDims(0);
    long d = 1;
    for (int i = 1; i < values.getDimsCount(); i++) {
      d *= values.getDims(i);
    }
    long per = rowsPerShard(rows, d, maxElements);
    if (per == rows) {
      g.initializer(values);
      if (scales != null) {
        g.initializer(scales);
      }
      return Table.whole(values.getName(), scales == null ? null : scales.getName(), rows);
    }
    List<String> v = new ArrayList<>();
    List<String> s = scales == null ? null : new ArrayList<>();
    for (long first = 0, i = 0; first < rows; first += per, i++) {
      long n = Math.min(per, rows - first);
      TensorProto view = view(values, values.getName() + ".shard" + i, first, n);
      g.initializer(view);
      v.add(view.getName());
      if (scales != null) {
        TensorProto sv = view(scales, scales.getName() + ".shard" + i, first, n);
        g.initializer(sv);
        s.add(sv.getName());
      }
    }
    return new Table(v, s, per);
  }
}
