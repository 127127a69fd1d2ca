package dev.msnexport.trt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Whether an exported graph holds int8/fp8 value tables (its export's manifest says so). TensorRT
 * then builds a strongly typed network: the tables' INT8/FP8 codes are data of a plugin input, not
 * tensors for TensorRT to quantize, and a weakly typed network would ask for their dynamic range.
 * The main code does not import the exporter: the manifest's file name and the quantized {@code
 * values_dtype} spellings are the exporter's ({@code ExportManifest.FILE}, {@code
 * DType.cliName()}), which QuantizedTablesTest checks.
 */
final class QuantizedTables {
  /** The manifest's file name in an export directory. */
  static final String MANIFEST = "manifest.json";

  /** The manifest's {@code values_dtype} of per-row quantized tables. */
  static final Set<String> QUANTIZED = Set.of("int8", "fp8");

  private QuantizedTables() {}

  /** True when {@code onnx} lies in an export directory whose manifest has an int8/fp8 table. */
  static boolean in(Path onnx) {
    Path manifest = onnx.toAbsolutePath().resolveSibling(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      return false;
    }
    try {
      JsonNode v = new ObjectMapper().readTree(manifest.toFile()).path("values_dtype");
      return v.isTextual() && QUANTIZED.contains(v.asText());
    } catch (IOException e) {
      return false; // not ours to judge here: verify and inspect check manifests
    }
  }
}
