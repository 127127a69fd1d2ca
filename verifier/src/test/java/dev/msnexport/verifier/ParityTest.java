package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
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

/** Golden model vs ONNX Runtime on both exported graphs, across profiles, batch sizes and seeds. */
class ParityTest {
  @TempDir Path tmp;

  static VerifyReport verify(
      Path tmp,
      String profileName,
      DType valuesDtype,
      MsnOnnxExporter.ExternalData ext,
      int batch,
      long seed,
      List<String> backendNames) {
    Profile p = Profiles.load(profileName);
    Path ck = tmp.resolve("ck-" + seed);
    if (!Files.exists(ck)) {
      SyntheticCheckpoint.write(p.model(), ck, seed);
    }
    Path out = tmp.resolve("out-" + seed + "-" + valuesDtype + "-" + ext);
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c, out, new MsnOnnxExporter.Options(valuesDtype, ext, true, profileName));
      List<Backend> backends = new java.util.ArrayList<>();
      try {
        for (String b : backendNames) {
          backends.add(
              switch (b) {
                case "golden" -> new GoldenBackend(c);
                case "ort-reference" ->
                    new OrtBackend(b, out.resolve(MsnOnnxExporter.REFERENCE_FILE), false, 1);
                default -> new OrtBackend(b, out.resolve(MsnOnnxExporter.CUSTOM_FILE), true, 1);
              });
        }
        return Verifier.run(
            new Verifier.Subject(
                out.toString(),
                profileName,
                valuesDtype.cliName(),
                backends,
                Inputs.random(p.model(), batch, seed + 100),
                seed),
            new Verifier.Tolerances(p.tolerance(valuesDtype.cliName()), Map.of(), Map.of()));
      } finally {
        backends.forEach(Backend::close);
      }
    }
  }

  static void assertExact(VerifyReport r, double maxAbs) {
    assertTrue(r.pass(), () -> Profiles.toJson(r));
    assertTrue(r.backends().stream().allMatch(b -> b.status().equals("ok")));
    for (VerifyReport.Comparison c : r.comparisons()) {
      assertTrue(c.outputs().size() >= 2, "task outputs compared");
      for (OutputComparison o : c.outputs()) {
        // task outputs within maxAbs; retrieval weights (softmax of float32 scores of magnitude
        // ~10)
        // within the profile's atol + rtol*|b|, which r.pass() already asserted
        if (!o.name().startsWith("retrieval.")) {
          assertTrue(
              o.max_abs() <= maxAbs,
              c.candidate() + " vs " + c.reference() + " " + o.name() + " max_abs " + o.max_abs());
        }
      }
      for (RetrievalComparison rc : c.retrieval()) {
        // identical slots, except numerical ties (score gap within tie_epsilon), which must stay
        // rare
        assertEquals(
            0,
            rc.mismatched_queries(),
            c.candidate()
                + " vs "
                + c.reference()
                + " layer "
                + rc.layer()
                + ": "
                + rc.first_mismatch());
        assertTrue(
            rc.tie_queries() <= Math.max(1, rc.queries() / 100),
            rc.tie_queries() + " tie queries of " + rc.queries());
      }
      assertEquals(2, c.retrieval().size(), "both MSN layers' slots compared");
    }
  }

  @ParameterizedTest(name = "{0} batch {1} seed {2}")
  @CsvSource({"tiny,1,0", "tiny,8,1", "tiny,33,2", "small,1,3", "small,16,4", "small,64,5"})
  void bothGraphsMatchGolden(String profile, int batch, long seed) {
    VerifyReport r =
        verify(
            tmp,
            profile,
            DType.F32,
            MsnOnnxExporter.ExternalData.NEVER,
            batch,
            seed,
            List.of("golden", "ort-reference", "ort-custom"));
    assertEquals(
        3, r.comparisons().size(), "custom vs golden, custom vs reference, reference vs golden");
    assertExact(r, 1e-5);
  }

  @ParameterizedTest(name = "{0} batch {1} seed {2}")
  @CsvSource({"tiny,5,0", "small,9,1"})
  void externalDataGivesTheSameModel(String profile, int batch, long seed) throws Exception {
    VerifyReport r =
        verify(
            tmp,
            profile,
            DType.F32,
            MsnOnnxExporter.ExternalData.ALWAYS,
            batch,
            seed,
            List.of("golden", "ort-reference", "ort-custom"));
    assertExact(r, 1e-5);
    Path out = tmp.resolve("out-" + seed + "-F32-ALWAYS");
    assertTrue(Files.size(out.resolve(MsnOnnxExporter.DATA_FILE)) > 0);
    assertTrue(
        Files.size(out.resolve(MsnOnnxExporter.REFERENCE_FILE))
            < Files.size(out.resolve(MsnOnnxExporter.DATA_FILE)),
        "weights moved out of the model");
  }

  @ParameterizedTest(name = "{0} values {1}")
  @CsvSource({"tiny,F16", "small,F16", "small,BF16"})
  void halfPrecisionValuesWithinTheProfileTolerance(String profile, DType dtype) {
    VerifyReport r =
        verify(
            tmp,
            profile,
            dtype,
            MsnOnnxExporter.ExternalData.NEVER,
            8,
            0,
            List.of("golden", "ort-reference", "ort-custom"));
    assertTrue(r.pass(), () -> Profiles.toJson(r));
  }
}
