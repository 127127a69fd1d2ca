package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.exporter.ExportManifest;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which exports TensorRT builds strongly typed for their quantized tables. */
class QuantizedTablesTest {
  @TempDir Path dir;

  private Path model(String manifest) throws IOException {
    if (manifest != null) {
      Files.writeString(dir.resolve("manifest.json"), manifest);
    }
    return dir.resolve("model.custom.onnx");
  }

  @Test
  void theExportersNamesAreTheOnesRead() {
    assertEquals(ExportManifest.FILE, QuantizedTables.MANIFEST);
    java.util.Set<String> quantized = new java.util.HashSet<>();
    for (DType d : DType.values()) {
      if (RowQuantizer.isQuantized(d)) {
        quantized.add(d.cliName());
      }
    }
    assertEquals(quantized, QuantizedTables.QUANTIZED);
  }

  @Test
  void int8AndFp8ExportsAreQuantized() throws IOException {
    assertTrue(QuantizedTables.in(model("{\"values_dtype\": \"int8\"}")));
    assertTrue(QuantizedTables.in(model("{\"values_dtype\": \"fp8\"}")));
  }

  @Test
  void floatTablesNoManifestOrAnUnreadableOneAreNot() throws IOException {
    assertFalse(QuantizedTables.in(model(null)));
    assertFalse(QuantizedTables.in(model("{\"values_dtype\": \"fp16\"}")));
    assertFalse(QuantizedTables.in(model("{\"values_dtype\": \"int4\"}")));
    assertFalse(QuantizedTables.in(model("not json")));
  }
}
