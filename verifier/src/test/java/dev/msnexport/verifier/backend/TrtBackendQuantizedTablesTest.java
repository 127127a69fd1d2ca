package dev.msnexport.verifier.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.ExportManifest;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.trt.QuantizedTables;
import dev.msnexport.verifier.ExportedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which exports TensorRT builds strongly typed for their quantized tables: the manifest's {@code
 * values_dtype}, as the verifier and the CLI hand it to the build request.
 */
class TrtBackendQuantizedTablesTest {
  @TempDir Path dir;

  private ExportedModel model(String valuesDtype) throws IOException {
    ExportManifest m =
        new ExportManifest(
            ExportManifest.TOOL,
            "test",
            "tiny",
            null,
            null,
            Profiles.load("tiny").model(),
            valuesDtype,
            null,
            null,
            null,
            null,
            Map.of());
    Files.writeString(dir.resolve(ExportManifest.FILE), m.toJson());
    return ExportedModel.open(dir);
  }

  @Test
  void theExportersQuantizedTypesAreTheQuantizedOnes() throws IOException {
    for (DType d : DType.values()) {
      if (isValuesType(d)) {
        QuantizedTables q = TrtBackend.quantizedTables(model(d.cliName()));
        assertEquals(RowQuantizer.isQuantized(d), q.present(), d.cliName());
      }
    }
  }

  @Test
  void int8AndFp8ExportsAreQuantized() throws IOException {
    assertEquals(new QuantizedTables("int8"), TrtBackend.quantizedTables(model("int8")));
    assertEquals(new QuantizedTables("fp8"), TrtBackend.quantizedTables(model("fp8")));
  }

  @Test
  void floatTablesOrNoneRecordedAreNot() throws IOException {
    assertEquals(QuantizedTables.NONE, TrtBackend.quantizedTables(model(null)));
    assertEquals(QuantizedTables.NONE, TrtBackend.quantizedTables(model("fp16")));
    assertEquals(QuantizedTables.NONE, TrtBackend.quantizedTables(model("fp32")));
  }

  @Test
  void anUnknownTypeOrAnUnreadableManifestIsBadInputBeforeAnyBuild() throws IOException {
    assertTrue(
        assertThrows(BadInputException.class, () -> model("int4"))
            .getMessage()
            .contains("values_dtype"));
    Files.writeString(dir.resolve(ExportManifest.FILE), "not json");
    assertThrows(BadInputException.class, () -> ExportedModel.open(dir));
  }

  private static boolean isValuesType(DType d) {
    try {
      DType.parseValues(d.cliName());
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
