package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.FusedMsnLayer;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.OrtBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code export --fuse-msn-layer}: the custom graph holds one msn::MsnLayer node per MSN layer and
 * none of the unfused chain, the reference graph is the same as without the option, the manifest
 * records it, and in ONNX Runtime the fused graph computes the model of the golden backend and of
 * the unfused custom graph within the profile's float32 tolerances (outputs and retrieval, slot by
 * slot up to ties).
 */
class FusedMsnLayerExportTest {
  @TempDir Path tmp;

  /** A built-in profile, optionally with per-token memory, another gate and fp16/bf16 tables. */
  private Profile profile(String base, boolean perToken, String gate) throws Exception {
    return ExportedGraphs.profileVariant(
        tmp, base, base + "-fused-test", Map.of("per_token_memory", perToken, "gate", gate));
  }

  private static MsnOnnxExporter.Options options(DType values, boolean fused) {
    return new MsnOnnxExporter.Options(
        values, MsnOnnxExporter.ExternalData.NEVER, true, null, 4, fused);
  }

  @ParameterizedTest
  @CsvSource({
    "tiny, false, tanh, F32",
    "small, false, tanh, F32",
    "tiny, true, sigmoid, F32",
    "tiny, false, identity, F16",
    "small, true, tanh, BF16"
  })
  void fusedGraphComputesTheSameModel(String base, boolean perToken, String gate, DType values)
      throws Exception {
    Profile p = profile(base, perToken, gate);
    Path ck = tmp.resolve("ck");
    SyntheticCheckpoint.write(p.model(), ck, 11);
    try (Checkpoint c = Checkpoint.open(ck)) {
      Path fused = tmp.resolve("fused");
      Path plain = tmp.resolve("plain");
      MsnOnnxExporter.export(c, fused, options(values, true));
      MsnOnnxExporter.export(c, plain, options(values, false));
      int layers = p.model().msnLayers().size();
      Path fusedCustom = fused.resolve(MsnOnnxExporter.CUSTOM_FILE);
      assertEquals(layers, ExportedGraphs.count(fusedCustom, FusedMsnLayer.OP));
      assertEquals(0, ExportedGraphs.count(fusedCustom, "PKMRetrieval"));
      assertEquals(0, ExportedGraphs.count(fusedCustom, "SparseGather"));
      assertEquals(
          0, ExportedGraphs.count(plain.resolve(MsnOnnxExporter.CUSTOM_FILE), FusedMsnLayer.OP));
      assertEquals(
          ModelProto.parseFrom(Files.readAllBytes(plain.resolve(MsnOnnxExporter.REFERENCE_FILE)))
              .getGraph(),
          ModelProto.parseFrom(Files.readAllBytes(fused.resolve(MsnOnnxExporter.REFERENCE_FILE)))
              .getGraph(),
          "the reference graph does not depend on --fuse-msn-layer");
      String manifest = Files.readString(fused.resolve(MsnOnnxExporter.MANIFEST_FILE));
      assertTrue(manifest.contains("\"fused_msn_layer\" : true"), manifest);
      assertTrue(
          Files.readString(plain.resolve(MsnOnnxExporter.MANIFEST_FILE))
              .contains("\"fused_msn_layer\" : false"));
      verify(p, c, fused, plain, values);
    }
  }

  private void verify(Profile p, Checkpoint c, Path fused, Path plain, DType values) {
    List<Backend> backends =
        List.of(
            new GoldenBackend(c),
            new OrtBackend("ort-custom", plain.resolve(MsnOnnxExporter.CUSTOM_FILE), true, 1),
            new OrtBackend("ort-fused", fused.resolve(MsnOnnxExporter.CUSTOM_FILE), true, 1));
    String precision = values == DType.F32 ? "fp32" : values.cliName();
    try {
      VerifyReport r =
          Verifier.run(
              new Verifier.Subject(
                  fused.toString(),
                  p.name(),
                  precision,
                  backends,
                  Inputs.random(p.model(), 8, 5),
                  3),
              new Verifier.Tolerances(p.tolerance(precision), Map.of(), Map.of()));
      int compared = 0;
      for (VerifyReport.Comparison cmp : r.comparisons()) {
        for (OutputComparison o : cmp.outputs()) {
          compared++;
          System.out.printf(
              java.util.Locale.ROOT,
              "%s vs %s %s max_abs %.3g%n",
              cmp.candidate(),
              cmp.reference(),
              o.name(),
              o.max_abs());
        }
      }
      assertTrue(compared > 0, "something was compared");
      assertTrue(r.pass(), () -> Profiles.toJson(r));
    } finally {
      backends.forEach(Backend::close);
    }
  }
}
