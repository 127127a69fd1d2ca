package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.common.Sha256;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.OrtBackend;
import dev.msnexport.verifier.report.ReportKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify --mark-outputs at the library level: intermediate tensors as extra ONNX Runtime outputs
 * from a temporary copy of the graph (gone afterwards, external data untouched), compared apart
 * from the verdict; golden skips them.
 */
class MarkOutputsTest {
  /**
   * Block 0's residual-stream LayerNorm (its output) and block 1's row-query LayerNorm: named alike
   * in both graphs.
   */
  static final String FFN_NORM_0 = "blocks.0.ffn/LayerNormalization_1:0";

  static final String QUERY_NORM_1 = "blocks.1.msn/LayerNormalization_1:0";
  static final List<String> MARKS = List.of(FFN_NORM_0, QUERY_NORM_1);

  @TempDir Path tmp;

  Path export(MsnOnnxExporter.ExternalData ext, DType values) {
    Path ck = tmp.resolve("ck");
    if (!Files.exists(ck)) {
      SyntheticCheckpoint.write(Profiles.load("tiny").model(), ck, 5);
    }
    Path out = tmp.resolve("out-" + ext + "-" + values);
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(c, out, new MsnOnnxExporter.Options(values, ext, true, "tiny"));
    }
    return out;
  }

  VerifyReport verify(Path out, List<String> marks) {
    Profile p = Profiles.load("tiny");
    try (Checkpoint c = Checkpoint.open(tmp.resolve("ck"))) {
      List<Backend> backends = new ArrayList<>();
      try {
        backends.add(new GoldenBackend(c));
        backends.add(
            new OrtBackend(
                OrtBackend.REFERENCE,
                out.resolve(MsnOnnxExporter.REFERENCE_FILE),
                false,
                1,
                marks));
        backends.add(
            new OrtBackend(
                OrtBackend.CUSTOM, out.resolve(MsnOnnxExporter.CUSTOM_FILE), true, 1, marks));
        return Verifier.run(
            new Verifier.Subject(
                out.toString(), "tiny", "fp32", backends, Inputs.random(p.model(), 6, 11), 11),
            Verifier.PairTolerances.same(
                new Verifier.Tolerances(p.tolerance("fp32"), Map.of(), Map.of())),
            null,
            marks);
      } finally {
        backends.forEach(Backend::close);
      }
    }
  }

  static List<String> listing(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void markedTensorsAreComparedApartAndGoldenSkipsThem() throws Exception {
    Path out = export(MsnOnnxExporter.ExternalData.NEVER, DType.F32);
    List<String> before = listing(out);
    VerifyReport r = verify(out, MARKS);
    assertTrue(r.pass(), () -> Profiles.toJson(r));
    assertEquals(before, listing(out), "the temporary graph copies are gone");
    // the model outputs are compared as without marks: no marked tensor among them
    for (VerifyReport.Comparison c : r.comparisons()) {
      assertTrue(
          c.outputs().stream().noneMatch(o -> MARKS.contains(o.name())), c.outputs().toString());
    }
    List<VerifyReport.MarkedOutput> m = r.marked_outputs();
    assertEquals(6, m.size(), "3 pairs x 2 tensors");
    for (VerifyReport.MarkedOutput mo : m) {
      if (mo.reference().equals(GoldenBackend.NAME)) {
        assertEquals("golden does not produce it", mo.skipped());
        assertNull(mo.comparison());
        continue;
      }
      assertEquals(OrtBackend.CUSTOM, mo.candidate());
      assertNull(mo.skipped());
      assertTrue(mo.comparison().pass(), mo.toString());
      assertTrue(
          mo.comparison().max_abs() < 1e-5, mo.name() + " max_abs " + mo.comparison().max_abs());
      assertEquals(3, mo.max_abs_at().length);
      assertEquals(
          Math.abs(mo.candidate_value() - mo.reference_value()), mo.comparison().max_abs(), 0);
    }
    VerifyReport.MarkedOutput ffn =
        m.stream()
            .filter(mo -> mo.comparison() != null && mo.name().equals(FFN_NORM_0))
            .findFirst()
            .orElseThrow();
    assertArrayEquals(
        new long[] {6, 4, 16}, ffn.comparison().shape(), "the residual stream [B, T, D] of tiny");
    VerifyReport.MarkedOutput q =
        m.stream()
            .filter(mo -> mo.comparison() != null && mo.name().equals(QUERY_NORM_1))
            .findFirst()
            .orElseThrow();
    assertArrayEquals(
        new long[] {6, 4, 8}, q.comparison().shape(), "the row query [B, T, dk] of tiny");

    JsonNode j = Profiles.JSON.readTree(Profiles.toJson(r));
    assertEquals(ReportKeys.pinned("verify", "marked_outputs"), ReportKeys.of(j));
    assertEquals(
        ReportKeys.pinned("verify.marked_outputs"), ReportKeys.of(j.get("marked_outputs").get(0)));
    // and it reads back strictly (compare reads verify reports)
    VerifyReport back = Profiles.JSON.readValue(j.toString(), VerifyReport.class);
    assertEquals(6, back.marked_outputs().size());
    assertFalse(
        Profiles.JSON.readTree(Profiles.toJson(verify(out, List.of()))).has("marked_outputs"),
        "absent without marks");
  }

  @Test
  void externalDataResolvesFromTheTemporaryCopyAndStaysUntouched() throws Exception {
    Path out = export(MsnOnnxExporter.ExternalData.ALWAYS, DType.F16);
    Path data = out.resolve(MsnOnnxExporter.DATA_FILE);
    assertTrue(Files.isRegularFile(data));
    String sha = Sha256.of(data);
    List<String> before = listing(out);
    VerifyReport r = verify(out, MARKS);
    assertEquals(before, listing(out));
    assertEquals(sha, Sha256.of(data));
    assertTrue(
        r.backends().stream().allMatch(b -> b.status().equals("ok")),
        () -> Profiles.toJson(r.backends()));
    assertEquals(2, r.marked_outputs().stream().filter(mo -> mo.comparison() != null).count());

    // a float16 intermediate (the reference graph gathers fp16 value rows, then casts) comes back
    // widened to float
    String gathered = "blocks.0.msn/Gather_1:0";
    assertEquals(
        "float16",
        OnnxTensors.list(OnnxTensors.read(out.resolve(MsnOnnxExporter.REFERENCE_FILE))).stream()
            .filter(t -> t.name().equals(gathered))
            .findFirst()
            .orElseThrow()
            .dtype());
    try (OrtBackend ort =
        new OrtBackend(
            OrtBackend.REFERENCE,
            out.resolve(MsnOnnxExporter.REFERENCE_FILE),
            false,
            1,
            List.of(gathered))) {
      HostTensor g = ort.infer(Inputs.random(Profiles.load("tiny").model(), 2, 1)).get(gathered);
      assertNotNull(g);
      assertArrayEquals(new long[] {2, 4, 4, 16}, g.shape(), "[B, T, k, D]");
      assertFalse(g.isInteger());
    }
    assertEquals(before, listing(out));
  }

  @Test
  void unknownTensorIsBadInputNamingItAndTheFileAndLeavesNothing() throws Exception {
    Path out = export(MsnOnnxExporter.ExternalData.NEVER, DType.F32);
    List<String> before = listing(out);
    Path onnx = out.resolve(MsnOnnxExporter.CUSTOM_FILE);
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                new OrtBackend(
                    OrtBackend.CUSTOM,
                    onnx,
                    true,
                    1,
                    List.of(FFN_NORM_0, "blocks.9.ffn/Nope_1:0")));
    assertTrue(
        e.getMessage().contains("'blocks.9.ffn/Nope_1:0'")
            && e.getMessage().contains(onnx.toString()),
        e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () -> new OrtBackend(OrtBackend.CUSTOM, onnx, true, 1, List.of("click")));
    assertTrue(e.getMessage().contains("already an output"), e.getMessage());
    assertEquals(before, listing(out));
  }

  @Test
  void elementTypesComeFromTheProducingOp() {
    Path out = export(MsnOnnxExporter.ExternalData.NEVER, DType.F32);
    ModelProto custom = OnnxTensors.read(out.resolve(MsnOnnxExporter.CUSTOM_FILE));
    Map<String, OnnxTensors.Tensor> byName = new LinkedHashMap<>();
    OnnxTensors.list(custom).forEach(t -> byName.put(t.name(), t));
    assertEquals(TensorProto.DataType.FLOAT_VALUE, byName.get(FFN_NORM_0).elemType());
    assertEquals("LayerNormalization", byName.get(FFN_NORM_0).op());
    assertEquals("blocks.0.ffn/LayerNormalization_1", byName.get(FFN_NORM_0).node());
    assertEquals("int64", byName.get("blocks.0.msn/PKMRetrieval_1:1").dtype());
    assertEquals("msn::PKMRetrieval", byName.get("blocks.0.msn/PKMRetrieval_1:1").op());
    assertEquals("float", byName.get("blocks.0.msn/SparseGather_1:0").dtype());
    assertEquals("int64", byName.get("retrieval.0.slots").dtype());
    assertTrue(
        byName.values().stream().allMatch(t -> t.elemType() != 0),
        "every tensor of our exports has a derived type");
    ModelProto reference = OnnxTensors.read(out.resolve(MsnOnnxExporter.REFERENCE_FILE));
    OnnxTensors.list(reference).forEach(t -> byName.put(t.name(), t));
    assertEquals("int64", byName.get("blocks.0.msn/TopK_1:1").dtype());
    assertEquals("float", byName.get("blocks.0.msn/Cast_1:0").dtype());
  }

  /** A backend that returns fixed outputs (the marked tensor among them). */
  record Fixed(String name, Map<String, HostTensor> out) implements Backend {
    @Override
    public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
      return out;
    }

    @Override
    public void close() {}
  }

  @Test
  void markedTensorsNeverChangeTheVerdict() {
    Profile p = Profiles.load("tiny");
    Map<String, HostTensor> inputs = Inputs.random(p.model(), 2, 0);
    HostTensor click = HostTensor.ofFloats("click", new long[] {2, 1}, new double[] {0.25, 0.5});
    Map<String, HostTensor> a = new LinkedHashMap<>();
    a.put("click", click);
    a.put("x:0", HostTensor.ofFloats("x:0", new long[] {2, 3}, new double[] {0, 1, 2, 3, 4, 5}));
    Map<String, HostTensor> b = new LinkedHashMap<>(a);
    b.put("x:0", HostTensor.ofFloats("x:0", new long[] {2, 3}, new double[] {0, 1, 2, 3, 9, 5}));
    VerifyReport r =
        Verifier.run(
            new Verifier.Subject(
                "m", "tiny", "fp32", List.of(new Fixed("a", a), new Fixed("b", b)), inputs, 0),
            Verifier.PairTolerances.same(
                new Verifier.Tolerances(p.tolerance("fp32"), Map.of(), Map.of())),
            null,
            List.of("x:0"));
    assertTrue(r.pass(), "a marked tensor far off leaves the verdict alone");
    assertEquals(
        List.of("click"), r.comparisons().get(0).outputs().stream().map(o -> o.name()).toList());
    VerifyReport.MarkedOutput m = r.marked_outputs().get(0);
    assertFalse(m.comparison().pass());
    assertEquals(5.0, m.comparison().max_abs(), 0);
    assertArrayEquals(new long[] {1, 1}, m.max_abs_at());
    assertEquals(9.0, m.candidate_value(), 0);
    assertEquals(4.0, m.reference_value(), 0);
  }
}
