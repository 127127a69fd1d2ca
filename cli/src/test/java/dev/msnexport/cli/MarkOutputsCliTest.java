package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** inspect --tensors and verify --mark-outputs as a user runs them (tiny, CPU only). */
class MarkOutputsCliTest {
  static final String FFN_NORM_0 = "blocks.0.ffn/LayerNormalization_1:0";
  static final String QUERY_NORM_1 = "blocks.1.msn/LayerNormalization_1:0";

  @TempDir Path tmp;
  Path ck;
  Path model;

  @BeforeEach
  void tinyModel() {
    ck = tmp.resolve("ck");
    model = tmp.resolve("m");
    CliRun.tinyExport(ck, model, "--seed 4", "");
  }

  /** Asserts that a line of {@code out} contains every one of {@code parts}. */
  static void assertLineWithAll(String out, String... parts) {
    assertTrue(out.lines().anyMatch(l -> Stream.of(parts).allMatch(l::contains)), out);
  }

  static List<String> listing(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void inspectListsTheTensorsVerifyTakes() {
    CliRun r = cli("inspect {} --tensors", model.resolve("model.custom.onnx"));
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("tensors: "), r.out());
    assertLineWithAll(
        r.out(), FFN_NORM_0, "float", "LayerNormalization", "blocks.0.ffn/LayerNormalization_1");
    assertLineWithAll(r.out(), "blocks.0.msn/PKMRetrieval_1:1", "int64", "msn::PKMRetrieval");
    r = cli("inspect {} --tensors", model); // an export directory: both graphs
    assertEquals(0, r.code(), r.err());
    assertEquals(2, r.out().lines().filter(l -> l.contains("tensors: ")).count(), r.out());
    assertTrue(r.out().contains("blocks.0.msn/TopK_1:1"), "the reference graph's TopK");
    r = cli("inspect {} --tensors", ck);
    assertEquals(ExitCodes.USAGE, r.code());
    assertTrue(r.err().contains("--tensors"), r.err());
  }

  @Test
  void verifyComparesMarkedTensorsApartFromTheVerdict() throws Exception {
    List<String> before = listing(model);
    Path report = tmp.resolve("r.json");
    Path reports = tmp.resolve("reports");
    CliRun r =
        cli(
            "verify --model {} --batch 4 --health-samples 0 --mark-outputs {} --report {} --report-dir {}",
            model,
            FFN_NORM_0 + "," + QUERY_NORM_1,
            report,
            reports);
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(before, listing(model), "no temporary graph left in the export");
    assertTrue(
        r.out().contains("marked output " + FFN_NORM_0 + ": golden does not produce it, skipped"),
        r.out());
    assertLineWithAll(
        r.out(), "ort-custom", "ort-reference", QUERY_NORM_1, "max_abs", "within atol/rtol");
    JsonNode j = Profiles.JSON.readTree(Files.readString(report));
    assertTrue(j.get("pass").asBoolean());
    JsonNode marked = j.get("marked_outputs");
    assertEquals(6, marked.size(), marked.toString());
    int compared = 0;
    for (JsonNode m : marked) {
      if (m.get("skipped").isNull()) {
        compared++;
        assertTrue(m.get("comparison").get("max_abs").asDouble() < 1e-5, m.toString());
        assertEquals(3, m.get("max_abs_at").size());
      } else {
        assertEquals("golden", m.get("reference").asText());
      }
    }
    assertEquals(2, compared);
    for (JsonNode c : j.get("comparisons")) {
      for (JsonNode o : c.get("outputs")) {
        assertTrue(
            !o.get("name").asText().contains("/"),
            "marked tensors stay out of the outputs[] of comparisons");
      }
    }
    assertTrue(Files.readString(reports.resolve("report.md")).contains("## Marked outputs"));
    // the same through pipeline
    r =
        cli(
            "pipeline --out {} --batch 2 --health-samples 0 --mark-outputs {}",
            tmp.resolve("p"),
            FFN_NORM_0);
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(
        3,
        Profiles.JSON
            .readTree(Files.readString(tmp.resolve("p/verify.json")))
            .get("marked_outputs")
            .size());
  }

  @Test
  void unknownTensorIsBadInputNamingItAndTheFile() throws Exception {
    List<String> before = listing(model);
    CliRun r =
        cli("verify --model {} --mark-outputs {}", model, FFN_NORM_0 + ",blocks.0.ffn/Nope_7:0");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out() + r.err());
    assertTrue(
        r.err().contains("'blocks.0.ffn/Nope_7:0'") && r.err().contains("model.reference.onnx"),
        r.err());
    // a name of the reference graph only: the message says so
    r =
        cli(
            "verify --model {} --backends ort-reference,ort-custom --mark-outputs blocks.0.msn/TopK_1:1",
            model);
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(
        r.err().contains("model.custom.onnx")
            && r.err().contains("it is one of")
            && r.err().contains("model.reference.onnx"),
        r.err());
    // with only the reference graph it works, int64 and all
    r =
        cli(
            "verify --model {} --backends golden,ort-reference --health-samples 0 --mark-outputs blocks.0.msn/TopK_1:1",
            model);
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(before, listing(model));
  }

  @Test
  void aPrebuiltEngineCannotHaveMarkedOutputs() {
    // refused before TensorRT is looked for: the same answer with and without a GPU
    CliRun r =
        cli(
            "verify --model {} --backends ort-custom,trt --engine {} --mark-outputs {}",
            model,
            tmp.resolve("engine.plan"),
            FFN_NORM_0);
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("--engine") && r.err().contains("--mark-outputs"), r.err());
  }
}
