package dev.msnexport.exporter.onnx;

import static dev.msnexport.exporter.onnx.GraphBuilder.attrFloat;
import static dev.msnexport.exporter.onnx.GraphBuilder.attrInt;
import static dev.msnexport.exporter.onnx.GraphBuilder.attrString;

import dev.msnexport.profiles.ModelConfig;
import java.util.List;

/**
 * One MSN memory layer as a single {@code msn::MsnLayer} node (docs/model-contract.md): query
 * projection, query LayerNorms, scoring against the folded keys, PKM retrieval, the weighted read
 * and the gate, so that scores and candidates never leave the kernel. Used for the custom graph
 * under {@code export --fuse-msn-layer}; the reference graph keeps the standard-op chain.
 */
public final class FusedMsnLayer {
  public static final String OP = "MsnLayer";

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
    String[] r =
        g.ops(
            OP,
            MsnOnnxExporter.DOMAIN,
            in.after(flat),
            3,
            attrInt("k", c.k()),
            attrString("gate", c.gate()),
            attrFloat("epsilon", EPSILON),
            attrInt("tokens", c.T()),
            attrInt("per_token", c.perTokenMemory() ? 1 : 0),
            attrString("plugin_version", "1"),
            attrString("plugin_namespace", ""));
    String y = g.op("Reshape", List.of(r[0], g.int64s(-1, c.T(), c.D())));
    String slots = g.op("Reshape", List.of(r[2], g.int64s(-1, c.T(), c.k())));
    String weights = g.op("Reshape", List.of(r[1], g.int64s(-1, c.T(), c.k())));
    return new String[] {y, slots, weights};
  }
}
