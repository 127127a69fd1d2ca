package dev.msnexport.trt;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The layers of a built engine as TensorRT's engine inspector describes them (JSON, one entry per
 * engine layer after fusion): name, type, the data types of its inputs and outputs, and the tactic.
 * Full detail needs a plan built with detailed profiling verbosity (our builds are) and an
 * execution context with concrete shapes; otherwise the formats read "N/A" and only names are
 * known. This is what shows whether a layer pinned to float32 really runs in float32.
 */
public record EngineLayers(List<Layer> layers) {
  /**
   * One engine layer; {@code inputTypes}/{@code outputTypes} are fp32, fp16, bf16, int8, int32,
   * int64, bool or ? (unknown).
   */
  public record Layer(
      String name, String type, List<String> inputTypes, List<String> outputTypes, String tactic) {
    /** Every floating input and output type of the layer, in order of first appearance. */
    public Set<String> floatingTypes() {
      Set<String> s = new LinkedHashSet<>();
      for (String t : inputTypes) {
        if (isFloating(t)) {
          s.add(t);
        }
      }
      for (String t : outputTypes) {
        if (isFloating(t)) {
          s.add(t);
        }
      }
      return s;
    }

    /** True when a floating input or output of this layer is fp16 or bf16. */
    public boolean touchesHalf() {
      Set<String> s = floatingTypes();
      return s.contains("fp16") || s.contains("bf16");
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  static boolean isFloating(String t) {
    return t.equals("fp32") || t.equals("fp16") || t.equals("bf16");
  }

  /**
   * Parses the inspector's JSON ({@code {"Layers": [...]}}; entries are objects, or bare names at
   * low verbosity).
   */
  public static EngineLayers parse(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JacksonException e) {
      throw new TrtException(
          "TensorRT's engine inspector returned no valid JSON: " + e.getOriginalMessage());
    }
    JsonNode layers = root == null ? null : root.get("Layers");
    if (layers == null || !layers.isArray()) {
      throw new TrtException("TensorRT's engine inspector returned JSON without a Layers array");
    }
    List<Layer> out = new ArrayList<>();
    for (JsonNode l : layers) {
      if (l.isTextual()) {
        out.add(new Layer(l.asText(), "?", List.of(), List.of(), ""));
        continue;
      }
      out.add(
          new Layer(
              l.path("Name").asText("?"),
              l.path("LayerType").asText("?"),
              types(l.get("Inputs")),
              types(l.get("Outputs")),
              l.path("TacticName").asText(l.path("TacticValue").asText(""))));
    }
    return new EngineLayers(List.copyOf(out));
  }

  private static List<String> types(JsonNode tensors) {
    List<String> out = new ArrayList<>();
    if (tensors != null && tensors.isArray()) {
      for (JsonNode t : tensors) {
        out.add(dataType(t.path("Format/Datatype").asText("")));
      }
    }
    return List.copyOf(out);
  }

  /**
   * The data type in a "Format/Datatype" text: "Row major linear FP32", "Float", "Half", "Row major
   * linear FP16 format", "Channel major FP16 format where ...", "Int32", ...
   */
  static String dataType(String format) {
    String f = format.toLowerCase(Locale.ROOT);
    if (f.contains("fp16") || f.contains("half")) {
      return "fp16";
    }
    if (f.contains("bf16")) {
      return "bf16";
    }
    if (f.contains("fp32") || f.contains("float")) {
      return "fp32";
    }
    if (f.contains("int8")) {
      return "int8";
    }
    if (f.contains("int32")) {
      return "int32";
    }
    if (f.contains("int64")) {
      return "int64";
    }
    if (f.contains("bool")) {
      return "bool";
    }
    return "?";
  }

  /** Layers whose name contains {@code fragment} (node names are kept in fused layers' names). */
  public List<Layer> named(String fragment) {
    return layers.stream().filter(l -> l.name().contains(fragment)).toList();
  }

  /**
   * Engine layers of a float32 scope ({@link PrecisionPolicy#float32Layers}, for our exports the
   * MSN scoring path) that read or write fp16 or bf16 data, reformats into that scope included: in
   * an fp16 engine these should be none (the builder keeps the scope in float32), so each one names
   * where scores lose precision.
   */
  public List<Layer> halfIn(java.util.function.Predicate<String> float32Scope) {
    return layers.stream().filter(l -> float32Scope.test(l.name()) && l.touchesHalf()).toList();
  }

  /**
   * A table, one line per layer: types in -> out, layer type, tactic, name (cut to {@code
   * nameWidth}).
   */
  public String table(int nameWidth) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT, "%-22s %-22s %-16s %s%n", "inputs", "outputs", "type", "name [tactic]"));
    for (Layer l : layers) {
      String name =
          l.name().length() > nameWidth ? l.name().substring(0, nameWidth - 3) + "..." : l.name();
      sb.append(
          String.format(
              Locale.ROOT,
              "%-22s %-22s %-16s %s%s%n",
              String.join(",", l.inputTypes()),
              String.join(",", l.outputTypes()),
              l.type(),
              name,
              l.tactic().isEmpty() ? "" : " [" + l.tactic() + "]"));
    }
    return sb.toString();
  }
}
