package dev.msnexport.exporter.onnx;

import static dev.msnexport.exporter.onnx.GraphBuilder.attrFloat;
import static dev.msnexport.exporter.onnx.GraphBuilder.attrInt;
import static dev.msnexport.exporter.onnx.GraphBuilder.attrInts;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.profiles.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The graph of the whole model, custom or reference (docs/model-contract.md): per block the token
 * mix, the MSN layer's retrieval and gate where the block has one ({@link MsnLayerGraph}) and the
 * feed-forward; then the pooled task heads. Input {@code tokens [batch, T, D]}, one {@code [batch,
 * 1]} probability per task, and optionally each MSN layer's retrieved slots and weights.
 */
final class ModelGraph {
  private static final String BATCH = "batch";

  private final ModelConfig c;
  private final MsnOnnxExporter.Options opts;
  private final Initializers w;
  private final MsnLayerGraph msn;

  ModelGraph(ModelConfig c, MsnOnnxExporter.Options opts, Initializers w) {
    this.c = c;
    this.opts = opts;
    this.w = w;
    this.msn = new MsnLayerGraph(c, opts, w);
  }

  GraphProto build(boolean custom) {
    GraphBuilder g = new GraphBuilder(custom ? "msn_custom" : "msn_reference");
    g.input(MsnOnnxExporter.INPUT, TensorProto.DataType.FLOAT_VALUE, BATCH, c.T(), c.D());
    String x = MsnOnnxExporter.INPUT;
    List<Integer> retrievalOutputs = new ArrayList<>();
    for (int l = 0; l < c.L(); l++) {
      x = block(g, l, x, custom, retrievalOutputs);
    }
    heads(g, x);
    for (int l : retrievalOutputs) {
      g.output(
          MsnOnnxExporter.slotsOutput(l), TensorProto.DataType.INT64_VALUE, BATCH, c.T(), c.k());
      g.output(
          MsnOnnxExporter.weightsOutput(l), TensorProto.DataType.FLOAT_VALUE, BATCH, c.T(), c.k());
    }
    return g.build();
  }

  /** Block {@code l}: mix, MSN layer (if any), feed-forward; adds its retrieval outputs' layer. */
  private String block(GraphBuilder g, int l, String x, boolean custom, List<Integer> outputs) {
    String b = "blocks." + l + ".";
    g.scope("blocks." + l + ".mix");
    String mixed = g.op("Reshape", List.of(x, g.int64s(-1, c.T(), c.T(), c.tokenChunk())));
    mixed = g.op("Transpose", List.of(mixed), attrInts("perm", 0, 2, 1, 3));
    mixed = g.op("Reshape", List.of(mixed, g.int64s(-1, c.T(), c.D())));
    x = layerNorm(g, w, g.op("Add", List.of(x, mixed)), b + "mix_norm");
    if (c.isMsnLayer(l)) {
      g.scope("blocks." + l + ".msn");
      boolean fused = custom && opts.fuseMsnLayer();
      String[] r = fused ? msn.fused(g, l, x) : msn.retrieval(g, l, x, custom);
      if (opts.retrievalOutputs()) {
        g.renameOutput(r[1], MsnOnnxExporter.slotsOutput(l));
        g.renameOutput(r[2], MsnOnnxExporter.weightsOutput(l));
        outputs.add(l);
      }
      x = fused ? r[0] : g.op("Mul", List.of(x, gate(g, r[0])));
    }
    g.scope("blocks." + l + ".ffn");
    String xt = g.op("Transpose", List.of(x), attrInts("perm", 1, 0, 2)); // [T, B, D]
    String h = g.op("MatMul", List.of(xt, w.weight(g, b + "ffn.w1", true)));
    h = g.op("Add", List.of(h, w.weight3(g, b + "ffn.b1")));
    h = gelu(g, h);
    String y = g.op("MatMul", List.of(h, w.weight(g, b + "ffn.w2", true)));
    y = g.op("Add", List.of(y, w.weight3(g, b + "ffn.b2")));
    y = g.op("Transpose", List.of(y), attrInts("perm", 1, 0, 2));
    return layerNorm(g, w, g.op("Add", List.of(x, y)), b + "ffn_norm");
  }

  /** The gate's activation of the retrieved {@code v}. */
  private String gate(GraphBuilder g, String v) {
    return switch (c.gate()) {
      case "tanh" -> g.op("Tanh", List.of(v));
      case "sigmoid" -> g.op("Sigmoid", List.of(v));
      default -> v;
    };
  }

  /** Mean over the tokens, then per task sigmoid(gelu(x W1^T + b1) W2^T + b2) as output task. */
  private void heads(GraphBuilder g, String x) {
    g.scope("heads");
    String pooled = g.op("ReduceMean", List.of(x), attrInts("axes", 1), attrInt("keepdims", 0));
    for (String task : c.tasks()) {
      String p = "heads." + task + ".";
      g.scope("heads." + task);
      String h = linear(g, pooled, p + "w1", p + "b1");
      h = gelu(g, h);
      String o = g.op("Sigmoid", List.of(linear(g, h, p + "w2", p + "b2")));
      g.renameOutput(o, task);
      g.output(task, TensorProto.DataType.FLOAT_VALUE, BATCH, 1);
    }
  }

  private String linear(GraphBuilder g, String x, String weight, String bias) {
    return g.op(
        "Add",
        List.of(g.op("MatMul", List.of(x, w.weight(g, weight, true))), w.weight(g, bias, false)));
  }

  static String layerNorm(GraphBuilder g, Initializers w, String x, String prefix) {
    return g.op(
        "LayerNormalization",
        List.of(x, w.weight(g, prefix + ".weight", false), w.weight(g, prefix + ".bias", false)),
        attrInt("axis", -1),
        attrFloat("epsilon", 1e-5f));
  }

  /** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
  private static String gelu(GraphBuilder g, String x) {
    String e = g.op("Erf", List.of(g.op("Mul", List.of(x, g.scalar((float) (1 / Math.sqrt(2)))))));
    return g.op(
        "Mul",
        List.of(g.op("Mul", List.of(x, g.scalar(0.5f))), g.op("Add", List.of(e, g.scalar(1f)))));
  }
}
