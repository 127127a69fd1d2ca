package dev.msnexport.exporter.onnx;

import static dev.msnexport.exporter.onnx.GraphBuilder.attrInt;
import static dev.msnexport.exporter.onnx.GraphBuilder.attrInts;

import dev.msnexport.profiles.ModelConfig;
import java.util.List;

/**
 * One MSN layer's retrieval as graph nodes: the query projection and scoring against the folded
 * keys, then the retrieval of either graph (custom ops, or standard ops only), or the whole layer
 * as one {@code msn::MsnLayer} node.
 */
final class MsnLayerGraph {
  private final ModelConfig c;
  private final MsnOnnxExporter.Options opts;
  private final Initializers w;

  MsnLayerGraph(ModelConfig c, MsnOnnxExporter.Options opts, Initializers w) {
    this.c = c;
    this.opts = opts;
    this.w = w;
  }

  /** q = LN halves of (x W_q^T + b_q); scores a, b = [B, T, S] against the folded keys. */
  private String[] scores(GraphBuilder g, int l, String x) {
    String p = "blocks." + l + ".msn.";
    String q =
        g.op(
            "Add",
            List.of(
                splitKMatMul(g, x, w.weight(g, p + "query.weight", true), c.D(), 2 * c.dk()),
                w.weight(g, p + "query.bias", false)));
    String qRow = g.op("Slice", List.of(q, g.int64s(0), g.int64s(c.dk()), g.int64s(2)));
    String qCol = g.op("Slice", List.of(q, g.int64s(c.dk()), g.int64s(2L * c.dk()), g.int64s(2)));
    qRow = ModelGraph.layerNorm(g, w, qRow, p + "query_norm_row");
    qCol = ModelGraph.layerNorm(g, w, qCol, p + "query_norm_col");
    String a = splitKMatMul(g, qRow, w.foldedKeys(g, l, "row", false), c.dk(), c.S());
    String b = splitKMatMul(g, qCol, w.foldedKeys(g, l, "col", false), c.dk(), c.S());
    return new String[] {a, b};
  }

  /**
   * {@code x [B, T, K] @ w [K, N]} as {@code [B, T, N]}: one MatMul, or (see {@link
   * MsnOnnxExporter#DEFAULT_SCORING_SPLIT_K}) C partial products over contiguous K/C slices,
   * summed: x as [B*T, C, K/C], transposed to [C, B*T, K/C], times w viewed as [C, K/C, N],
   * ReduceSum over C.
   */
  private String splitKMatMul(GraphBuilder g, String x, String w, int k, int n) {
    int parts = MsnOnnxExporter.splitK(k, opts.scoringSplitK());
    if (parts == 1) {
      return g.op("MatMul", List.of(x, w));
    }
    String xs = g.op("Reshape", List.of(x, g.int64s(-1, parts, k / parts)));
    xs = g.op("Transpose", List.of(xs), attrInts("perm", 1, 0, 2));
    String ws = g.op("Reshape", List.of(w, g.int64s(parts, k / parts, n)));
    String partial = g.op("MatMul", List.of(xs, ws));
    String sum = g.op("ReduceSum", List.of(partial, g.int64s(0)), attrInt("keepdims", 0));
    return g.op("Reshape", List.of(sum, g.int64s(-1, c.T(), n)));
  }

  private RetrievalGraph.Shape retrievalShape() {
    return new RetrievalGraph.Shape(
        c.S(), c.k(), c.T(), c.slots(), c.perTokenMemory(), opts.valuesDtype());
  }

  /**
   * The retrieval of the custom or the reference graph: {v [B,T,D] float, slots [B,T,k] int64,
   * weights [B,T,k]} (slots and weights null in the custom graph without retrieval outputs).
   */
  String[] retrieval(GraphBuilder g, int l, String x, boolean custom) {
    return custom ? retrievalCustom(g, l, x) : retrievalReference(g, l, x);
  }

  private String[] retrievalReference(GraphBuilder g, int l, String x) {
    String[] ab = scores(g, l, x);
    String[] table = w.values(g, l, false);
    return RetrievalGraph.reference(
        g, ab[0], ab[1], table[0], table[1], retrievalShape(), opts.retrievalOutputs());
  }

  private String[] retrievalCustom(GraphBuilder g, int l, String x) {
    String[] ab = scores(g, l, x);
    String flat = g.int64s(-1, c.S());
    String a = g.op("Reshape", List.of(ab[0], flat));
    String b = g.op("Reshape", List.of(ab[1], flat));
    TableShards.Table table = w.valueShards(g, l, opts.tableShardElements());
    String[] r = RetrievalGraph.custom(g, a, b, table, retrievalShape());
    String v = g.op("Reshape", List.of(r[0], g.int64s(-1, c.T(), c.D())));
    if (!opts.retrievalOutputs()) {
      return new String[] {v, null, null};
    }
    String slotsOut = g.op("Reshape", List.of(r[1], g.int64s(-1, c.T(), c.k())));
    String wOut = g.op("Reshape", List.of(r[2], g.int64s(-1, c.T(), c.k())));
    return new String[] {v, slotsOut, wOut};
  }

  /** One msn::MsnLayer node: returns {x * act(v) [B,T,D], slots [B,T,k], weights [B,T,k]}. */
  String[] fused(GraphBuilder g, int l, String x) {
    String p = "blocks." + l + ".msn.";
    FusedMsnLayer.Inputs in =
        new FusedMsnLayer.Inputs(
            w.weight(g, p + "query.weight", false),
            w.weight(g, p + "query.bias", false),
            w.weight(g, p + "query_norm_row.weight", false),
            w.weight(g, p + "query_norm_row.bias", false),
            w.weight(g, p + "query_norm_col.weight", false),
            w.weight(g, p + "query_norm_col.bias", false),
            w.foldedKeys(g, l, "row", true),
            w.foldedKeys(g, l, "col", true),
            w.values(g, l, true)[0]);
    return FusedMsnLayer.emit(g, x, in, c);
  }
}
