package dev.msnexport.ops;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** Reads and checks ops.json (schema in docs/adding-an-op.md); errors name the field. */
final class OpTableReader {
  private static final Pattern ID = Pattern.compile("[a-z][a-z0-9_]*");
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");
  private static final Set<String> ATTRIBUTE_TYPES =
      Set.of("int", "float", "string", "ints", "floats");

  private OpTableReader() {}

  static OpTable read(JsonNode root) {
    keys(
        root,
        "table",
        "schema",
        "domain",
        "opsetVersion",
        "pluginVersion",
        "pluginNamespace",
        "ops");
    int schema = integer(root, "schema", "table");
    if (schema != OpTable.SCHEMA) {
      throw new IllegalArgumentException(
          "schema " + schema + " is not supported (this reader knows " + OpTable.SCHEMA + ")");
    }
    String domain = text(root, "domain", "table");
    if (!NAME.matcher(domain).matches()) {
      throw new IllegalArgumentException("domain '" + domain + "' is not an identifier");
    }
    int opset = integer(root, "opsetVersion", "table");
    if (opset < 1) {
      throw new IllegalArgumentException("opsetVersion must be >= 1, got " + opset);
    }
    List<OpSpec> ops = new ArrayList<>();
    for (JsonNode op : array(root, "ops", "table")) {
      ops.add(op(op));
    }
    if (ops.isEmpty()) {
      throw new IllegalArgumentException("ops is empty");
    }
    OpTable.checkUnique(ops);
    return new OpTable(
        domain,
        opset,
        text(root, "pluginVersion", "table"),
        textOrEmpty(root, "pluginNamespace", "table"),
        List.copyOf(ops));
  }

  private static OpSpec op(JsonNode n) {
    String id = text(n, "id", "op");
    String where = "op '" + id + "'";
    keys(n, where, "id", "name", "doc", "inputs", "outputs", "attributes");
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException(where + ": id must be snake_case ([a-z][a-z0-9_]*)");
    }
    String name = text(n, "name", where);
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(where + ": name '" + name + "' is not an identifier");
    }
    List<OpSpec.Input> inputs = new ArrayList<>();
    for (JsonNode i : array(n, "inputs", where)) {
      inputs.add(input(i, where));
    }
    List<OpSpec.Output> outputs = new ArrayList<>();
    for (JsonNode o : array(n, "outputs", where)) {
      outputs.add(output(o, where));
    }
    List<OpSpec.Attribute> attributes = new ArrayList<>();
    for (JsonNode a : array(n, "attributes", where)) {
      attributes.add(attribute(a, where));
    }
    if (inputs.isEmpty() || outputs.isEmpty()) {
      throw new IllegalArgumentException(where + ": needs at least one input and one output");
    }
    OpSpec spec =
        new OpSpec(
            id,
            name,
            textOrEmpty(n, "doc", where),
            List.copyOf(inputs),
            List.copyOf(outputs),
            List.copyOf(attributes));
    checkSignature(spec, where);
    return spec;
  }

  private static OpSpec.Input input(JsonNode n, String op) {
    String name = text(n, "name", op + " input");
    String where = op + " input '" + name + "'";
    keys(n, where, "name", "types", "rank", "optional", "givenWhen");
    List<ElementType> types = new ArrayList<>();
    for (JsonNode t : array(n, "types", where)) {
      types.add(elementType(t.asText(), where));
    }
    if (types.isEmpty()) {
      throw new IllegalArgumentException(where + ": types is empty");
    }
    boolean optional = n.has("optional") && bool(n, "optional", where);
    OpSpec.GivenWhen when = n.has("givenWhen") ? givenWhen(n.get("givenWhen"), where) : null;
    if (when != null && !optional) {
      throw new IllegalArgumentException(where + ": givenWhen is for optional inputs only");
    }
    return new OpSpec.Input(name, List.copyOf(types), rank(n, where), optional, when);
  }

  private static OpSpec.GivenWhen givenWhen(JsonNode n, String input) {
    String where = input + " givenWhen";
    keys(n, where, "input", "types");
    List<ElementType> types = new ArrayList<>();
    for (JsonNode t : array(n, "types", where)) {
      types.add(elementType(t.asText(), where));
    }
    if (types.isEmpty()) {
      throw new IllegalArgumentException(where + ": types is empty");
    }
    return new OpSpec.GivenWhen(text(n, "input", where), List.copyOf(types));
  }

  private static OpSpec.Output output(JsonNode n, String op) {
    String name = text(n, "name", op + " output");
    String where = op + " output '" + name + "'";
    keys(n, where, "name", "type", "rank");
    String type = text(n, "type", where);
    if (!type.startsWith(OpSpec.Output.SAME_PREFIX)) {
      elementType(type, where);
    }
    return new OpSpec.Output(name, type, rank(n, where));
  }

  private static OpSpec.Attribute attribute(JsonNode n, String op) {
    String name = text(n, "name", op + " attribute");
    String where = op + " attribute '" + name + "'";
    keys(n, where, "name", "type", "required", "min", "max", "values");
    String type = text(n, "type", where);
    if (!ATTRIBUTE_TYPES.contains(type)) {
      throw new IllegalArgumentException(
          where + ": type '" + type + "' is not one of " + ATTRIBUTE_TYPES);
    }
    Long min = n.has("min") ? (long) integer(n, "min", where) : null;
    Long max = n.has("max") ? (long) integer(n, "max", where) : null;
    if ((min != null || max != null) && !type.equals("int")) {
      throw new IllegalArgumentException(where + ": min/max apply to int attributes only");
    }
    if (min != null && max != null && min > max) {
      throw new IllegalArgumentException(where + ": min " + min + " > max " + max);
    }
    return new OpSpec.Attribute(
        name, type, bool(n, "required", where), min, max, values(n, type, where));
  }

  /** The allowed values of a string attribute ({@code "values"}; absent: any string). */
  private static List<String> values(JsonNode n, String type, String where) {
    if (!n.has("values")) {
      return List.of();
    }
    if (!type.equals("string")) {
      throw new IllegalArgumentException(where + ": values apply to string attributes only");
    }
    Set<String> values = new LinkedHashSet<>();
    for (JsonNode v : array(n, "values", where)) {
      if (!v.isTextual() || v.asText().isEmpty() || !values.add(v.asText())) {
        throw new IllegalArgumentException(
            where + ": values must be distinct non-empty strings, got " + v);
      }
    }
    if (values.isEmpty()) {
      throw new IllegalArgumentException(where + ": values is empty");
    }
    return List.copyOf(values);
  }

  /** Unique input/output/attribute names; optional inputs last; "same:X" names an input. */
  private static void checkSignature(OpSpec spec, String where) {
    Set<String> seen = new HashSet<>();
    for (OpSpec.Input i : spec.inputs()) {
      unique(seen, i.name(), where);
    }
    for (OpSpec.Output o : spec.outputs()) {
      unique(seen, o.name(), where);
      if (o.sameAs().isPresent() && spec.inputIndex(o.sameAs().get()) < 0) {
        throw new IllegalArgumentException(
            where + " output '" + o.name() + "': type " + o.type() + " names no input");
      }
    }
    for (OpSpec.Attribute a : spec.attributes()) {
      unique(seen, a.name(), where);
    }
    for (int i = spec.requiredInputs(); i < spec.inputs().size(); i++) {
      if (!spec.inputs().get(i).optional()) {
        throw new IllegalArgumentException(
            where + ": required input '" + spec.inputs().get(i).name() + "' after an optional one");
      }
      checkGivenWhen(spec, spec.inputs().get(i), where);
    }
  }

  /** givenWhen names a required input and only types that input accepts. */
  private static void checkGivenWhen(OpSpec spec, OpSpec.Input in, String where) {
    OpSpec.GivenWhen w = in.givenWhen();
    if (w == null) {
      return;
    }
    int other = spec.inputIndex(w.input());
    String at = where + " input '" + in.name() + "' givenWhen";
    if (other < 0 || other >= spec.requiredInputs()) {
      throw new IllegalArgumentException(at + ": '" + w.input() + "' is no required input");
    }
    if (!spec.inputs().get(other).types().containsAll(w.types())) {
      throw new IllegalArgumentException(
          at + ": types " + w.types() + " are not all types of input '" + w.input() + "'");
    }
  }

  private static void unique(Set<String> seen, String name, String where) {
    if (!NAME.matcher(name).matches() || !seen.add(name)) {
      throw new IllegalArgumentException(
          where + ": '" + name + "' is not an identifier or is used twice");
    }
  }

  private static ElementType elementType(String name, String where) {
    try {
      return ElementType.of(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  private static int rank(JsonNode n, String where) {
    int r = integer(n, "rank", where);
    if (r < 0) {
      throw new IllegalArgumentException(where + ": rank must be >= 0, got " + r);
    }
    return r;
  }

  private static void keys(JsonNode n, String where, String... allowed) {
    if (!n.isObject()) {
      throw new IllegalArgumentException(where + " must be a JSON object");
    }
    Set<String> ok = Set.of(allowed);
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!ok.contains(k)) {
        throw new IllegalArgumentException(where + ": unknown field '" + k + "'");
      }
    }
  }

  private static JsonNode field(JsonNode n, String key, String where) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException(where + ": field '" + key + "' is missing");
    }
    return v;
  }

  /** The field {@code key}, which must pass {@code ok} ({@code what} says what it must be). */
  private static JsonNode typed(
      JsonNode n, String key, String where, Predicate<JsonNode> ok, String what) {
    JsonNode v = field(n, key, where);
    if (!ok.test(v)) {
      throw new IllegalArgumentException(where + ": '" + key + "' must be " + what);
    }
    return v;
  }

  private static String text(JsonNode n, String key, String where) {
    return typed(n, key, where, v -> v.isTextual() && !v.asText().isEmpty(), "a non-empty string")
        .asText();
  }

  private static String textOrEmpty(JsonNode n, String key, String where) {
    return typed(n, key, where, JsonNode::isTextual, "a string").asText();
  }

  private static int integer(JsonNode n, String key, String where) {
    return typed(n, key, where, JsonNode::isInt, "an integer").asInt();
  }

  private static boolean bool(JsonNode n, String key, String where) {
    return typed(n, key, where, JsonNode::isBoolean, "true or false").asBoolean();
  }

  private static Iterable<JsonNode> array(JsonNode n, String key, String where) {
    return typed(n, key, where, JsonNode::isArray, "an array");
  }
}
