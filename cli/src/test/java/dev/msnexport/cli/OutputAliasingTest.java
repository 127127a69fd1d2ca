package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.Sha256;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outputs never alias inputs: an output path that is, holds or lies inside one of the command's
 * inputs (compared as real paths: symbolic links and ".." resolved) is a usage error (exit 2)
 * naming both options, and no input is touched.
 */
class OutputAliasingTest {
  @TempDir static Path tmp;

  /** The inputs no refused command may touch: a tiny checkpoint and its export. */
  static Path ck;

  static Path model;

  /** Every file under the two input directories with its SHA-256. */
  static TreeMap<String, String> inputs() throws Exception {
    TreeMap<String, String> m = new TreeMap<>();
    for (Path dir : List.of(ck, model)) {
      try (var files = Files.walk(dir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          if (Files.isRegularFile(f)) {
            m.put(f.toString(), Sha256.of(f));
          }
        }
      }
    }
    return m;
  }

  @BeforeAll
  static void tinyExport() {
    ck = tmp.resolve("ck");
    model = CliRun.tinyExport(ck, tmp.resolve("model"), "", "--profile tiny");
  }

  static void refused(String out, String in, String command, Object... values) throws Exception {
    String[] args = CliRun.args(command, values);
    TreeMap<String, String> before = inputs();
    CliRun r = run(args);
    assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
    assertTrue(
        r.err().contains(out + " ") && r.err().contains(" " + in + " "),
        "names " + out + " and " + in + ": " + r.err());
    assertTrue(r.err().contains("an output must not overwrite an input"), r.err());
    assertEquals(before, inputs(), "no input changed");
  }

  @Test
  void verifyOutputsNeverOverwriteItsInputs() throws Exception {
    String m = model.toString();
    Path manifest = model.resolve(MsnOnnxExporter.MANIFEST_FILE);
    String verify = "verify --model {} ";
    // the cases
    refused("--report", "--model", verify + "--report {}", m, manifest);
    Path weights = ck.resolve(Checkpoint.WEIGHTS_FILE);
    refused("--save-golden", "the export's checkpoint", verify + "--save-golden {}", m, weights);
    Path config = ck.resolve(Checkpoint.CONFIG_FILE);
    refused(
        "--save-golden",
        "--checkpoint",
        verify + "--checkpoint {} --save-golden {}",
        m,
        ck,
        config);
    refused("--report-dir", "--model", verify + "--report-dir {}", m, m);
    refused("--report-dir", "--model", verify + "--report-dir {}", m, model.resolve("reports"));
    refused("--report-dir", "--model", verify + "--report-dir {}", m, manifest);
    // a golden file replayed and saved onto itself, or its Polygraphy inputs file
    Path golden = tmp.resolve("g/golden.json");
    String save = verify + "--backends golden,ort-reference --save-golden {} --health-samples 0";
    assertEquals(ExitCodes.OK, cli(save, m, golden).code());
    refused(
        "--save-golden", "--golden", verify + "--golden {} --save-golden {}", m, golden, golden);
    Path inputs = tmp.resolve("g/golden.inputs.json");
    refused("--report", "--golden", verify + "--golden {} --report {}", m, golden, inputs);
  }

  @Test
  void realPathsAreCompared() throws Exception {
    Path link = Files.createSymbolicLink(tmp.resolve("link-to-model"), model);
    refused(
        "--report",
        "--model",
        "verify --model {} --report {}",
        model,
        link.resolve(MsnOnnxExporter.MANIFEST_FILE));
    refused(
        "--report",
        "--model",
        "verify --model {} --report {}",
        link,
        model.resolve("..").resolve("model").resolve(MsnOnnxExporter.MANIFEST_FILE).toString());
  }

  @Test
  void otherCommandsOutputsNeverOverwriteTheirInputs() throws Exception {
    refused("--out", "--checkpoint", "export --checkpoint {} --out {}", ck, ck);
    refused("--out", "--checkpoint", "export --checkpoint {} --out {}", ck, ck.resolve("onnx"));
    refused("--out", "--checkpoint", "pipeline --checkpoint {} --out {}", ck, ck);
    refused(
        "--report-dir", "--model", "bench --model {} --report-dir {} --iterations 1", model, model);
    refused(
        "--report-dir",
        "the export's checkpoint",
        "bench --model {} --report-dir {} --iterations 1",
        model,
        ck);
    String baseline = "bench --model {} --baseline {} --update-baseline --iterations 1";
    refused("--baseline", "--model", baseline, model, model.resolve("manifest.json"));
    String build = "build --model {} --profile tiny --out {}";
    refused("--out", "--model", build, model, model.resolve(MsnOnnxExporter.CUSTOM_FILE));
    refused("--out", "--model", build, model, model);
    Path profile = tmp.resolve("p/config.json");
    Files.createDirectories(profile.getParent());
    Files.writeString(profile, cli("profiles tiny").out());
    refused("--out", "--profile", "init --profile {} --out {}", profile, profile.getParent());
  }

  @Test
  void outputsBesideTheirInputsAreFine() throws Exception {
    Path reports = tmp.resolve("fine/reports");
    String verify = "verify --model {} --backends golden,ort-reference --report {} --report-dir {}";
    cli(verify + " --health-samples 0", model, tmp.resolve("fine/verify.json"), reports).ok();
    assertTrue(Files.isRegularFile(reports.resolve("report.json")));
    // pipeline writes OUT/model and OUT/verify.json: a checkpoint of its own in OUT/checkpoint is
    // no clash
    Path out = tmp.resolve("fine/pipe");
    Path own = InputFileHygieneTest.copy(ck, out.resolve("checkpoint"));
    CliRun r = cli("pipeline --checkpoint {} --out {} --health-samples 0", own, out);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertFalse(r.err().contains("overwrite"), r.err());
    List<String> names = new ArrayList<>();
    try (var files = Files.list(out)) {
      files.forEach(f -> names.add(f.getFileName().toString()));
    }
    names.sort(null);
    assertArrayEquals(new String[] {"checkpoint", "model", "verify.json"}, names.toArray());
  }
}
