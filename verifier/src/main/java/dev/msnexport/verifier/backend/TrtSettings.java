package dev.msnexport.verifier.backend;

import dev.msnexport.profiles.Profile;
import dev.msnexport.trt.EngineMetadata;
import dev.msnexport.trt.Precision;
import dev.msnexport.verifier.Defaults;
import dev.msnexport.verifier.ExportedModel;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How TensorRT backends ({@code trt[:...]}, {@link BackendSpec}) build or load their engine: a part
 * the spec leaves open comes from {@code precision} ({@code --precision}) and {@code graph} ({@code
 * --trt-graph}), then the profile and the {@link Defaults}. {@code engine} ({@code --engine}) makes
 * the bare spec {@code trt} load that plan instead of building (its sidecar gives precision and
 * graph, and must match the export).
 *
 * @param engine a plan to load for the spec {@code trt}; or null
 * @param precision the precision of specs that name none; or null
 * @param graph the graph of specs that name none; or null
 * @param timingCache TensorRT timing cache for builds; or null
 */
public record TrtSettings(
    Path engine, BackendSpec.Precision precision, BackendSpec.Graph graph, Path timingCache) {
  /** Nothing given: every part from the spec, the profile or the defaults. */
  public static final TrtSettings DEFAULTS = new TrtSettings(null, null, null, null);

  /** What one TensorRT spec runs: a built engine's precision and graph, or the plan to load. */
  public record Resolved(BackendSpec.Precision precision, BackendSpec.Graph graph, Path engine) {}

  /** Resolves a TensorRT spec with these settings and the profile. */
  public Resolved resolve(BackendSpec spec, Profile profile) {
    if (!spec.isTrt()) {
      throw new IllegalArgumentException(spec + " is no TensorRT backend");
    }
    if (engine != null && spec.equals(BackendSpec.TRT)) {
      EngineMetadata meta = EngineMetadata.read(engine);
      return new Resolved(
          BackendSpec.Precision.valueOf(Precision.parse(meta.precision()).name()),
          BackendSpec.Graph.valueOf(meta.graph().toUpperCase(Locale.ROOT)),
          engine);
    }
    return new Resolved(
        Defaults.precision(spec.precision() != null ? spec.precision() : precision, profile),
        Defaults.graph(spec.graph() != null ? spec.graph() : graph),
        null);
  }

  /**
   * The ONNX file of the export a spec runs: the graph of an ONNX Runtime spec, the resolved graph
   * of a TensorRT one; null for golden.
   */
  public Path onnxOf(BackendSpec spec, ExportedModel m, Profile profile) {
    BackendSpec.Graph g =
        switch (spec.runtime()) {
          case GOLDEN -> null;
          case ORT -> spec.graph();
          case TRT -> resolve(spec, profile).graph();
        };
    return g == null ? null : g == BackendSpec.Graph.CUSTOM ? m.custom() : m.reference();
  }

  /**
   * The precision of one backend, the key of the profile's tolerance entry for it: the values'
   * dtype when it is fp16 or bf16 (every backend computes with those rounded tables), else fp16 for
   * a TensorRT backend that runs in fp16, else fp32. Quantized tables (int8, fp8) do not loosen
   * anything by themselves: every backend, the golden model included, reads the same dequantized
   * values, so what differs between two backends is their arithmetic. A comparison uses the lower
   * of its two backends'.
   */
  public String toleranceKey(BackendSpec spec, ExportedModel m, Profile profile) {
    String values = m.valuesDtype();
    if (!"fp32".equals(values) && !TrtBackend.quantizedTables(m).present()) {
      return values;
    }
    return spec.isTrt() && resolve(spec, profile).precision() == BackendSpec.Precision.FP16
        ? "fp16"
        : "fp32";
  }
}
