package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.profiles.Profile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The build request carries the caller's word on int8/fp8 tables; a request that says nothing is
 * one of floating-point tables (which manifests say what is TrtBackendQuantizedTablesTest's).
 */
class QuantizedTablesTest {
  private static EngineBuilder.Request request(QuantizedTables q) {
    return new EngineBuilder.Request(
        Path.of("model.custom.onnx"),
        EngineBuilder.CUSTOM,
        Precision.FP32,
        "tiny",
        new Profile.BatchShapes(1, 2, 4),
        null,
        Path.of("e.plan"),
        0,
        -1,
        List.of(),
        null,
        q);
  }

  @Test
  void int8AndFp8TablesAreQuantized() {
    assertTrue(request(new QuantizedTables("int8")).quantizedTables().present());
    assertTrue(request(new QuantizedTables("fp8")).quantizedTables().present());
    assertEquals("fp8", request(new QuantizedTables("fp8")).quantizedTables().dtype());
  }

  @Test
  void floatTablesOrNoWordAreNot() {
    assertFalse(request(QuantizedTables.NONE).quantizedTables().present());
    assertEquals(QuantizedTables.NONE, request(null).quantizedTables());
  }
}
