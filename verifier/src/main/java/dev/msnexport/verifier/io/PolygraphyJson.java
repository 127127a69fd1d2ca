package dev.msnexport.verifier.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.common.InputFiles;
import dev.msnexport.profiles.Profiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Polygraphy's JSON forms (NVIDIA/TensorRT, tools/Polygraphy: {@code polygraphy/json/serde.py} and
 * {@code polygraphy/comparator/struct.py}), so results move both ways between {@code polygraphy run
 * --save-outputs/--save-inputs} and {@code msn-export verify --save-golden/--golden}.
 *
 * <p>What the format is, as those files define it: an encoded object is a JSON object with a key
 * {@code "polygraphy_class"} naming its Python class (older files: a key {@code
 * "__polygraphy_encoded_<Class>"} instead). A NumPy array is {@code {"array": base64 of the np.save
 * bytes (allow_pickle=False), "polygraphy_class": "ndarray"}} (very old files: the bytes as a
 * latin-1 string, or an npz archive). {@code RunResults} is {@code {"lst": [[runner_name,
 * [IterationResult, ...]], ...]}}; an {@code IterationResult} is {@code {"outputs": {name:
 * LazyArray}, "runtime": seconds or null, "runner_name": ...}}; a {@code LazyArray} wraps its array
 * as {@code {"values": ndarray}}. Inputs are saved separately ({@code --save-inputs}) as a JSON
 * list of feed dicts {@code [{name: ndarray}]}.
 *
 * <p>We write the lazy wrapper under its older class name {@code LazyNumpyArray}: current
 * Polygraphy registers that name as an alias of {@code LazyArray} for decoding, and older releases
 * know only that name, so both read our files. We read either name.
 */
public final class PolygraphyJson {
  static final String TYPE_MARKER = "polygraphy_class";
  static final String LEGACY_PREFIX = "__polygraphy_encoded_";

  private PolygraphyJson() {}

  /** Where the inputs of {@code results} live: {@code NAME.json -> NAME.inputs.json}. */
  public static Path inputsPathFor(Path results) {
    String f = results.getFileName().toString();
    String stem = f.substring(0, f.length() - ".json".length());
    return results.resolveSibling(stem + ".inputs.json");
  }

  public static void write(Path path, GoldenFile g) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode outputs = f.objectNode();
    g.outputs()
        .forEach(
            (name, t) -> {
              ObjectNode lazy = f.objectNode();
              lazy.set("values", ndarray(t));
              lazy.put(TYPE_MARKER, "LazyNumpyArray");
              outputs.set(name, lazy);
            });
    String runner = g.producer() == null ? "msn-export" : g.producer();
    ObjectNode iteration = f.objectNode();
    iteration.set("outputs", outputs);
    iteration.putNull("runtime");
    iteration.put("runner_name", runner);
    iteration.put(TYPE_MARKER, "IterationResult");
    ArrayNode pair = f.arrayNode().add(runner).add(f.arrayNode().add(iteration));
    ObjectNode root = f.objectNode();
    root.set("lst", f.arrayNode().add(pair));
    root.put(TYPE_MARKER, "RunResults");

    ObjectNode feed = f.objectNode();
    g.inputs().forEach((name, t) -> feed.set(name, ndarray(t)));
    ArrayNode inputs = f.arrayNode().add(feed);

    Path inputsPath = inputsPathFor(path);
    try (AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
      Files.writeString(
          batch.tempFor(path), Profiles.toJson(root) + "\n", AtomicFiles.existingTemp());
      Files.writeString(
          batch.tempFor(inputsPath), Profiles.toJson(inputs) + "\n", AtomicFiles.existingTemp());
      batch.commit();
    } catch (IOException e) {
      throw AtomicFiles.writeFailed(path, e);
    }
  }

  private static ObjectNode ndarray(HostTensor t) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("array", Base64.getEncoder().encodeToString(Npy.write(t, Npy.Type.defaultFor(t))));
    n.put(TYPE_MARKER, "ndarray");
    return n;
  }

  /** Reads the first runner's first iteration, and the inputs from {@link #inputsPathFor}. */
  public static GoldenFile read(Path path) {
    String where = "Polygraphy results " + path;
    JsonNode root = readTree(path, where);
    if (!isA(root, "RunResults") || !root.path("lst").isArray()) {
      throw new BadInputException(
          where
              + ": not a Polygraphy RunResults file (expected {\"lst\": [...], \"polygraphy_class\": "
              + "\"RunResults\"}, as 'polygraphy run --save-outputs' writes)");
    }
    JsonNode lst = root.get("lst");
    if (lst.isEmpty()) {
      throw new BadInputException(where + ": field 'lst' holds no runner");
    }
    JsonNode pair = lst.get(0);
    if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isTextual() || !pair.get(1).isArray()) {
      throw new BadInputException(
          where + ": field 'lst[0]' must be [runner_name, [IterationResult, ...]]");
    }
    String runner = pair.get(0).asText();
    if (pair.get(1).isEmpty()) {
      throw new BadInputException(where + ": runner '" + runner + "' has no iteration");
    }
    JsonNode iteration = pair.get(1).get(0);
    JsonNode outs = iteration.path("outputs");
    if (!outs.isObject() || outs.isEmpty()) {
      throw new BadInputException(where + ": runner '" + runner + "' iteration 0 has no 'outputs'");
    }
    Map<String, HostTensor> outputs = decodeAll(outs, where + ": output");
    Path inputsPath = inputsPathFor(path);
    if (!Files.exists(inputsPath)) {
      throw new BadInputException(
          where
              + ": its inputs file "
              + inputsPath
              + " does not exist (Polygraphy saves inputs apart: "
              + "polygraphy run ... --save-inputs "
              + inputsPath.getFileName()
              + " --save-outputs "
              + path.getFileName()
              + ")");
    }
    Map<String, HostTensor> inputs = readInputs(inputsPath);
    return new GoldenFile(inputs, outputs, runner, null);
  }

  /** Polygraphy's {@code --save-inputs} form: a list of feed dicts; the first one is used. */
  public static Map<String, HostTensor> readInputs(Path path) {
    String where = "Polygraphy inputs " + path;
    JsonNode root = readTree(path, where);
    JsonNode feed = root.isArray() ? root.path(0) : root;
    if (!feed.isObject() || feed.isEmpty()) {
      throw new BadInputException(where + ": expected a list of feed dicts [{input_name: array}]");
    }
    return decodeAll(feed, where + ": input");
  }

  /**
   * Every array of {@code object} by name, in file order; errors name each as {@code what 'NAME'}.
   */
  private static Map<String, HostTensor> decodeAll(JsonNode object, String what) {
    Map<String, HostTensor> tensors = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      tensors.put(
          e.getKey(), decodeArray(e.getKey(), e.getValue(), what + " '" + e.getKey() + "'"));
    }
    return tensors;
  }

  private static JsonNode readTree(Path path, String where) {
    if (!Files.exists(path)) {
      throw new BadInputException(where + " does not exist");
    }
    try {
      return Profiles.JSON.readTree(InputFiles.readText(path, where, InputFiles.MAX_DATA_BYTES));
    } catch (JacksonException e) {
      throw new BadInputException(
          where + ": malformed JSON: " + e.getOriginalMessage().replace('\n', ' '), e);
    } catch (IOException e) {
      throw new BadInputException(where + " cannot be read: " + e.getMessage(), e);
    }
  }

  static boolean isA(JsonNode n, String cls) {
    return n != null
        && n.isObject()
        && (cls.equals(n.path(TYPE_MARKER).asText(null)) || n.has(LEGACY_PREFIX + cls));
  }

  /** An ndarray, or a lazy wrapper around one, to a tensor. */
  static HostTensor decodeArray(String name, JsonNode n, String where) {
    if (isA(n, "LazyArray") || isA(n, "LazyNumpyArray")) {
      return decodeArray(name, n.get("values"), where);
    }
    if (!isA(n, "ndarray") || !n.path("array").isTextual()) {
      String cls =
          n == null ? "nothing" : n.path(TYPE_MARKER).asText("an object without " + TYPE_MARKER);
      throw new BadInputException(
          where
              + ": expected a NumPy array ({\"array\": ..., \""
              + TYPE_MARKER
              + "\": \"ndarray\"}), got "
              + cls);
    }
    String text = n.get("array").asText();
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException notBase64) {
      bytes =
          text.getBytes(
              StandardCharsets.ISO_8859_1); // the oldest files held the raw bytes as latin-1
    }
    if (bytes.length >= 2 && bytes[0] == 'P' && bytes[1] == 'K') {
      bytes = firstNpzMember(bytes, where);
    }
    return Npy.read(name, bytes, where);
  }

  /** Old files stored {@code np.savez} archives; the array is the first member. */
  private static byte[] firstNpzMember(byte[] zip, String where) {
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      ZipEntry e = in.getNextEntry();
      if (e == null) {
        throw new BadInputException(where + ": empty npz archive");
      }
      return in.readAllBytes();
    } catch (IOException | IllegalArgumentException e) {
      // IllegalArgumentException: ZipInputStream's answer to an entry name that is not UTF-8 (found
      // by fuzzing)
      throw new BadInputException(where + ": bad npz archive: " + e.getMessage(), e);
    }
  }
}
