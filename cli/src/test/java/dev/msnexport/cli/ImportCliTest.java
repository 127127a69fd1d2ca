package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cat;
import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bringing trained weights in: memory health in inspect and verify, --name-map on export, inspect,
 * verify, bench and pipeline.
 */
class ImportCliTest {
  @TempDir Path tmp;

  static final Path TRAINED =
      Path.of("..", "verifier", "src", "test", "resources", "fixtures", "small-trained");

  /**
   * Copies a checkpoint with every tensor renamed and its keys optionally replaced by copies of key
   * 0.
   */
  static Path rewrite(Path from, Path to, UnaryOperator<String> rename, boolean identicalKeys)
      throws Exception {
    Files.createDirectories(to);
    try (SafetensorsFile st = SafetensorsFile.open(from.resolve(Checkpoint.WEIGHTS_FILE))) {
      SafetensorsWriter w = new SafetensorsWriter();
      for (TensorView t : st.tensors().values()) {
        float[] v = t.toFloatArray();
        if (identicalKeys && t.name().contains(".keys_")) {
          int dk = (int) t.dim(1);
          for (int s = 1; s < t.dim(0); s++) {
            System.arraycopy(v, 0, v, s * dk, dk);
          }
        }
        w.addF32(rename.apply(t.name()), t.shape(), v);
      }
      w.write(to.resolve(Checkpoint.WEIGHTS_FILE), Map.of());
    }
    AtomicFiles.writeString(
        to.resolve(Checkpoint.CONFIG_FILE), Files.readString(from.resolve(Checkpoint.CONFIG_FILE)));
    return to;
  }

  @Test
  void inspectPrintsMemoryHealthOfTheTrainedCheckpoint() {
    CliRun r = cli("inspect {}", TRAINED);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("memory health (256 random samples, seed 0"), r.out());
    assertTrue(
        r.out().contains("layer 0: slots used ") && r.out().contains("layer 1: slots used "),
        r.out());
    assertTrue(r.out().contains("of log n), top 1% (41 slots) take"), r.out());
    assertFalse(r.out().contains("WARNING"), r.out());
    CliRun skipped = cli("inspect {} --health-samples 0", TRAINED);
    assertEquals(ExitCodes.OK, skipped.code(), skipped.err());
    assertFalse(skipped.out().contains("memory health"), skipped.out());
  }

  /**
   * The acceptance check at the CLI: export the trained checkpoint, verify against
   * PyTorch's golden file.
   */
  @Test
  void verifyGoldenOfTheTrainedCheckpointMatchesPyTorch() throws Exception {
    Path model = tmp.resolve("model");
    CliRun e = cli("export --checkpoint {} --out {} --profile small", TRAINED, model);
    assertEquals(ExitCodes.OK, e.code(), e.err());
    Path report = tmp.resolve("verify.json");
    CliRun v =
        cli(
            "verify --model {} --golden {} --backends golden,ort-reference,ort-custom --report {}",
            model,
            TRAINED.resolve("golden.safetensors"),
            report);
    assertEquals(ExitCodes.OK, v.code(), v.out() + v.err());
    JsonNode r = Profiles.JSON.readTree(Files.readString(report));
    int againstPyTorch = 0;
    for (JsonNode c : r.get("comparisons")) {
      if (!c.get("reference").asText().equals("golden-file")) {
        continue;
      }
      againstPyTorch++;
      assertTrue(c.get("pass").asBoolean(), c.toString());
      assertEquals(4, c.get("outputs").size(), "two tasks and two layers' weights: " + c);
      for (JsonNode o : c.get("outputs")) {
        assertTrue(o.get("max_abs").asDouble() <= 1e-5, c.get("candidate") + " " + o);
      }
      assertEquals(2, c.get("retrieval").size());
      for (JsonNode rc : c.get("retrieval")) {
        assertEquals(
            rc.get("queries").asInt(),
            rc.get("identical_queries").asInt(),
            c.get("candidate") + " slots identical: " + rc);
      }
    }
    assertEquals(
        3, againstPyTorch, "golden, ort-reference and ort-custom each against PyTorch's outputs");
  }

  @Test
  void verifyReportsMemoryHealthOnTheConsoleAndInTheReport() throws Exception {
    Path model = tmp.resolve("model");
    cli("export --checkpoint {} --out {} --profile small", TRAINED, model).ok();
    // no golden backend: the health comes from the checkpoint the manifest names
    Path report = tmp.resolve("verify.json");
    CliRun v =
        cli("verify --model {} --backends ort-reference,ort-custom --report {}", model, report);
    assertEquals(ExitCodes.OK, v.code(), v.out() + v.err());
    assertTrue(v.out().contains("memory health (256 random samples, seed 0"), v.out());
    assertTrue(v.out().contains("of log n), top 1% (41 slots) take"), v.out());
    JsonNode h = Profiles.JSON.readTree(Files.readString(report)).get("memory_health");
    assertEquals(256, h.get("samples").asInt(), h.toString());
    assertFalse(h.get("collapsed").asBoolean(), h.toString());
    assertEquals(2, h.get("layers").size());
    assertEquals(41, h.get("layers").get(1).get("top1_percent_slots").asInt());

    CliRun skipped =
        cli(
            "verify --model {} --backends ort-reference,ort-custom --report {} --health-samples 0",
            model,
            report);
    assertEquals(ExitCodes.OK, skipped.code(), skipped.err());
    assertFalse(skipped.out().contains("memory health"), skipped.out());
    assertFalse(Profiles.JSON.readTree(Files.readString(report)).has("memory_health"));
    CliRun negative = cli("verify --model {} --health-samples -1", model);
    assertEquals(
        ExitCodes.USAGE,
        negative.code(),
        "a usage error since options are range-checked at parse time");
    assertTrue(
        negative.err().contains("'--health-samples': -1 is outside the accepted range 0.."),
        negative.err());
  }

  @Test
  void verifyWarnsOnACollapsedMemory() throws Exception {
    Path src = tmp.resolve("src");
    SyntheticCheckpoint.write(Profiles.load("small").model(), src, 2);
    Path collapsed = rewrite(src, tmp.resolve("collapsed"), n -> n, true);
    Path model = tmp.resolve("model");
    cli("export --checkpoint {} --out {} --profile small", collapsed, model).ok();
    Path report = tmp.resolve("verify.json");
    CliRun v =
        cli(
            "verify --model {} --backends golden,ort-reference --health-samples 32 --report {}",
            model,
            report);
    assertTrue(v.out().contains("WARNING: layer 0: retrieval looks collapsed"), v.out());
    assertTrue(v.out().contains("slots used 16 of 4,096"), v.out());
    JsonNode h = Profiles.JSON.readTree(Files.readString(report)).get("memory_health");
    assertTrue(h.get("collapsed").asBoolean(), h.toString());
    assertTrue(
        h.get("layers")
            .get(1)
            .get("warnings")
            .get(0)
            .asText()
            .startsWith("retrieval looks collapsed"),
        h.toString());
    assertEquals(
        ExitCodes.OK, v.code(), "a collapse warns, parity decides the exit code: " + v.out());
  }

  @Test
  void inspectWarnsOnACollapsedMemory() throws Exception {
    Path src = tmp.resolve("src");
    SyntheticCheckpoint.write(Profiles.load("small").model(), src, 2);
    Path collapsed = rewrite(src, tmp.resolve("collapsed"), n -> n, true);
    CliRun r = cli("inspect {} --health-samples 32", collapsed);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("WARNING: layer 0: retrieval looks collapsed"), r.out());
    assertTrue(r.out().contains("WARNING: layer 1: retrieval looks collapsed"), r.out());
    assertTrue(r.out().contains("slots used 16 of 4,096"), r.out());
  }

  /**
   * A tiny checkpoint whose tensors are named "model.blocks.N.memory..." instead of the contract's
   * "blocks.N.msn...".
   */
  Path foreignCheckpoint() throws Exception {
    Path src = tmp.resolve("src");
    SyntheticCheckpoint.write(Profiles.load("tiny").model(), src, 1);
    return rewrite(
        src, tmp.resolve("foreign"), n -> "model." + n.replace(".msn.", ".memory."), false);
  }

  /** The name map that undoes {@link #foreignCheckpoint}'s renames. */
  Path foreignNameMap() throws Exception {
    Path map = tmp.resolve("map.json");
    Files.writeString(
        map,
        """
        {"rules": [
          {"pattern": "^model\\\\.", "replacement": ""},
          {"pattern": "\\\\.memory\\\\.", "replacement": ".msn."}
        ]}""");
    return map;
  }

  @Test
  void verifyBenchAndPipelineWithANameMap() throws Exception {
    Path foreign = foreignCheckpoint();
    Path map = foreignNameMap();
    Path model = tmp.resolve("m");
    CliRun e = cli("export --checkpoint {} --out {} --name-map {}", foreign, model, map);
    assertEquals(ExitCodes.OK, e.code(), e.err());

    // the golden backend opens the export's (foreign) checkpoint: without the map its names are not
    // the contract's
    CliRun plain = cli("verify --model {} --backends golden,ort-custom", model);
    assertEquals(ExitCodes.BAD_INPUT, plain.code(), plain.out());
    assertTrue(plain.err().contains("missing tensors"), plain.err());
    CliRun v = cli("verify --model {} --backends golden,ort-custom --name-map {}", model, map);
    assertEquals(ExitCodes.OK, v.code(), v.out() + v.err());
    assertTrue(v.out().contains("ort-custom     vs golden         pass"), v.out());
    String[] bench =
        CliRun.args(
            "bench --model {} --backends golden,ort-custom --batch 8 --iterations 2 --warmup-ms 0 --rounds 1",
            model);
    CliRun benchPlain = run(bench);
    assertEquals(ExitCodes.BAD_INPUT, benchPlain.code(), benchPlain.out());
    assertTrue(benchPlain.err().contains("missing tensors"), benchPlain.err());
    CliRun benchMapped = run(cat(bench, "--name-map {}", map));
    assertEquals(ExitCodes.OK, benchMapped.code(), benchMapped.out() + benchMapped.err());

    Path out = tmp.resolve("pipeline");
    CliRun p = cli("pipeline --checkpoint {} --name-map {} --out {}", foreign, map, out);
    assertEquals(ExitCodes.OK, p.code(), p.out() + p.err());
    assertTrue(
        Profiles.JSON
            .readTree(Files.readString(out.resolve("verify.json")))
            .get("pass")
            .asBoolean());
    CliRun unmapped = cli("pipeline --checkpoint {} --out {}", foreign, tmp.resolve("p2"));
    assertEquals(ExitCodes.BAD_INPUT, unmapped.code(), unmapped.out());
    assertTrue(unmapped.err().contains("missing tensors"), unmapped.err());

    // a synthetic checkpoint has the contract's names: a map there is a mistake on the command line
    CliRun synthetic = cli("pipeline --name-map {} --out {}", map, tmp.resolve("p3"));
    assertEquals(ExitCodes.USAGE, synthetic.code(), synthetic.out());
    assertTrue(synthetic.err().contains("--name-map needs --checkpoint"), synthetic.err());
  }

  @Test
  void exportAndInspectWithANameMap() throws Exception {
    Path src = tmp.resolve("src");
    Path foreign = foreignCheckpoint();
    Path map = foreignNameMap();
    CliRun plain = cli("export --checkpoint {} --out {}", foreign, tmp.resolve("x"));
    assertEquals(ExitCodes.BAD_INPUT, plain.code());
    assertTrue(plain.err().contains("missing tensors"), plain.err());

    CliRun ok =
        cli("export --checkpoint {} --out {} --name-map {}", foreign, tmp.resolve("m"), map);
    assertEquals(ExitCodes.OK, ok.code(), ok.err());
    assertTrue(Files.size(tmp.resolve("m").resolve("model.reference.onnx")) > 0);
    CliRun inspect = cli("inspect {} --name-map {} --health-samples 8", foreign, map);
    assertEquals(ExitCodes.OK, inspect.code(), inspect.err());
    assertTrue(inspect.out().contains("memory health (8 random samples"), inspect.out());

    // a rule that sends two tensors to one name: exit 4, naming both tensors and the rule
    Path bad = tmp.resolve("bad.json");
    Files.writeString(
        bad, "{\"rules\": [{\"pattern\": \"\\\\.(weight|bias)$\", \"replacement\": \".weight\"}]}");
    CliRun clash = cli("export --checkpoint {} --out {} --name-map {}", src, tmp.resolve("y"), bad);
    assertEquals(ExitCodes.BAD_INPUT, clash.code());
    assertTrue(clash.err().contains("both map to 'blocks.0.mix_norm.weight'"), clash.err());
    assertTrue(clash.err().contains("'blocks.0.mix_norm.bias' (by rule 1"), clash.err());
    assertFalse(Files.exists(tmp.resolve("y").resolve("model.reference.onnx")));

    // a tensor left outside the contract: exit 4, naming it
    Path partial = tmp.resolve("partial.json");
    Files.writeString(
        partial, "{\"rules\": [{\"pattern\": \"^model\\\\.\", \"replacement\": \"\"}]}");
    CliRun left =
        cli("export --checkpoint {} --out {} --name-map {}", foreign, tmp.resolve("z"), partial);
    assertEquals(ExitCodes.BAD_INPUT, left.code());
    assertTrue(left.err().contains("left unmapped"), left.err());
    assertTrue(
        left.err()
            .contains(
                "'model.blocks.0.memory.query.weight' -> 'blocks.0.memory.query.weight' (by rule 1 '^model\\.' -> '')"),
        left.err());
  }
}
