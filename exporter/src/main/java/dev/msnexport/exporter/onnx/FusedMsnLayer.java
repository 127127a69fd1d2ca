package dev.msnexport.exporter.onnx;

import dev.msnexport.ops.OpTable;
import dev.msnexport.profiles.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One MSN memory layer as a single {@code msn.MsnLayer} node (docs/model-contract.md; op type,
 * domain, outputs and attribute types from the op table, through {@link CustomOpNode}): query
 * projection, query LayerNorms, scoring against the folded keys, PKM retrieval, the weighted read
 * and the gate, so that scores and candidates never leave the kernel. Used for the custom graph
 * under {@code export --fuse-msn-layer}; the reference graph keeps the standard-op chain.
 */
public final class FusedMsnLayer {
  /** The node's op type, from the op table. */
  public static final String OP = OpTable.standard().op(OpTable.MSN_LAYER).name();

  /** LayerNorm epsilon of the query norms (the contract's). */
  static final float EPSILON = 1e-5f;

  private FusedMsnLayer() {}

  /**
   * Initializer names of the node's inputs 1..9.
   *
   * @param wq query weight {@code [2*dk, D]} (the checkpoint's layout)
   * @param kRow folded row keys {@code [S, dk]}, LayerNormed and times score_scale
   * @param values the value table {@code [M, D]}, {@code M = S*S} (or {@code T*S*S})
   */
  public record Inputs(
      String wq,
      String bq,
      String lnRowWeight,
      String lnRowBias,
      String lnColWeight,
      String lnColBias,
      String kRow,
      String kCol,
      String values) {
    List<String> after(String x) {
      return List.of(x, wq, bq, lnRowWeight, lnRowBias, lnColWeight, lnColBias, kRow, kCol, values);
    }
  }

  /**
   * Emits the node on {@code x [B, T, D]}: returns {x * act(v) [B,T,D], slots [B,T,k] int64,
   * weights [B,T,k] float}.
   */
  static String[] emit(GraphBuilder g, String x, Inputs in, ModelConfig c) {
    String flat = g.op("Reshape", List.of(x, g.int64s(-1, c.D())));
    Map<String, Object> attrs = new LinkedHashMap<>();
    attrs.put("k", c.k());
    attrs.put("gate", c.gate());
    attrs.put("epsilon", EPSILON);
    attrs.put("tokens", c.T());
    attrs.put("per_token", c.perTokenMemory() ? 1 : 0);
    String[] r = CustomOpNode.emit(g, OpTable.MSN_LAYER, in.after(flat), attrs);
    String y = g.op("Reshape", List.of(r[0], g.int64s(-1, c.T(), c.D())));
    String slots = g.op("Reshape", List.of(r[2], g.int64s(-1, c.T(), c.k())));
    String weights = g.op("Reshape", List.of(r[1], g.int64s(-1, c.T(), c.k())));
    return new String[] {y, slots, weights};
  }
}
