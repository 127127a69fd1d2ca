package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.Sha256;
import dev.msnexport.profiles.Profile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sidecar round trip and refusal of every kind of mismatch; needs no GPU. */
class EngineMetadataTest {
  @TempDir Path dir;

  Path onnx;
  Path plan;
  EngineMetadata meta;

  @BeforeEach
  void setUp() throws IOException {
    onnx = dir.resolve("model.custom.onnx");
    Files.write(onnx, new byte[] {1, 2, 3});
    plan = dir.resolve("engine.plan");
    Files.write(plan, new byte[] {9, 9, 9, 9});
    meta =
        new EngineMetadata(
            EngineMetadata.SCHEMA,
            "test",
            "2026-11-23T00:00:00Z",
            "10.6.0",
            new EngineMetadata.GpuInfo("NVIDIA H100 80GB HBM3", "9.0"),
            "fp16",
            "custom",
            "tiny",
            new Profile.BatchShapes(1, 8, 64),
            new EngineMetadata.InputInfo("tokens", List.of(-1L, 4L, 16L)),
            EngineMetadata.digestOnnx(onnx),
            new EngineMetadata.PluginInfo("classpath:x", "aa".repeat(32)),
            Sha256.of(plan),
            4,
            1.5);
    meta.write(plan);
  }

  EngineMetadata.Expectation matching() {
    return new EngineMetadata.Expectation(onnx, "aa".repeat(32), "10.6.0", "9.0");
  }

  @Test
  void roundTripsAndAcceptsAMatchingPlan() throws IOException {
    EngineMetadata back = EngineMetadata.read(plan);
    assertEquals(meta, back);
    assertTrue(
        Files.readString(EngineMetadata.sidecarOf(plan)).contains("\"plan_sha256\""),
        "snake_case keys");
    assertDoesNotThrow(() -> back.check(plan, Sha256.of(plan), matching()));
  }

  @Test
  void refusesAChangedModel() throws IOException {
    Files.write(onnx, new byte[] {1, 2, 4});
    BadInputException e =
        assertThrows(BadInputException.class, () -> meta.check(plan, Sha256.of(plan), matching()));
    assertTrue(e.getMessage().contains("the model changed since the build"), e.getMessage());
    assertTrue(e.getMessage().contains("msn-export build"), e.getMessage());
  }

  @Test
  void refusesChangedExternalData() throws IOException {
    Files.write(dir.resolve("model.data"), new byte[] {5});
    BadInputException e =
        assertThrows(BadInputException.class, () -> meta.check(plan, Sha256.of(plan), matching()));
    assertTrue(e.getMessage().contains("external data"), e.getMessage());
  }

  @Test
  void refusesAnotherPluginLibrary() {
    var other = new EngineMetadata.Expectation(onnx, "bb".repeat(32), "10.6.0", "9.0");
    BadInputException e =
        assertThrows(BadInputException.class, () -> meta.check(plan, Sha256.of(plan), other));
    assertTrue(e.getMessage().contains("plugin library"), e.getMessage());
  }

  @Test
  void referenceGraphIgnoresThePluginLibrary() {
    EngineMetadata ref =
        new EngineMetadata(
            meta.schema(),
            meta.toolVersion(),
            meta.created(),
            meta.tensorRtVersion(),
            meta.gpu(),
            meta.precision(),
            "reference",
            meta.profile(),
            meta.batch(),
            meta.input(),
            meta.onnx(),
            null,
            meta.planSha256(),
            meta.planBytes(),
            meta.buildSeconds());
    var other = new EngineMetadata.Expectation(onnx, "bb".repeat(32), "10.6.0", "9.0");
    assertDoesNotThrow(() -> ref.check(plan, Sha256.of(plan), other));
  }

  @Test
  void refusesOtherTensorRtOrGpu() {
    var trt = new EngineMetadata.Expectation(onnx, "aa".repeat(32), "10.7.0", "9.0");
    assertTrue(
        assertThrows(BadInputException.class, () -> meta.check(plan, null, trt))
            .getMessage()
            .contains("TensorRT 10.6.0"));
    var gpu = new EngineMetadata.Expectation(onnx, "aa".repeat(32), "10.6.0", "8.0");
    assertTrue(
        assertThrows(BadInputException.class, () -> meta.check(plan, null, gpu))
            .getMessage()
            .contains("compute capability 9.0"));
  }

  @Test
  void refusesAReplacedPlan() throws IOException {
    Files.write(plan, new byte[] {8});
    BadInputException e =
        assertThrows(BadInputException.class, () -> meta.check(plan, Sha256.of(plan), matching()));
    assertTrue(e.getMessage().contains("was replaced"), e.getMessage());
  }

  @Test
  void refusesAPlanWithoutOrWithABrokenSidecar() throws IOException {
    Files.delete(EngineMetadata.sidecarOf(plan));
    BadInputException missing =
        assertThrows(BadInputException.class, () -> EngineMetadata.read(plan));
    assertTrue(missing.getMessage().contains("has no sidecar"), missing.getMessage());

    Files.writeString(
        EngineMetadata.sidecarOf(plan), "{\"schema\": \"msn-export.engine/1\", \"surprise\": 1}");
    BadInputException broken =
        assertThrows(BadInputException.class, () -> EngineMetadata.read(plan));
    assertTrue(broken.getMessage().contains("is not valid"), broken.getMessage());

    Files.writeString(
        EngineMetadata.sidecarOf(plan),
        meta.toJson().replace(EngineMetadata.SCHEMA, "msn-export.engine/99"));
    BadInputException schema =
        assertThrows(BadInputException.class, () -> EngineMetadata.read(plan));
    assertTrue(schema.getMessage().contains("schema"), schema.getMessage());
  }
}
