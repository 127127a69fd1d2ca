package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OrtException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.FusedMsnLayer;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.parity.ParityTolerances;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Engines of {@code export --fuse-msn-layer} custom graphs (one msn::MsnLayer plugin per MSN layer)
 * on a real GPU, compared with ONNX Runtime (CPU) on the reference graph by the rules of {@link
 * EngineGpuTest} ({@link EngineParity}). Skipped where there is no GPU and TensorRT (CI).
 */
@Tag("gpu")
class FusedLayerGpuTest {
  @TempDir Path dir;
  final PrintStream log = System.out;

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"tiny, fp32", "tiny, fp16", "small, fp32", "small, fp16"})
  void fusedEngineMatchesOnnxRuntimeReference(String profile, String precision)
      throws IOException, OrtException {
    assumeTrue(TensorRt.isAvailable(), () -> "no GPU/TensorRT: " + TensorRt.status().reason());
    assumeTrue(
        PluginLibrary.isPackaged(),
        "the plugin library is not built (CUDA was skipped: no nvcc, or -Dmsn.cuda.skip=true)");
    Profile p = Profiles.load(profile);
    Path ck = dir.resolve("ck");
    SyntheticCheckpoint.write(p.model(), ck, 7);
    Path out = dir.resolve("export");
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c,
          out,
          new MsnOnnxExporter.Options(
              DType.F32, MsnOnnxExporter.ExternalData.AUTO, true, profile, 4, true));
    }
    Path custom = out.resolve(MsnOnnxExporter.CUSTOM_FILE);
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(custom));
    assertEquals(
        p.model().msnLayers().size(),
        m.getGraph().getNodeList().stream()
            .map(NodeProto::getOpType)
            .filter(FusedMsnLayer.OP::equals)
            .count(),
        "the engine is built from the fused graph");
    Precision prec = Precision.parse(precision);
    Path plan = out.resolve("engine.fused." + precision + ".plan");
    EngineBuilder.build(
        new EngineBuilder.Request(
            custom,
            EngineBuilder.CUSTOM,
            prec,
            profile,
            p.batch(),
            dir.resolve("timing.cache"),
            plan,
            0,
            EngineGpuTest.OPT_LEVEL,
            List.of(),
            EngineGpuTest.FP16_POLICY,
            QuantizedTables.NONE),
        log);
    ParityTolerances tols = EngineParity.tolerances(p.tolerance(precision), prec);
    try (TrtEngine e = TrtEngine.load(plan, custom)) {
      EngineGpuTest.checkBatchesAgainstReference(
          e,
          p,
          out,
          2000,
          tols,
          batch -> String.format(Locale.ROOT, "%s fused %s batch %d", profile, precision, batch),
          log);
    }
  }
}
