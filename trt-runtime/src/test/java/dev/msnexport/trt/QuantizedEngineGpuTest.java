package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OrtException;
import dev.msnexport.exporter.ExportManifest;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.parity.ParityTolerances;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Engines of int8 / fp8 (E4M3FN) exports (SparseGather reading codes and per-row scales) against
 * ONNX Runtime (CPU) on the same export's reference graph, which dequantizes with standard ops: the
 * same numbers up to float32 rounding, so the fp32 rules of {@link EngineParity}. Skipped where
 * there is no GPU and TensorRT (CI); run by scripts/gpu-check.sh on the GPU machine.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QuantizedEngineGpuTest {
  Path dir;
  Path timingCache;

  @BeforeAll
  void requireGpu() throws IOException {
    assumeTrue(TensorRt.isAvailable(), () -> "no GPU/TensorRT: " + TensorRt.status().reason());
    assumeTrue(
        PluginLibrary.isPackaged(),
        "the plugin library is not built (CUDA was skipped: no nvcc, or -Dmsn.cuda.skip=true)");
    dir = Files.createTempDirectory("msn-trt-quant-gpu-test-");
    timingCache = dir.resolve("timing.cache");
  }

  Path export(String profile, String dtype) {
    Profile p = Profiles.load(profile);
    Path ck = dir.resolve(profile + "-ck");
    if (!Files.exists(ck)) {
      SyntheticCheckpoint.write(p.model(), ck, 7);
    }
    Path out = dir.resolve(profile + "-" + dtype);
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c,
          out,
          new MsnOnnxExporter.Options(
              DType.parseValues(dtype), MsnOnnxExporter.ExternalData.AUTO, true, profile));
    }
    assertTrue(
        RowQuantizer.isQuantized(DType.parseValues(ExportManifest.read(out).valuesDtype())),
        "manifest of " + out);
    return out;
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"tiny, int8", "tiny, fp8", "small, int8", "small, fp8"})
  void engineMatchesOnnxRuntimeReference(String profile, String dtype) throws OrtException {
    Profile p = Profiles.load(profile);
    Path model = export(profile, dtype);
    Path onnx = model.resolve(MsnOnnxExporter.CUSTOM_FILE);
    Path plan = model.resolve("engine.custom.fp32.plan");
    EngineBuilder.build(
        new EngineBuilder.Request(
            onnx,
            "custom",
            Precision.FP32,
            profile,
            p.batch(),
            timingCache,
            plan,
            0,
            EngineGpuTest.OPT_LEVEL,
            List.of(),
            null,
            new QuantizedTables(
                dtype)), // the caller's word, as verify and build take the manifest's
        System.out);
    ParityTolerances tols = EngineParity.tolerances(p.tolerance("fp32"), Precision.FP32);
    try (TrtEngine e = TrtEngine.load(plan, onnx)) {
      EngineGpuTest.checkBatchesAgainstReference(
          e,
          p,
          model,
          2000,
          tols,
          batch -> String.format(Locale.ROOT, "%s %s custom fp32 batch %d", profile, dtype, batch),
          System.out);
    }
  }
}
