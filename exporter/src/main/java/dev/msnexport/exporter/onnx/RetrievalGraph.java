package dev.msnexport.exporter.onnx;

import static dev.msnexport.exporter.onnx.GraphBuilder.attrInt;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.ops.OpTable;
import java.util.List;
import java.util.Map;

/**
 * The retrieval half of an MSN layer (scores in, gathered memory out), in both forms: the custom
 * ops, and the standard-op decomposition. Used by the model exporter and, alone, by the benchmarks
 * that compare the two forms.
 */
public final class RetrievalGraph {
  private RetrievalGraph() {}

  /**
   * @param S sub-keys per half
   * @param k slots kept
   * @param T tokens (per-token tables only)
   * @param slots rows per table ({@code S*S})
   * @param perToken one table per token, stacked as {@code [T*n, D]}
   * @param valuesDtype storage type of the table: fp32, fp16/bf16 (gathered rows are cast to float
   *     in the reference graph), or int8/fp8 (quantized: {@code scales} beside it, see {@link
   *     QuantizedTable})
   */
  public record Shape(int S, int k, int T, long slots, boolean perToken, DType valuesDtype) {
    boolean quantized() {
      return RowQuantizer.isQuantized(valuesDtype);
    }
  }

  /**
   * Standard ops on rank-3 scores {@code [B, T, S]}: returns {v [B,T,D], slots [B,T,k], weights
   * [B,T,k]}. Each half's top-k is re-ordered by ascending index so that the flattened k*k grid is
   * in slot order: TopK's lower-position-first rule then is the contract's lower-slot-first rule.
   * {@code scales}: the per-row scales of a quantized table (else null).
   */
  static String[] reference(
      GraphBuilder g,
      String a,
      String b,
      String values,
      String scales,
      Shape s,
      boolean identityOutputs) {
    String kk = g.int64s(s.k());
    String[] sortedA = topkByIndex(g, a, kk);
    String[] sortedB = topkByIndex(g, b, kk);
    String cand =
        g.op(
            "Add",
            List.of(
                g.op("Unsqueeze", List.of(sortedA[0], g.int64s(-1))),
                g.op("Unsqueeze", List.of(sortedB[0], g.int64s(-2)))));
    cand = g.op("Reshape", List.of(cand, g.int64s(0, 0, (long) s.k() * s.k())));
    String grid =
        g.op(
            "Add",
            List.of(
                g.op(
                    "Mul",
                    List.of(
                        g.op("Unsqueeze", List.of(sortedA[1], g.int64s(-1))),
                        g.scalarInt64(s.S()))),
                g.op("Unsqueeze", List.of(sortedB[1], g.int64s(-2)))));
    grid = g.op("Reshape", List.of(grid, g.int64s(0, 0, (long) s.k() * s.k())));
    String[] top = topK(g, cand, kk, true);
    String slots = g.op("GatherElements", List.of(grid, top[1]), attrInt("axis", -1));
    String w = g.op("Softmax", List.of(top[0]), attrInt("axis", -1));
    String rows = s.perToken() ? g.op("Add", List.of(slots, tokenOffsets(g, s))) : slots;
    String gathered = g.op("Gather", List.of(values, rows), attrInt("axis", 0)); // [B,T,k,D]
    String rowWeights = w;
    if (s.quantized()) {
      gathered = QuantizedTable.decodeGathered(g, gathered, s.valuesDtype());
      // w_m * scale_m first ([B,T,k]), then times the decoded rows
      String sc = g.op("Gather", List.of(scales, rows), attrInt("axis", 0));
      rowWeights = g.op("Mul", List.of(w, sc));
    } else if (s.valuesDtype() != DType.F32) {
      gathered = g.op("Cast", List.of(gathered), attrInt("to", TensorProto.DataType.FLOAT_VALUE));
    }
    String weighted =
        g.op("Mul", List.of(gathered, g.op("Unsqueeze", List.of(rowWeights, g.int64s(-1)))));
    String v = g.op("ReduceSum", List.of(weighted, g.int64s(2)), attrInt("keepdims", 0));
    if (identityOutputs) {
      slots = g.op("Identity", List.of(slots));
      w = g.op("Identity", List.of(w));
    }
    return new String[] {v, slots, w};
  }

  /**
   * ONNX TopK over the last axis, sorted: the {@code kk} largest ({@code largest}) or smallest
   * elements of {@code input}, as {values, indices}.
   */
  private static String[] topK(GraphBuilder g, String input, String kk, boolean largest) {
    return g.ops(
        "TopK",
        "",
        List.of(input, kk),
        2,
        attrInt("axis", -1),
        attrInt("largest", largest ? 1 : 0),
        attrInt("sorted", 1));
  }

  /** Top-k of the last axis, then re-ordered by ascending index: {values, indices}. */
  private static String[] topkByIndex(GraphBuilder g, String scores, String kk) {
    String[] top = topK(g, scores, kk, true);
    String idxF =
        g.op(
            "Cast",
            List.of(top[1]),
            attrInt("to", TensorProto.DataType.FLOAT_VALUE)); // exact: index < S <= 2^24
    String[] order = topK(g, idxF, kk, false);
    String vals = g.op("GatherElements", List.of(top[0], order[1]), attrInt("axis", -1));
    String idx = g.op("GatherElements", List.of(top[1], order[1]), attrInt("axis", -1));
    return new String[] {vals, idx};
  }

  /**
   * The custom ops on {@code [N, S]} scores: returns {v [N,D], slots [N,k], weights [N,k]}. A
   * quantized table's {@code scales} are SparseGather's fourth input (else null).
   */
  static String[] custom(
      GraphBuilder g, String a, String b, String values, String scales, Shape s) {
    return custom(g, a, b, TableShards.Table.whole(values, scales, s.slots()), s);
  }

  /**
   * As {@link #custom(GraphBuilder, String, String, String, String, Shape)}, on a table that may be
   * split into row shards ({@link TableShards}): one SparseGather per shard, each on the slots of
   * its rows (shifted to the shard's first row; the other slots read its row 0 with weight 0), and
   * their sum.
   */
  static String[] custom(GraphBuilder g, String a, String b, TableShards.Table table, Shape s) {
    String[] r = CustomOpNode.emit(g, OpTable.PKM_RETRIEVAL, List.of(a, b), Map.of("k", s.k()));
    String w = r[0];
    String slots = r[1];
    String rows = slots;
    if (s.perToken()) {
      rows = g.op("Reshape", List.of(slots, g.int64s(-1, s.T(), s.k())));
      rows =
          g.op(
              "Reshape",
              List.of(g.op("Add", List.of(rows, tokenOffsets(g, s))), g.int64s(-1, s.k())));
    }
    if (!table.sharded()) {
      return new String[] {gather(g, table, 0, rows, w), slots, w};
    }
    String v = null;
    String zero = g.op("Sub", List.of(w, w)); // zeros of w's type, whatever the precision variant
    int last = table.values().size() - 1;
    for (int i = 0; i <= last; i++) {
      long first = i * table.rowsPerShard();
      String local = i == 0 ? rows : g.op("Sub", List.of(rows, g.scalarInt64(first)));
      String inShard = null;
      if (i > 0) {
        inShard = g.op("GreaterOrEqual", List.of(local, g.scalarInt64(0)));
      }
      if (i < last) {
        String below = g.op("Less", List.of(local, g.scalarInt64(table.rowsPerShard())));
        inShard = inShard == null ? below : g.op("And", List.of(inShard, below));
      }
      // rows outside the shard are clamped into it (read, then weighted 0)
      String idx = local;
      if (i > 0) {
        idx = g.op("Max", List.of(idx, g.scalarInt64(0)));
      }
      if (i < last) {
        idx = g.op("Min", List.of(idx, g.scalarInt64(table.rowsPerShard() - 1)));
      }
      String wi = g.op("Where", List.of(inShard, w, zero));
      String part = gather(g, table, i, idx, wi);
      v = v == null ? part : g.op("Add", List.of(v, part));
    }
    return new String[] {v, slots, w};
  }

  /** SparseGather of shard {@code i} of {@code table}. */
  private static String gather(
      GraphBuilder g, TableShards.Table table, int i, String rows, String w) {
    String values = table.values().get(i);
    List<String> in =
        table.scales() == null
            ? List.of(values, rows, w)
            : List.of(values, rows, w, table.scales().get(i));
    return CustomOpNode.emit(g, OpTable.SPARSE_GATHER, in, Map.of())[0];
  }

  /** [1, T, 1] int64: t*n, the row offset of token t's table in a per-token memory. */
  private static String tokenOffsets(GraphBuilder g, Shape s) {
    long[] off = new long[s.T()];
    for (int t = 0; t < s.T(); t++) {
      off[t] = t * s.slots();
    }
    return g.int64Tensor(new long[] {1, s.T(), 1}, off);
  }

  /**
   * One retrieval layer as a model, for benchmarks: inputs {@code row_scores} and {@code
   * col_scores} float {@code [N, S]}, output {@code out} float {@code [N, D]}; the table {@code
   * values [S*S, D]} is an initializer in {@code valuesDtype} (int8/fp8: quantized by {@link
   * RowQuantizer}, with {@code values.scales} beside it).
   */
  public static ModelProto layerModel(
      int S, int k, int D, float[] values, DType valuesDtype, boolean custom) {
    GraphBuilder g = new GraphBuilder(custom ? "msn_layer_custom" : "msn_layer_reference");
    g.input("row_scores", TensorProto.DataType.FLOAT_VALUE, "N", S);
    g.input("col_scores", TensorProto.DataType.FLOAT_VALUE, "N", S);
    String scales = null;
    try (TensorStore store = TensorStore.embedded()) {
      long[] dims = {(long) S * S, D};
      if (RowQuantizer.isQuantized(valuesDtype)) {
        TensorProto[] q = QuantizedTable.add(store, "values", dims, values, valuesDtype);
        g.initializer(custom ? q[0] : QuantizedTable.referenceView(q[0]));
        g.initializer(q[1]);
        scales = q[1].getName();
      } else {
        g.initializer(store.addFloats("values", dims, values, valuesDtype));
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Shape shape = new Shape(S, k, 1, (long) S * S, false, valuesDtype);
    String out;
    if (custom) {
      out = custom(g, "row_scores", "col_scores", "values", scales, shape)[0];
    } else {
      String a = g.op("Reshape", List.of("row_scores", g.int64s(1, -1, S)));
      String b = g.op("Reshape", List.of("col_scores", g.int64s(1, -1, S)));
      out =
          g.op(
              "Reshape",
              List.of(reference(g, a, b, "values", scales, shape, false)[0], g.int64s(-1, D)));
    }
    g.renameOutput(out, "out");
    g.output("out", TensorProto.DataType.FLOAT_VALUE, "N", D);
    ModelProto.Builder m =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("msn-export")
            .addOpsetImport(
                OperatorSetIdProto.newBuilder().setDomain("").setVersion(MsnOnnxExporter.OPSET))
            .setGraph(g.build());
    if (custom) {
      m.addOpsetImport(
          OperatorSetIdProto.newBuilder()
              .setDomain(MsnOnnxExporter.DOMAIN)
              .setVersion(OpTable.standard().opsetVersion()));
    }
    return m.build();
  }
}
