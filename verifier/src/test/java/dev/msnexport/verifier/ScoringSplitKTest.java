package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The split-K scoring products (MsnOnnxExporter.DEFAULT_SCORING_SPLIT_K): on a model whose D and dk
 * reach 256, both graphs sum the query projection and the key products from partial products,
 * compute the same model (golden vs ONNX Runtime within the profile's float32 tolerances), and
 * --scoring-split-k 1 gives the plain MatMuls back.
 */
class ScoringSplitKTest {
  @TempDir Path tmp;

  /** small, widened so that both scoring reductions (K = D = 256, K = dk = 256) are split. */
  private Profile wide() throws Exception {
    return ExportedGraphs.profileVariant(tmp, "small", "small-wide", Map.of("D", 256, "dk", 256));
  }

  @Test
  void splitProductsComputeTheSameModel() throws Exception {
    Profile p = wide();
    Path ck = tmp.resolve("ck");
    SyntheticCheckpoint.write(p.model(), ck, 7);
    try (Checkpoint c = Checkpoint.open(ck)) {
      Path split = tmp.resolve("split");
      Path plain = tmp.resolve("plain");
      MsnOnnxExporter.export(
          c,
          split,
          new MsnOnnxExporter.Options(
              DType.F32, MsnOnnxExporter.ExternalData.NEVER, true, null, 4));
      MsnOnnxExporter.export(
          c,
          plain,
          new MsnOnnxExporter.Options(
              DType.F32, MsnOnnxExporter.ExternalData.NEVER, true, null, 1));
      int msnLayers = p.model().msnLayers().size();
      for (String f : List.of(MsnOnnxExporter.CUSTOM_FILE, MsnOnnxExporter.REFERENCE_FILE)) {
        // per MSN layer: the query projection and the two key products; the reference graph has no
        // other ReduceSum
        long base = ExportedGraphs.count(plain.resolve(f), "ReduceSum");
        assertEquals(base + 3L * msnLayers, ExportedGraphs.count(split.resolve(f), "ReduceSum"), f);
        assertEquals(
            ExportedGraphs.count(plain.resolve(f), "MatMul"),
            ExportedGraphs.count(split.resolve(f), "MatMul"),
            f + ": one (batched) MatMul per product");
      }
      assertTrue(
          Files.readString(split.resolve(MsnOnnxExporter.MANIFEST_FILE))
              .contains("\"scoring_split_k\" : 4"),
          Files.readString(split.resolve(MsnOnnxExporter.MANIFEST_FILE)));

      for (Path out : List.of(split, plain)) {
        List<Backend> backends =
            List.of(
                new GoldenBackend(c),
                new OrtBackend(
                    "ort-reference", out.resolve(MsnOnnxExporter.REFERENCE_FILE), false, 1),
                new OrtBackend("ort-custom", out.resolve(MsnOnnxExporter.CUSTOM_FILE), true, 1));
        try {
          VerifyReport r =
              Verifier.run(
                  new Verifier.Subject(
                      out.toString(),
                      p.name(),
                      "fp32",
                      backends,
                      Inputs.random(p.model(), 8, 3),
                      3),
                  new Verifier.Tolerances(p.tolerance("fp32"), Map.of(), Map.of()));
          for (VerifyReport.Comparison cmp : r.comparisons()) {
            for (OutputComparison o : cmp.outputs()) {
              System.out.printf(
                  java.util.Locale.ROOT,
                  "%s %s vs %s %s max_abs %.3g%n",
                  out.getFileName(),
                  cmp.candidate(),
                  cmp.reference(),
                  o.name(),
                  o.max_abs());
              if (!o.name().startsWith("retrieval.")) {
                assertTrue(
                    o.max_abs() <= 1e-5,
                    out + " " + cmp.candidate() + " " + o.name() + " " + o.max_abs());
              }
            }
          }
          // the split graph passes the float32 tolerances against float64; the plain one may not
          // (on this
          // machine ONNX Runtime's layer-1 weights were 1.1e-4 from golden, over the profile's 1e-5
          // + 1e-5*|w|)
          if (out == split) {
            assertTrue(r.pass(), () -> out + ": " + Profiles.toJson(r));
          }
        } finally {
          backends.forEach(Backend::close);
        }
      }
    }
  }

  @Test
  void splitOutOfRangeIsBadInput() throws Exception {
    Path ck = tmp.resolve("ck-tiny");
    SyntheticCheckpoint.write(Profiles.load("tiny").model(), ck, 1);
    try (Checkpoint c = Checkpoint.open(ck)) {
      BadInputException e =
          assertThrows(
              BadInputException.class,
              () ->
                  MsnOnnxExporter.export(
                      c,
                      tmp.resolve("x"),
                      new MsnOnnxExporter.Options(
                          DType.F32, MsnOnnxExporter.ExternalData.NEVER, true, null, 0)));
      assertTrue(e.getMessage().contains("--scoring-split-k"), e.getMessage());
      assertTrue(
          !Files.exists(tmp.resolve("x").resolve(MsnOnnxExporter.CUSTOM_FILE)), "nothing written");
    }
  }

  @Test
  void splitCountIsADivisorOfK() {
    assertEquals(1, MsnOnnxExporter.splitK(64, 4), "short reductions stay one product");
    assertEquals(4, MsnOnnxExporter.splitK(768, 4));
    assertEquals(3, MsnOnnxExporter.splitK(258, 4), "258 = 2*3*43: the largest divisor up to 4");
    assertEquals(1, MsnOnnxExporter.splitK(512, 1));
  }
}
