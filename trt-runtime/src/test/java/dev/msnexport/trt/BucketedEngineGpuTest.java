package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OrtException;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An engine of {@code small} with three batch buckets (optimization profiles) [1..1], [2..8],
 * [9..64], tuned for 1, 8 and 64: every batch runs on the context of the tightest bucket, matches
 * ONNX Runtime as {@link EngineGpuTest}'s engines do, and the layer profile runs on the bucket of
 * its batch. Skipped without a GPU and TensorRT.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BucketedEngineGpuTest {
  static final Profile.BatchShapes BUCKETED = new Profile.BatchShapes(1, 8, 64, List.of(1, 8, 64));

  final PrintStream log = System.out;
  final Profile small = Profiles.load("small");
  Path export;
  Path plan;

  @BeforeAll
  void buildBucketedEngine() throws java.io.IOException {
    assumeTrue(TensorRt.isAvailable(), () -> "no GPU/TensorRT: " + TensorRt.status().reason());
    assumeTrue(PluginLibrary.isPackaged(), "the plugin library is not built");
    Path dir = Files.createTempDirectory("msn-trt-buckets-test-");
    export = EngineGpuTest.exportSynthetic("small", dir);
    plan = dir.resolve("engine.custom.fp32.buckets.plan");
    EngineGpuTest.buildPlan(
        export.resolve(MsnOnnxExporter.CUSTOM_FILE),
        EngineBuilder.CUSTOM,
        Precision.FP32,
        "small",
        BUCKETED,
        dir.resolve("timing.cache"),
        plan,
        log);
  }

  private TrtEngine load() {
    return TrtEngine.load(plan, export.resolve(MsnOnnxExporter.CUSTOM_FILE));
  }

  @Test
  void everyBatchRunsInItsBucketAndMatchesOnnxRuntime() throws OrtException {
    EngineMetadata meta = EngineMetadata.read(plan);
    assertEquals(BUCKETED.buckets(), meta.buckets());
    try (TrtEngine e = load()) {
      assertEquals(BUCKETED.buckets(), e.buckets(), "the engine's profiles are the buckets");
      assertEquals(1, e.minBatch());
      assertEquals(64, e.maxBatch());
      long[] batches = {1, 5, 8, 40, 64, 5, 1};
      int[] expected = {0, 1, 1, 2, 2, 1, 0}; // back to contexts made before, too
      for (int i = 0; i < batches.length; i++) {
        long batch = batches[i];
        Map<String, HostTensor> in = EngineGpuTest.randomTokens(small, batch, 2000 + batch);
        e.poisonOutputs(0xff);
        Map<String, HostTensor> got = e.infer(in);
        assertEquals(expected[i], e.activeBucket(), "TensorRT's profile at batch " + batch);
        assertEquals(expected[i], e.bucketFor(batch));
        String at = "small custom fp32 (buckets 1/8/64) batch " + batch;
        EngineParity.check(
            at,
            EngineGpuTest.ortReference(export.resolve(MsnOnnxExporter.REFERENCE_FILE), in),
            got,
            EngineParity.tolerances(small.tolerance("fp32"), Precision.FP32),
            log);
        log.printf(
            Locale.ROOT,
            "%s: ok (gpu %.3f ms, optimization profile %d)%n",
            at,
            e.lastGpuMillis(),
            e.activeBucket());
      }
      BadInputException above =
          assertThrows(
              BadInputException.class, () -> e.infer(EngineGpuTest.randomTokens(small, 65, 1)));
      assertTrue(above.getMessage().contains("1..64"), above.getMessage());
    }
  }

  @Test
  void cudaGraphReplayAndTheLayerProfileUseTheBucketOfTheBatch() {
    try (TrtEngine e = load()) {
      e.prepare(EngineGpuTest.randomTokens(small, 5, 3), true);
      assertEquals(1, e.activeBucket());
      assertTrue(e.replaysCudaGraph(), "no CUDA graph: " + e.replayNote());
      e.runPrepared();
      assertTrue(e.lastGpuMillis() > 0);
      TrtEngine.Timing t = e.time(2, 10, true);
      assertEquals(10, t.gpuMillis().length);
      assumeTrue(LayerProfiler.isPackaged(), "the layer profiler library is not built");
      e.prepare(EngineGpuTest.randomTokens(small, 40, 4));
      assertEquals(2, e.activeBucket(), "batch 40 runs in the third bucket");
      List<LayerProfiler.Layer> layers = e.profileLayers(3);
      assertFalse(layers.isEmpty(), "no layer reported at batch 40");
      for (LayerProfiler.Layer l : layers) {
        assertEquals(0, l.calls() % 3, "each layer reported once per run: " + l);
      }
      e.runPrepared(); // the timing context is still bound after the profiled one is gone
      assertTrue(e.lastGpuMillis() > 0);
    }
  }
}
