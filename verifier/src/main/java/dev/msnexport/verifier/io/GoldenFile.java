package dev.msnexport.verifier.io;

import dev.msnexport.common.HostTensor;
import dev.msnexport.common.InputFiles;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Saved inputs and outputs of one run, so a later run, another machine or a PyTorch script can be
 * compared with it. Two on-disk forms, chosen by the file name:
 *
 * <ul>
 *   <li>{@code *.json}: Polygraphy's {@code RunResults} ({@link PolygraphyJson}), with the inputs
 *       beside it in Polygraphy's {@code --save-inputs} form ({@code NAME.inputs.json});
 *   <li>anything else: a safetensors file ({@link SafetensorsGolden}, format {@value #FORMAT}).
 * </ul>
 *
 * @param producer the backend or tool that computed the outputs
 * @param modelSha256 SHA-256 of the checkpoint the outputs belong to, or null
 */
public record GoldenFile(
    Map<String, HostTensor> inputs,
    Map<String, HostTensor> outputs,
    String producer,
    String modelSha256) {
  /** The {@code format} value in a safetensors golden file's metadata. */
  public static final String FORMAT = "msn-export.golden/1";

  public GoldenFile {
    inputs = Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
    outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
  }

  /** True when {@code path} names Polygraphy's JSON form. */
  public static boolean isPolygraphyJson(Path path) {
    return path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
  }

  public static GoldenFile read(Path path) {
    return InputFiles.load(
        path,
        "golden file",
        () -> isPolygraphyJson(path) ? PolygraphyJson.read(path) : SafetensorsGolden.read(path));
  }

  /** Writes atomically (the JSON form writes its inputs file in the same commit). */
  public void write(Path path) {
    if (isPolygraphyJson(path)) {
      PolygraphyJson.write(path, this);
    } else {
      SafetensorsGolden.write(path, this);
    }
  }
}
