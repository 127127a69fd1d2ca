package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.io.GoldenFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify never passes what it did not compare, as a user runs it: a missing, extra or misshaped
 * output fails (exit 1) or, in a golden file, is bad input (exit 4); backends are distinct and at
 * least two; the console and every report say which tolerances applied and when one was raised.
 */
class VerifyTrustCliTest {
  @TempDir Path tmp;
  Path model;

  /** Rewrites the graph in {@code file} with {@code edit} applied to it. */
  static void editGraph(Path file, Consumer<GraphProto.Builder> edit) throws Exception {
    ModelProto m = OnnxTensors.read(file);
    GraphProto.Builder g = m.getGraph().toBuilder();
    edit.accept(g);
    Files.write(file, m.toBuilder().setGraph(g).build().toByteArray());
  }

  static int outputIndex(GraphProto.Builder g, String name) {
    for (int i = 0; i < g.getOutputCount(); i++) {
      if (g.getOutput(i).getName().equals(name)) {
        return i;
      }
    }
    throw new AssertionError("no output " + name);
  }

  /** A tiny export (seed 4, graphs without external data) that a test may edit. */
  @BeforeEach
  void tinyModel() {
    model =
        CliRun.tinyExport(tmp.resolve("ck"), tmp.resolve("m"), "--seed 4", "--external-data never");
  }

  @Test
  void anOutputRemovedFromOneGraphFailsNamingItAndBothBackends() throws Exception {
    editGraph(model.resolve("model.custom.onnx"), g -> g.removeOutput(outputIndex(g, "click")));
    Path reports = tmp.resolve("reports");
    CliRun r = cli("verify --model {} --report-dir {}", model, reports);
    assertEquals(ExitCodes.PARITY_FAILURE, r.code(), r.out() + r.err());
    assertTrue(
        r.out().contains("FAIL output click: ort-custom gives absent, golden gives float [8, 1]"),
        r.out());
    assertTrue(
        r.out()
            .contains(
                "FAIL output click: ort-custom gives absent, ort-reference gives float [8, 1]"),
        r.out());
    JsonNode j = Profiles.JSON.readTree(Files.readString(reports.resolve("report.json")));
    assertFalse(j.get("pass").asBoolean());
    assertTrue(
        j.get("comparisons").get(0).get("pass").asBoolean(),
        "ort-reference vs golden has every output");
    JsonNode custom = j.get("comparisons").get(1);
    assertEquals("ort-custom", custom.get("candidate").asText());
    assertFalse(custom.get("pass").asBoolean());
    assertEquals("click", custom.get("output_set").get(0).get("output").asText());
    assertEquals("absent", custom.get("output_set").get(0).get("candidate").asText());
    assertTrue(
        Files.readString(reports.resolve("report.md"))
            .contains("output click: ort-custom gives absent"));
    assertTrue(
        Files.readString(reports.resolve("report.html"))
            .contains("output click: ort-custom gives absent"));
    assertTrue(Files.readString(reports.resolve("junit.xml")).contains("name=\"output click\""));
  }

  @Test
  void aGraphWhoseSlotsAreFloatIsBadInputNamingFileAndTensor() throws Exception {
    Path custom = model.resolve("model.custom.onnx");
    String slots = "retrieval.1.slots";
    editGraph(
        custom,
        g -> { // the slots computed as before, then cast to float
          for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            for (int o = 0; o < n.getOutputCount(); o++) {
              if (n.getOutput(o).equals(slots)) {
                g.setNode(i, n.toBuilder().setOutput(o, slots + ".int64"));
              }
            }
          }
          g.addNode(
              NodeProto.newBuilder()
                  .setName("cast_slots")
                  .setOpType("Cast")
                  .addInput(slots + ".int64")
                  .addOutput(slots)
                  .addAttribute(
                      AttributeProto.newBuilder()
                          .setName("to")
                          .setType(AttributeProto.AttributeType.INT)
                          .setI(TensorProto.DataType.FLOAT_VALUE)));
          int i = outputIndex(g, slots);
          var vi = g.getOutput(i).toBuilder();
          vi.getTypeBuilder().getTensorTypeBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE);
          g.setOutput(i, vi);
        });
    CliRun r = cli("verify --model {}", model);
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out() + r.err());
    assertTrue(
        r.err().contains(custom.toString())
            && r.err().contains("'" + slots + "' is float")
            && r.err().contains("int64"),
        r.err());
  }

  /**
   * A golden file of this model (batch 8) with its outputs changed by {@code edit}, saved as {@code
   * name}.
   */
  Path goldenWith(String name, Consumer<Map<String, HostTensor>> edit) {
    Path g = tmp.resolve("g.safetensors");
    if (!Files.exists(g)) {
      assertEquals(
          0,
          cli("verify --model {} --backends golden,ort-reference --save-golden {}", model, g)
              .code());
    }
    GoldenFile gf = GoldenFile.read(g);
    Map<String, HostTensor> outs = new LinkedHashMap<>(gf.outputs());
    edit.accept(outs);
    Path f = tmp.resolve(name);
    new GoldenFile(gf.inputs(), outs, gf.producer(), gf.modelSha256()).write(f);
    return f;
  }

  void assertGoldenBadInput(Path golden, String... expected) {
    CliRun r = cli("verify --model {} --golden {} --backends ort-custom", model, golden);
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out() + r.err());
    assertTrue(r.err().contains(golden.toString()), r.err());
    for (String s : expected) {
      assertTrue(r.err().contains(s), r.err() + " lacks " + s);
    }
  }

  static HostTensor clickOf(long... shape) {
    return HostTensor.ofFloats(
        "click",
        shape,
        new double[(int) (shape[0] * shape[1] * (shape.length > 2 ? shape[2] : 1))]);
  }

  @Test
  void aGoldenFileLackingOrMisshapingAnOutputIsBadInput() throws Exception {
    assertEquals(
        0,
        cli(
                "verify --model {} --golden {} --backends ort-custom",
                model,
                goldenWith("same.safetensors", o -> {}))
            .code(),
        "the unedited file passes");
    assertGoldenBadInput(
        goldenWith("no-click.safetensors", o -> o.remove("click")),
        "lacks tensor outputs.click",
        "float [8, 1]");
    assertGoldenBadInput(
        goldenWith("click-4x2.safetensors", o -> o.put("click", clickOf(4, 2))),
        "outputs.click is float [4, 2]",
        "float [8, 1]");
    assertGoldenBadInput(
        goldenWith("click-2x4x1.safetensors", o -> o.put("click", clickOf(2, 4, 1))),
        "outputs.click is float [2, 4, 1]");
    // inputs of another batch than the outputs (was ArrayIndexOutOfBoundsException, exit 70)
    Path g = goldenWith("x.safetensors", o -> {});
    GoldenFile gf = GoldenFile.read(g);
    HostTensor tokens = gf.inputs().get("tokens");
    long[] s = tokens.shape();
    double[] half = java.util.Arrays.copyOf(tokens.floats(), (int) (4 * s[1] * s[2]));
    Path batch4 = tmp.resolve("inputs-batch-4.safetensors");
    new GoldenFile(
            Map.of("tokens", HostTensor.ofFloats("tokens", new long[] {4, s[1], s[2]}, half)),
            gf.outputs(),
            gf.producer(),
            gf.modelSha256())
        .write(batch4);
    assertGoldenBadInput(batch4, "outputs.", "batch 4");
  }

  @Test
  void backendsMustBeDistinctAndAtLeastTwo() {
    CliRun r = cli("verify --model {} --backends golden,golden", model);
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains("'golden' is listed twice"), r.err());
    r = cli("verify --model {} --backends golden,ort-reference,golden", model);
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    r = cli("verify --model {} --backends ort-custom", model);
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains("nothing to compare"), r.err());
    r = cli("pipeline --out {} --backends golden", tmp.resolve("p"));
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(
        r.err().contains("nothing to compare") && Files.notExists(tmp.resolve("p")), r.err());
  }

  @Test
  void goldenWithAnExplicitBatchIsAUsageError() {
    Path g = goldenWith("g2.safetensors", o -> {});
    CliRun r = cli("verify --model {} --golden {} --backends ort-custom --batch 8", model, g);
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(
        r.err().contains("--batch") && r.err().contains("golden file's inputs fix the batch"),
        r.err());
  }

  @Test
  void consoleAndEveryReportSayWhichTolerancesApplied() throws Exception {
    Path reports = tmp.resolve("reports");
    CliRun r = cli("verify --model {} --rtol 1e-5 --report-dir {}", model, reports);
    assertEquals(0, r.code(), r.out() + r.err());
    // tiny's fp32 tolerances: atol 1e-5, tie_epsilon 1e-4; the weights' rtol is raised to 2 *
    // tie_epsilon
    assertTrue(
        r.out().contains("(fp32 tolerances: atol 1.00e-05, rtol 1.00e-05, tie_epsilon 1.00e-04)"),
        r.out());
    assertTrue(
        r.out()
            .contains(
                "rtol raised from 1.00e-05 to 2.00e-04: retrieval weights get at least 2 * tie_epsilon"),
        r.out());
    assertTrue(r.out().contains("above the rtol given with --rtol"), r.out());
    String md = Files.readString(reports.resolve("report.md"));
    String html = Files.readString(reports.resolve("report.html"));
    String junit = Files.readString(reports.resolve("junit.xml"));
    for (String report : new String[] {md, html, junit}) {
      assertTrue(report.contains("fp32 tolerances: atol 1.00e-05"), report);
      assertTrue(report.contains("rtol raised from 1.00e-05 to 2.00e-04"), report);
    }
    assertTrue(md.contains("| 1.00e-05 / 2.00e-04 (raised) |"), md);
    JsonNode t =
        Profiles.JSON
            .readTree(Files.readString(reports.resolve("report.json")))
            .get("comparisons")
            .get(0)
            .get("tolerances");
    assertEquals("fp32", t.get("precision").asText());
    assertEquals(1e-4, t.get("tie_epsilon").asDouble());
    assertEquals("retrieval.0.weights", t.get("raised_rtol").get(0).get("output").asText());
    assertEquals(2e-4, t.get("raised_rtol").get(0).get("applied").asDouble());
    // memory health, on the console and in the JSON already, is in report.md and report.html too
    assertTrue(r.out().contains("memory health"), r.out());
    assertTrue(md.contains("## Memory health") && md.contains("| slots used |"), md);
    assertTrue(html.contains("<h2>Memory health</h2>"), html);
  }

  @Test
  void compareStillReadsAVerify2Report() throws Exception {
    Path now = tmp.resolve("now.json");
    assertEquals(
        0, cli("verify --model {} --backends golden,ort-reference --report {}", model, now).code());
    ObjectNode old = (ObjectNode) Profiles.JSON.readTree(Files.readString(now));
    old.put("schema", "msn-export.verify/2");
    old.get("comparisons")
        .forEach(c -> ((ObjectNode) c).remove(java.util.List.of("tolerances", "output_set")));
    Path v2 = tmp.resolve("v2.json");
    Files.writeString(v2, Profiles.JSON.writeValueAsString(old));
    assertFalse(Files.readString(v2).contains("output_set"));
    CliRun r = cli("compare {} {}", v2, now);
    assertEquals(0, r.code(), r.err());
    assertEquals(0, cli("compare {} {}", now, v2).code());
  }
}
