package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.Sha256;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar's batch buckets (optimization profiles): round trip, old sidecars, choice; no GPU.
 */
class EngineBucketsTest {
  @TempDir Path dir;

  private EngineMetadata written(Profile.BatchShapes batch) throws IOException {
    Path onnx = dir.resolve("model.custom.onnx");
    Files.write(onnx, new byte[] {1, 2, 3});
    Path plan = plan();
    Files.write(plan, new byte[] {9, 9});
    EngineMetadata meta =
        new EngineMetadata(
            EngineMetadata.SCHEMA,
            "test",
            "2026-12-06T00:00:00Z",
            "10.6.0",
            new EngineMetadata.GpuInfo("NVIDIA H100 80GB HBM3", "9.0"),
            "fp16",
            "custom",
            "small",
            batch,
            new EngineMetadata.InputInfo("tokens", List.of(-1L, 8L, 64L)),
            EngineMetadata.digestOnnx(onnx),
            null,
            Sha256.of(plan),
            2,
            1.0);
    meta.write(plan);
    return meta;
  }

  private Path plan() {
    return dir.resolve("engine.plan");
  }

  private static Profile.BatchShapes shapes(int min, int opt, int max) {
    return new Profile.BatchShapes(min, opt, max);
  }

  @Test
  void theSidecarRecordsEveryBucketAndReadsThemBack() throws IOException {
    EngineMetadata meta = written(new Profile.BatchShapes(1, 8, 64, List.of(1, 8, 64)));
    assertEquals(List.of(shapes(1, 1, 1), shapes(2, 8, 8), shapes(9, 64, 64)), meta.buckets());
    String json = Files.readString(EngineMetadata.sidecarOf(plan()));
    assertTrue(json.contains("\"buckets\""), json);
    EngineMetadata back = EngineMetadata.read(plan());
    assertEquals(meta, back);
    assertEquals(meta.buckets(), back.buckets());
  }

  @Test
  void aSidecarWithoutBucketsIsOneProfile() throws IOException {
    written(shapes(1, 8, 64));
    Path side = EngineMetadata.sidecarOf(plan());
    ObjectNode tree = (ObjectNode) Profiles.JSON.readTree(Files.readString(side));
    tree.remove("buckets"); // as written before buckets existed
    Files.writeString(side, Profiles.JSON.writeValueAsString(tree));
    assertFalse(Files.readString(side).contains("buckets"));
    EngineMetadata old = EngineMetadata.read(plan());
    assertEquals(List.of(shapes(1, 8, 64)), old.buckets());
    assertEquals(0, old.bucketFor(plan(), 1));
    assertEquals(0, old.bucketFor(plan(), 64));
  }

  @Test
  void aBatchRunsInTheTightestBucketAndOthersAreRefused() throws IOException {
    EngineMetadata meta = written(new Profile.BatchShapes(1, 8, 64, List.of(1, 8, 64)));
    assertEquals(0, meta.bucketFor(plan(), 1));
    assertEquals(1, meta.bucketFor(plan(), 5));
    assertEquals(1, meta.bucketFor(plan(), 8));
    assertEquals(2, meta.bucketFor(plan(), 40));
    assertEquals(2, meta.bucketFor(plan(), 64));
    for (long batch : new long[] {0, 65}) {
      BadInputException e =
          assertThrows(BadInputException.class, () -> meta.bucketFor(plan(), batch));
      assertTrue(
          e.getMessage().contains("engine.plan")
              && e.getMessage().contains("batch " + batch)
              && e.getMessage().contains("[1..1 (opt 1), 2..8 (opt 8), 9..64 (opt 64)]")
              && e.getMessage().contains("rebuild"),
          e.getMessage());
    }
  }

  @Test
  void aBrokenBucketIsRefusedNamingTheField() throws IOException {
    written(new Profile.BatchShapes(1, 8, 64, List.of(8, 64)));
    Path side = EngineMetadata.sidecarOf(plan());
    Files.writeString(side, Files.readString(side).replaceFirst("\"min\" : 9", "\"min\" : 99"));
    BadInputException e = assertThrows(BadInputException.class, () -> EngineMetadata.read(plan()));
    assertTrue(
        e.getMessage().contains("'buckets'") && e.getMessage().contains(side.toString()),
        e.getMessage());
  }
}
