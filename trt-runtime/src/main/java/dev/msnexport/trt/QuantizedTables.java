package dev.msnexport.trt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether an exported graph holds int8/fp8 value tables (its export's manifest says so). TensorRT
 * then builds a strongly typed network: the tables' INT8/FP8 codes are data of a plugin input, not
 * tensors for TensorRT to quantize, and a weakly typed network would ask for their dynamic range.
 */
final class QuantizedTables {
  private QuantizedTables() {}

  /** True when {@code onnx} lies in an export directory whose manifest has an int8/fp8 table. */
  static boolean in(Path onnx) {
    Path manifest = onnx.toAbsolutePath().resolveSibling(MsnOnnxExporter.MANIFEST_FILE);
    if (!Files.isRegularFile(manifest)) {
      return false;
    }
    try {
      JsonNode v = new ObjectMapper().readTree(manifest.toFile()).path("values_dtype");
      return v.isTextual() && RowQuantizer.isQuantized(DType.parseValues(v.asText()));
    } catch (IOException | IllegalArgumentException e) {
      return false; // not ours to judge here: verify and inspect check manifests
    }
  }
}
