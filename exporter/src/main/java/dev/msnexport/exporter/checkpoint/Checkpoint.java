package dev.msnexport.exporter.checkpoint;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import dev.msnexport.common.Sha256;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint directory: {@code config.json} (the model config) and {@code model.safetensors} (the
 * contract's tensors). Opening validates every tensor against the config: presence, no extras,
 * floating dtype, shape, and NaN/Inf. Tensors stay memory-mapped; close to unmap.
 *
 * <p>Opened through a {@link NameMap}, the tensors are renamed (to the contract's names) before
 * validation; {@link #tensors()} and {@link #tensor} then answer to the contract's names.
 */
public final class Checkpoint implements AutoCloseable {
  public static final String CONFIG_FILE = "config.json";
  public static final String WEIGHTS_FILE = "model.safetensors";

  private final Path dir;
  private final ModelConfig config;
  private final SafetensorsFile weights;
  private final Map<String, TensorView> tensors;
  private final NameMap nameMap;

  private Checkpoint(
      Path dir,
      ModelConfig config,
      SafetensorsFile weights,
      Map<String, TensorView> tensors,
      NameMap nameMap) {
    this.dir = dir;
    this.config = config;
    this.weights = weights;
    this.tensors = tensors;
    this.nameMap = nameMap;
  }

  public static Checkpoint open(Path dir) {
    return open(dir, null);
  }

  /**
   * Opens a checkpoint whose tensor names are mapped to the contract's by {@code nameMap} (null:
   * the names must be the contract's already).
   */
  public static Checkpoint open(Path dir, NameMap nameMap) {
    return InputFiles.load(dir, "checkpoint", () -> load(dir, nameMap));
  }

  private static Checkpoint load(Path dir, NameMap nameMap) {
    if (!Files.isDirectory(dir)) {
      throw new BadInputException(
          "checkpoint directory " + dir + " does not exist or is not a directory");
    }
    ModelConfig config = Profiles.readModelConfig(dir.resolve(CONFIG_FILE));
    SafetensorsFile st = SafetensorsFile.open(dir.resolve(WEIGHTS_FILE));
    try {
      Map<String, TensorView> tensors = st.tensors();
      if (nameMap != null) {
        Map<String, String> mapping =
            nameMap.apply(st.tensors().keySet(), TensorLayout.expected(config).keySet());
        Map<String, TensorView> renamed = new LinkedHashMap<>();
        mapping.forEach((to, from) -> renamed.put(to, st.tensors().get(from).withName(to)));
        tensors = Collections.unmodifiableMap(renamed);
      }
      validate(
          config,
          tensors,
          "checkpoint "
              + st.path()
              + (nameMap != null ? " (names mapped by " + nameMap.source() + ")" : ""));
      return new Checkpoint(dir, config, st, tensors, nameMap);
    } catch (RuntimeException e) {
      st.close();
      throw e;
    }
  }

  static void validate(ModelConfig config, SafetensorsFile st) {
    validate(config, st.tensors(), "checkpoint " + st.path());
  }

  static void validate(ModelConfig config, Map<String, TensorView> tensors, String where) {
    Map<String, long[]> expected = TensorLayout.expected(config);
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      TensorView t = tensors.get(e.getKey());
      if (t == null) {
        missing.add(e.getKey());
        continue;
      }
      if (!t.dtype().isFloating()) {
        throw t.wrongDtype(where, e.getKey(), ", expected a floating type (F32, F16, BF16, F64)");
      }
      if (!Arrays.equals(t.shape(), e.getValue())) {
        throw new BadInputException(
            where
                + ": tensor '"
                + e.getKey()
                + "' has shape "
                + Arrays.toString(t.shape())
                + ", expected "
                + Arrays.toString(e.getValue())
                + " for this config");
      }
    }
    if (!missing.isEmpty()) {
      throw new BadInputException(
          where
              + ": missing tensor"
              + (missing.size() > 1 ? "s " : " ")
              + String.join(", ", missing));
    }
    for (String name : tensors.keySet()) {
      if (!expected.containsKey(name)) {
        throw new BadInputException(
            where + ": unexpected tensor '" + name + "' (not in the contract for this config)");
      }
    }
    for (TensorView t : tensors.values()) {
      long bad = t.firstNonFinite();
      if (bad >= 0) {
        throw new BadInputException(
            where
                + ": tensor '"
                + t.name()
                + "' holds "
                + t.getDouble(bad)
                + " at flat index "
                + bad);
      }
    }
  }

  public Path dir() {
    return dir;
  }

  public ModelConfig config() {
    return config;
  }

  public TensorView tensor(String name) {
    TensorView t = tensors.get(name);
    if (t == null) {
      throw new BadInputException("checkpoint " + weights.path() + ": no tensor '" + name + "'");
    }
    return t;
  }

  /** Tensors by contract name (after the name map, if any). */
  public Map<String, TensorView> tensors() {
    return tensors;
  }

  /** The name map this checkpoint was opened with, or null. */
  public NameMap nameMap() {
    return nameMap;
  }

  public Path weightsFile() {
    return weights.path();
  }

  /** SHA-256 (hex) of model.safetensors, streamed. */
  public String sha256() {
    return sha256(weights.path());
  }

  public static String sha256(Path file) {
    InputFiles.requireRegularFile(file, "checkpoint file");
    try (InputStream in = Files.newInputStream(file)) {
      return Sha256.of(in);
    } catch (IOException e) {
      throw new BadInputException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    weights.close();
  }
}
