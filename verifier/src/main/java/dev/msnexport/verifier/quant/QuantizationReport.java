package dev.msnexport.verifier.quant;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.verifier.golden.GatherError;
import dev.msnexport.verifier.golden.GoldenModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What quantizing the value tables (int8/fp8) costs, apart from parity (docs/model-contract.md,
 * "Quantized value tables"): per MSN layer, the error of the gathered vectors against the same
 * slots and weights on the checkpoint's rows, which must stay within the rule's bound; and the
 * largest difference of each task output between the golden model on the dequantized tables and on
 * the checkpoint's (reported, no limit: it is the end-to-end price of quantization). {@code pass}
 * is false when any gathered element exceeds its bound.
 */
@JsonPropertyOrder({"values_dtype", "pass", "layers", "task_max_abs_error"})
public record QuantizationReport(
    String values_dtype, boolean pass, List<Layer> layers, Map<String, Double> task_max_abs_error) {

  /** One MSN layer's gathered vectors: errors, bounds, and elements over their bound. */
  @JsonPropertyOrder({
    "layer",
    "elements",
    "max_abs_error",
    "max_bound",
    "max_error_over_bound",
    "over_bound"
  })
  public record Layer(
      int layer,
      long elements,
      double max_abs_error,
      double max_bound,
      double max_error_over_bound,
      long over_bound) {}

  /**
   * The report for the golden model's run {@code quantized} (an export of {@code valuesDtype}) on
   * {@code tokens}: runs the model once more on the checkpoint's own tables.
   */
  public static QuantizationReport of(
      Checkpoint ckpt, DType valuesDtype, GoldenModel.Result quantized, float[] tokens, int batch) {
    GoldenModel.Result plain = new GoldenModel(ckpt, DType.F32).forward(tokens, batch);
    List<Layer> layers = new ArrayList<>();
    boolean pass = !quantized.gatherErrors().isEmpty();
    for (GatherError e : quantized.gatherErrors().values()) {
      layers.add(
          new Layer(
              e.layer(),
              e.elements(),
              e.maxAbsError(),
              e.maxBound(),
              e.maxErrorOverBound(),
              e.overBound()));
      pass &= e.overBound() == 0 && e.elements() > 0;
    }
    Map<String, Double> tasks = new LinkedHashMap<>();
    quantized
        .outputs()
        .forEach(
            (task, q) -> {
              double[] p = plain.outputs().get(task);
              double max = 0;
              for (int i = 0; i < q.length; i++) {
                max = Math.max(max, Math.abs(q[i] - p[i]));
              }
              tasks.put(task, max);
            });
    return new QuantizationReport(valuesDtype.cliName(), pass, layers, tasks);
  }

  /** The report as lines for the console. */
  public List<String> lines() {
    List<String> out = new ArrayList<>();
    out.add(
        "quantization ("
            + values_dtype
            + " value tables): "
            + (pass ? "PASS" : "FAIL")
            + " (gathered vectors within the rounding bound)");
    for (Layer l : layers) {
      out.add(
          String.format(
              Locale.ROOT,
              "  layer %d: max |v_q - v| %.3e, max bound %.3e, max error/bound %.3f, %d of %d over"
                  + " bound",
              l.layer(),
              l.max_abs_error(),
              l.max_bound(),
              l.max_error_over_bound(),
              l.over_bound(),
              l.elements()));
    }
    task_max_abs_error.forEach(
        (t, e) ->
            out.add(
                String.format(
                    Locale.ROOT,
                    "  task %s: max |p_q - p| %.3e (quantized vs checkpoint tables)",
                    t,
                    e)));
    return out;
  }
}
