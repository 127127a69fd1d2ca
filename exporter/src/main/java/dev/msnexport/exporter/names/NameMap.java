package dev.msnexport.exporter.names;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Maps a training framework's tensor names to the contract's ({@code --name-map FILE}). The file is
 * JSON, one of two forms:
 *
 * <ul>
 *   <li>exact renames: {@code {"model.mem.v": "blocks.0.msn.values", ...}}; a name that is not a
 *       key is kept as it is; a value of {@code null} drops the tensor (optimizer state, buffers);
 *   <li>rules: {@code {"rules": [{"pattern": "REGEX", "replacement": "..."}, ...]}}, applied in
 *       order, each to the result of the one before, as {@link Matcher#replaceAll} (so {@code $1}
 *       and {@code ${name}} refer to groups, and a pattern matches anywhere unless anchored with
 *       {@code ^...$}); a rule {@code {"pattern": "REGEX", "drop": true}} drops every tensor whose
 *       current name it matches.
 * </ul>
 *
 * <p>{@link #apply} fails, naming the tensors and the rules, when two tensors map to one name or
 * when a tensor maps to a name that is not one of the contract's (left unmapped).
 */
public final class NameMap {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One rule; {@code replacement == null} means drop. {@code index} is 1-based, for messages. */
  public record Rule(int index, Pattern pattern, String replacement) {
    String describe() {
      return "rule "
          + index
          + " '"
          + pattern.pattern()
          + "'"
          + (replacement == null ? " (drop)" : " -> '" + replacement + "'");
    }
  }

  private final String source;
  private final Map<String, String> exact; // null value: drop
  private final List<Rule> rules;

  private NameMap(String source, Map<String, String> exact, List<Rule> rules) {
    this.source = source;
    this.exact = exact;
    this.rules = rules;
  }

  /** Exact renames (a null value drops the tensor). */
  public static NameMap exact(Map<String, String> renames) {
    return new NameMap("name map", new LinkedHashMap<>(renames), null);
  }

  /** Regex rules applied in order. */
  public static NameMap rules(List<Rule> rules) {
    return new NameMap("name map", null, List.copyOf(rules));
  }

  public static NameMap read(Path file) {
    String text = InputFiles.readText(file, "name map", InputFiles.MAX_CONFIG_BYTES);
    return parse(text, "name map " + file);
  }

  /** Parses the JSON text; {@code where} names the source in messages. */
  public static NameMap parse(String text, String where) {
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JacksonException e) {
      throw new BadInputException(
          where + ": not valid JSON: " + e.getOriginalMessage().replace('\n', ' '));
    }
    if (root == null || !root.isObject()) {
      throw new BadInputException(
          where + ": must be a JSON object: {\"from\": \"to\", ...} or {\"rules\": [...]}");
    }
    if (root.has("rules")) {
      if (root.size() != 1) {
        throw new BadInputException(where + ": a rules map holds only the key 'rules'");
      }
      JsonNode arr = root.get("rules");
      if (!arr.isArray()) {
        throw new BadInputException(
            where + ": 'rules' must be an array of {\"pattern\": ..., \"replacement\": ...}");
      }
      List<Rule> rules = new ArrayList<>();
      for (int i = 0; i < arr.size(); i++) {
        JsonNode r = arr.get(i);
        String rw = where + ": rule " + (i + 1);
        if (!r.isObject() || !r.path("pattern").isTextual()) {
          throw new BadInputException(rw + " must be an object with a string 'pattern'");
        }
        for (Iterator<String> it = r.fieldNames(); it.hasNext(); ) {
          String f = it.next();
          if (!Set.of("pattern", "replacement", "drop").contains(f)) {
            throw new BadInputException(
                rw + ": unknown field '" + f + "' (known: pattern, replacement, drop)");
          }
        }
        boolean drop = r.path("drop").asBoolean(false);
        if (drop == r.has("replacement")) {
          throw new BadInputException(
              rw + " needs exactly one of 'replacement' (a string) or \"drop\": true");
        }
        if (!drop && !r.get("replacement").isTextual()) {
          throw new BadInputException(rw + ": 'replacement' must be a string");
        }
        Pattern p;
        try {
          p = Pattern.compile(r.get("pattern").asText());
        } catch (PatternSyntaxException e) {
          throw new BadInputException(
              rw
                  + ": invalid regular expression: "
                  + e.getDescription()
                  + " in '"
                  + e.getPattern()
                  + "'");
        }
        String repl = drop ? null : r.get("replacement").asText();
        if (repl != null) {
          try {
            // check group references up front: the same groups, in a pattern that always matches
            Matcher m = Pattern.compile("(?:" + p.pattern() + ")|").matcher("");
            m.find();
            m.appendReplacement(new StringBuilder(), repl);
          } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new BadInputException(
                rw + ": invalid replacement '" + repl + "': " + e.getMessage());
          }
        }
        rules.add(new Rule(i + 1, p, repl));
      }
      return new NameMap(where, null, List.copyOf(rules));
    }
    Map<String, String> exact = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      if (!v.isTextual() && !v.isNull()) {
        throw new BadInputException(
            where
                + ": the value for '"
                + e.getKey()
                + "' must be a tensor name (a string) or null (drop)");
      }
      exact.put(e.getKey(), v.isNull() ? null : v.asText());
    }
    return new NameMap(where, exact, null);
  }

  /** Where this map came from, for messages ("name map FILE"). */
  public String source() {
    return source;
  }

  /**
   * Maps {@code names} (a checkpoint's tensor names, in order) to contract names.
   *
   * @param contract the contract's names for the checkpoint's config
   * @return contract name to source name, in the order of {@code names}; dropped tensors are absent
   * @throws BadInputException when two names map to one, or a name maps outside the contract
   */
  public Map<String, String> apply(Collection<String> names, Set<String> contract) {
    Map<String, String> out = new LinkedHashMap<>();
    Map<String, String> how = new LinkedHashMap<>();
    List<String> unmapped = new ArrayList<>();
    for (String name : names) {
      String to;
      String by;
      if (exact != null) {
        if (exact.containsKey(name)) {
          to = exact.get(name);
          by = "the entry for '" + name + "'";
        } else {
          to = name;
          by = null;
        }
      } else {
        to = name;
        List<String> applied = new ArrayList<>();
        for (Rule r : rules) {
          Matcher m = r.pattern().matcher(to);
          if (m.find()) {
            if (r.replacement() == null) {
              applied.add(r.describe());
              to = null;
              break;
            }
            to = m.replaceAll(r.replacement());
            applied.add(r.describe());
          }
        }
        by = applied.isEmpty() ? null : String.join(", then ", applied);
      }
      if (to == null) {
        continue; // dropped
      }
      String before = out.putIfAbsent(to, name);
      if (before != null) {
        throw new BadInputException(
            source
                + ": tensors '"
                + before
                + "' ("
                + (how.get(to) == null ? "kept as is" : "by " + how.get(to))
                + ") and '"
                + name
                + "' ("
                + (by == null ? "kept as is" : "by " + by)
                + ") both map to '"
                + to
                + "'");
      }
      how.put(to, by);
      if (!contract.contains(to)) {
        unmapped.add(
            "'"
                + name
                + "'"
                + (by == null ? " (no rule matches it)" : " -> '" + to + "' (by " + by + ")"));
      }
    }
    if (!unmapped.isEmpty()) {
      int shown = Math.min(unmapped.size(), 5);
      throw new BadInputException(
          source
              + ": "
              + unmapped.size()
              + " tensor"
              + (unmapped.size() > 1 ? "s are" : " is")
              + " left unmapped (not a contract tensor name for this config): "
              + String.join("; ", unmapped.subList(0, shown))
              + (unmapped.size() > shown ? "; and " + (unmapped.size() - shown) + " more" : ""));
    }
    return out;
  }
}
