package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.golden.GatherError;
import dev.msnexport.verifier.golden.GoldenModel;
import dev.msnexport.verifier.quant.QuantizationReport;
import dev.msnexport.verifier.report.HtmlReport;
import dev.msnexport.verifier.report.MarkdownReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * int8 / fp8 exports: both graphs match the golden model on the dequantized tables within the fp32
 * tolerances, the quantization report stays within its bound, and the checks can fail.
 */
class QuantizedTablesTest {
  @TempDir Path tmp;

  private static ModelConfig perToken(ModelConfig c) {
    return ExportedGraphs.variant(c, c.S(), true);
  }

  private Path export(ModelConfig config, DType as, String profile) {
    Path ck = tmp.resolve("ck");
    SyntheticCheckpoint.write(config, ck, 11);
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c,
          tmp.resolve("out"),
          new MsnOnnxExporter.Options(as, MsnOnnxExporter.ExternalData.NEVER, true, profile));
    }
    return ck;
  }

  private VerifyReport verify(Checkpoint c, DType golden, Profile p, Map<String, HostTensor> in) {
    Path out = tmp.resolve("out");
    List<Backend> backends = ExportedGraphs.goldenAndOrt(c, golden, out);
    try {
      VerifyReport r = ExportedGraphs.atFp32(out, p, golden, backends, in);
      GoldenModel.Result last = ((GoldenBackend) backends.get(0)).lastResult();
      HostTensor tokens = Inputs.tokens(in, c.config());
      return golden == DType.F32
          ? r
          : r.withQuantization(
              QuantizationReport.of(
                  c, golden, last, tokens.toFloatArray(), (int) tokens.shape()[0]));
    } finally {
      backends.forEach(Backend::close);
    }
  }

  @ParameterizedTest(name = "{0} {1} per-token {2}")
  @CsvSource({
    "tiny, int8, false",
    "tiny, fp8, false",
    "small, int8, false",
    "small, fp8, false",
    "tiny, int8, true",
    "tiny, fp8, true"
  })
  void graphsMatchTheGoldenModelOnTheDequantizedTable(String profile, String dtype, boolean pt) {
    Profile p = Profiles.load(profile);
    ModelConfig config = pt ? perToken(p.model()) : p.model();
    DType as = DType.parseValues(dtype);
    Path ck = export(config, as, profile);
    try (Checkpoint c = Checkpoint.open(ck)) {
      VerifyReport r = verify(c, as, p, Inputs.random(config, 6, 3));
      assertTrue(r.pass(), () -> Profiles.toJson(r));
      QuantizationReport q = r.quantization();
      assertTrue(q.pass());
      assertEquals(config.msnLayers().size(), q.layers().size());
      for (QuantizationReport.Layer l : q.layers()) {
        assertEquals(0, l.over_bound());
        assertTrue(l.max_abs_error() > 0 && l.max_error_over_bound() <= 1, l.toString());
      }
      assertTrue(q.task_max_abs_error().values().stream().allMatch(e -> e > 0 && e < 0.2));
    }
  }

  @Test
  void theUnquantizedGoldenModelDoesNotMatchAnInt8Export() {
    Profile p = Profiles.load("tiny");
    Path ck = export(p.model(), DType.I8, "tiny");
    try (Checkpoint c = Checkpoint.open(ck)) {
      VerifyReport r = verify(c, DType.F32, p, Inputs.random(p.model(), 6, 3));
      assertFalse(r.pass(), "the fp32 tolerances see the quantization error");
    }
  }

  @Test
  void anElementOverItsBoundFailsTheReport() {
    Profile p = Profiles.load("tiny");
    Path ck = export(p.model(), DType.I8, "tiny");
    try (Checkpoint c = Checkpoint.open(ck)) {
      Map<String, HostTensor> in = Inputs.random(p.model(), 2, 1);
      float[] tokens = Inputs.tokens(in, p.model()).toFloatArray();
      GoldenModel.Result q = new GoldenModel(c, DType.I8).forward(tokens, 2);
      assertTrue(QuantizationReport.of(c, DType.I8, q, tokens, 2).pass());
      GoldenModel.Result over =
          new GoldenModel.Result(
              q.outputs(), q.retrieval(), Map.of(0, new GatherError(0, 10, 0.3, 0.2, 1.5, 1)));
      QuantizationReport bad = QuantizationReport.of(c, DType.I8, over, tokens, 2);
      assertFalse(bad.pass());
      VerifyReport r =
          new VerifyReport(
                  VerifyReport.SCHEMA,
                  "t",
                  "m",
                  "tiny",
                  "int8",
                  2,
                  1,
                  true,
                  List.of(),
                  List.of(),
                  null,
                  null,
                  null)
              .withQuantization(bad);
      assertFalse(r.pass(), "a quantization report over its bound fails verify");
      String md = MarkdownReport.verify(r);
      assertTrue(md.contains("## Quantization (int8 value tables): **FAIL**"), md);
      assertTrue(md.contains("| 0 | 10 | 3.000e-01 | 2.000e-01 | 1.500 | 1 |"), md);
      String html = HtmlReport.verify(r);
      assertTrue(
          html.contains("<h2>Quantization (int8 value tables): <span class=bad>FAIL</span>"));
      assertTrue(
          html.contains(
              "<tr><td>0</td><td>10</td><td>3.000e-01</td><td>2.000e-01</td><td>1.500</td><td>1</td></tr>"),
          html);
      GoldenModel.Result none = new GoldenModel.Result(q.outputs(), q.retrieval(), Map.of());
      assertFalse(
          QuantizationReport.of(c, DType.I8, none, tokens, 2).pass(),
          "a report that checked nothing never passes");
    }
  }
}
