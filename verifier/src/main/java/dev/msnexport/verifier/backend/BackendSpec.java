package dev.msnexport.verifier.backend;

import java.util.List;
import java.util.Locale;

/**
 * A backend's identity, as {@code --backends} names it: a runtime, the exported graph it runs and,
 * for TensorRT, the engine's precision. The strings: {@code golden} (the Java golden model), {@code
 * ort-reference} and {@code ort-custom} (ONNX Runtime on the reference or the custom graph), and
 * {@code trt[:fp32|fp16][:custom|reference]} (a TensorRT engine; a part left out comes from {@code
 * --precision}, {@code --trt-graph}, the profile or the engine, see {@link Defaults}). {@link
 * #parse} accepts exactly these (surrounding blanks ignored, the two TensorRT parts in either
 * order), {@link #format} writes the canonical string, and {@code parse(format(s))} is {@code s}.
 *
 * @param graph null for {@code golden}; for {@code trt}, null when the spec leaves it open
 * @param precision null except for a {@code trt} spec that names it
 */
public record BackendSpec(Runtime runtime, Graph graph, Precision precision) {
  /** What runs the model. */
  public enum Runtime {
    GOLDEN,
    ORT,
    TRT
  }

  /** Which exported graph: ours with the custom ops, or the standard-op reference. */
  public enum Graph {
    CUSTOM,
    REFERENCE;

    /** As users type it: custom, reference. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A TensorRT engine's precision. */
  public enum Precision {
    FP32,
    FP16;

    /** As users type it: fp32, fp16. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static final BackendSpec GOLDEN = new BackendSpec(Runtime.GOLDEN, null, null);
  public static final BackendSpec ORT_REFERENCE =
      new BackendSpec(Runtime.ORT, Graph.REFERENCE, null);
  public static final BackendSpec ORT_CUSTOM = new BackendSpec(Runtime.ORT, Graph.CUSTOM, null);
  public static final BackendSpec TRT = new BackendSpec(Runtime.TRT, null, null);

  /** The grammar of a TensorRT spec, for messages and help. */
  public static final String TRT_SPECS = "trt[:fp32|fp16][:custom|reference]";

  /** Every accepted form, for messages and help. */
  public static final String CHOICES = "golden, ort-reference, ort-custom, " + TRT_SPECS;

  private static final String TRT_PREFIX = "trt";

  public BackendSpec {
    if (runtime == null) {
      throw new IllegalArgumentException("a backend spec needs a runtime");
    }
    if (runtime != Runtime.TRT && precision != null) {
      throw new IllegalArgumentException("only a trt backend names a precision");
    }
    if ((runtime == Runtime.GOLDEN) != (graph == null) && runtime != Runtime.TRT) {
      throw new IllegalArgumentException(
          runtime == Runtime.GOLDEN ? "golden runs no exported graph" : "ort needs a graph");
    }
  }

  /**
   * The spec a user typed (blanks around it ignored).
   *
   * @throws IllegalArgumentException naming the spec and the accepted forms
   */
  public static BackendSpec parse(String text) {
    String s = text == null ? "" : text.trim();
    switch (s) {
      case "golden":
        return GOLDEN;
      case "ort-reference":
        return ORT_REFERENCE;
      case "ort-custom":
        return ORT_CUSTOM;
      default:
        break;
    }
    if (!s.equals(TRT_PREFIX) && !s.startsWith(TRT_PREFIX + ":")) {
      throw new IllegalArgumentException("unknown backend '" + s + "' (known: " + CHOICES + ")");
    }
    Graph graph = null;
    Precision precision = null;
    List<String> parts = List.of(s.split(":", -1));
    for (String part : parts.subList(1, parts.size())) {
      switch (part) {
        case "fp32", "fp16" -> {
          requireOnce(s, precision == null, "precision");
          precision = Precision.valueOf(part.toUpperCase(Locale.ROOT));
        }
        case "custom", "reference" -> {
          requireOnce(s, graph == null, "graph");
          graph = Graph.valueOf(part.toUpperCase(Locale.ROOT));
        }
        default ->
            throw new IllegalArgumentException(
                "backend '" + s + "': unknown option '" + part + "' (use " + TRT_SPECS + ")");
      }
    }
    return new BackendSpec(Runtime.TRT, graph, precision);
  }

  private static void requireOnce(String spec, boolean first, String what) {
    if (!first) {
      throw new IllegalArgumentException(
          "backend '" + spec + "' names its " + what + " twice (use " + TRT_SPECS + ")");
    }
  }

  /** The canonical string: {@code golden}, {@code ort-custom}, {@code trt:fp16:reference}, ... */
  public String format() {
    return switch (runtime) {
      case GOLDEN -> "golden";
      case ORT -> "ort-" + graph.label();
      case TRT ->
          TRT_PREFIX
              + (precision == null ? "" : ":" + precision.label())
              + (graph == null ? "" : ":" + graph.label());
    };
  }

  @Override
  public String toString() {
    return format();
  }

  /** Whether this is a TensorRT backend. */
  public boolean isTrt() {
    return runtime == Runtime.TRT;
  }

  /**
   * The reference-graph backend this one is held against in the same run ({@code max_p99_ratio}):
   * our custom ops against the standard-op graph on the same runtime and precision. {@code
   * ort-custom -> ort-reference}, {@code trt} and {@code trt:custom -> trt:reference}, {@code
   * trt:fp16 -> trt:fp16:reference}. Null when this is no candidate (a reference graph, golden).
   */
  public BackendSpec reference() {
    return switch (runtime) {
      case GOLDEN -> null;
      case ORT -> graph == Graph.CUSTOM ? ORT_REFERENCE : null;
      case TRT ->
          graph == Graph.REFERENCE ? null : new BackendSpec(runtime, Graph.REFERENCE, precision);
    };
  }

  /** Parses every spec of a list, in order. */
  public static List<BackendSpec> parseAll(List<String> texts) {
    return texts.stream().map(BackendSpec::parse).toList();
  }
}
