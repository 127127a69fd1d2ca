package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.Profile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a machine without a GPU or TensorRT (CI), every entry point fails with one clear exception
 * instead of an UnsatisfiedLinkError or a JVM crash.
 */
class TensorRtUnavailableTest {
  @TempDir Path dir;

  @Test
  void everyEntryPointSaysTensorRtIsNotAvailable() throws IOException {
    assumeFalse(
        TensorRt.isAvailable(), "TensorRT is available here; this test covers machines without it");
    TensorRt.Status s = TensorRt.status();
    assertFalse(s.available());
    assertNotNull(s.reason());

    TensorRtUnavailableException e =
        assertThrows(TensorRtUnavailableException.class, TensorRt::require);
    assertTrue(e.getMessage().startsWith(TensorRtUnavailableException.PREFIX), e.getMessage());
    assertTrue(
        e.getMessage().length() > TensorRtUnavailableException.PREFIX.length() + 10,
        "says why: " + e.getMessage());
    // names the steps a user can take (the GPU distribution, or TensorRT and CUDA installed),
    // nothing of our own lab
    assertTrue(
        e.getMessage().contains("-Pgpu")
            && e.getMessage().contains("LD_LIBRARY_PATH")
            && e.getMessage().contains("nvidia-smi"),
        e.getMessage());
    for (String lab : new String[] {".device-stage", "trt-stage", "shared/"}) {
      assertFalse(e.getMessage().contains(lab), lab + " in: " + e.getMessage());
    }
    // the probe is cached: asking again gives the same answer, no second load attempt and no crash
    assertThrows(TensorRtUnavailableException.class, TensorRt::require);
    assertThrows(TensorRtUnavailableException.class, TensorRt::version);

    Path onnx = dir.resolve("model.custom.onnx");
    Files.write(onnx, new byte[] {1});
    var req =
        new EngineBuilder.Request(
            onnx,
            EngineBuilder.CUSTOM,
            Precision.FP32,
            "tiny",
            new Profile.BatchShapes(1, 2, 4),
            null,
            dir.resolve("e.plan"),
            0,
            -1,
            List.of(),
            null,
            QuantizedTables.NONE);
    assertTrue(
        assertThrows(TensorRtUnavailableException.class, () -> EngineBuilder.build(req, System.out))
            .getMessage()
            .startsWith(TensorRtUnavailableException.PREFIX));
    assertThrows(
        TensorRtUnavailableException.class, () -> TrtEngine.load(dir.resolve("e.plan"), onnx));
    assertThrows(TensorRtUnavailableException.class, PluginLibrary::load);
  }

  @Test
  void aBuildWithoutCudaSaysHowToGetThePluginLibrary() {
    assumeFalse(
        PluginLibrary.isPackaged(),
        "the plugin library was built here; this test covers builds that skipped CUDA");
    BadInputException e = assertThrows(BadInputException.class, PluginLibrary::locate);
    assertTrue(
        e.getMessage().contains("skipped the CUDA plugin library")
            && e.getMessage().contains("nvcc")
            && e.getMessage().contains("MSN_TRT_PLUGINS"),
        e.getMessage());
  }
}
