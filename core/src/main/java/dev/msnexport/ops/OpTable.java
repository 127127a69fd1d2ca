package dev.msnexport.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The table of our custom ops ({@value #RESOURCE}): ONNX domain, opset version, TensorRT plugin
 * version and namespace, and every op's signature. The one place these facts are written; the
 * exporter, the ONNX Runtime loader and the TensorRT runtime read them from here, and both native
 * CMake projects generate {@code msn_op_table.h} from the same file. Schema and how to add an op:
 * docs/adding-an-op.md.
 */
public record OpTable(
    String domain,
    int opsetVersion,
    String pluginVersion,
    String pluginNamespace,
    List<OpSpec> ops) {

  /** The table's class-path resource. */
  public static final String RESOURCE = "/dev/msnexport/ops/ops.json";

  /** Ids of the ops that Java code treats specially (the ids are the table's stable keys). */
  public static final String PKM_RETRIEVAL = "pkm_retrieval";

  public static final String SPARSE_GATHER = "sparse_gather";

  public static final String MSN_LAYER = "msn_layer";

  /** The schema version this reader understands. */
  static final int SCHEMA = 1;

  private static final class Holder {
    static final OpTable STANDARD = loadResource();
  }

  /** The table packaged in core (loaded once). */
  public static OpTable standard() {
    return Holder.STANDARD;
  }

  /** The op with id {@code id}; fails naming the known ids. */
  public OpSpec op(String id) {
    return ops.stream()
        .filter(o -> o.id().equals(id))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "no op with id '" + id + "' in the op table (ids: " + ids() + ")"));
  }

  /** The op whose ONNX op type (= plugin name) is {@code name}, if any. */
  public Optional<OpSpec> byName(String name) {
    return ops.stream().filter(o -> o.name().equals(name)).findFirst();
  }

  /** Whether a node of {@code domain} and {@code opType} is one of ours. */
  public boolean isOurs(String nodeDomain, String opType) {
    return domain.equals(nodeDomain) && byName(opType).isPresent();
  }

  /** The ONNX op types (= TensorRT plugin names), in table order. */
  public List<String> names() {
    return ops.stream().map(OpSpec::name).toList();
  }

  /** The ids, in table order. */
  public List<String> ids() {
    return ops.stream().map(OpSpec::id).toList();
  }

  /** Parses and checks a table; {@code source} names it in errors. */
  public static OpTable parse(InputStream in, String source) throws IOException {
    JsonNode root = new ObjectMapper().readTree(in);
    try {
      return OpTableReader.read(root);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  private static OpTable loadResource() {
    try (InputStream in = OpTable.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("the op table " + RESOURCE + " is not on the class path");
      }
      return parse(in, RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the op table " + RESOURCE, e);
    }
  }

  /** Checks cross-op rules: unique ids and names. */
  static void checkUnique(List<OpSpec> ops) {
    Set<String> ids = new HashSet<>();
    Set<String> names = new HashSet<>();
    for (OpSpec o : ops) {
      if (!ids.add(o.id())) {
        throw new IllegalArgumentException("op id '" + o.id() + "' appears twice");
      }
      if (!names.add(o.name())) {
        throw new IllegalArgumentException("op name '" + o.name() + "' appears twice");
      }
    }
  }
}
