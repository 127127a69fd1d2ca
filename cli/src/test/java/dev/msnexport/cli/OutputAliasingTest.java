package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.cli.ImportCliTest.Run;
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
  static Path ck;
  static Path model;

  @BeforeAll
  static void tinyExport() {
    ck = tmp.resolve("ck");
    model = tmp.resolve("model");
    InputFileHygieneTest.tinyExport(ck, model);
  }

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

  static void refused(String out, String in, String... args) throws Exception {
    TreeMap<String, String> before = inputs();
    Run r = ImportCliTest.run(args);
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
    // the cases
    refused(
        "--report",
        "--model",
        "verify",
        "--model",
        m,
        "--report",
        model.resolve(MsnOnnxExporter.MANIFEST_FILE).toString());
    refused(
        "--save-golden",
        "the export's checkpoint",
        "verify",
        "--model",
        m,
        "--save-golden",
        ck.resolve(Checkpoint.WEIGHTS_FILE).toString());
    refused(
        "--save-golden",
        "--checkpoint",
        "verify",
        "--model",
        m,
        "--checkpoint",
        ck.toString(),
        "--save-golden",
        ck.resolve(Checkpoint.CONFIG_FILE).toString());
    refused("--report-dir", "--model", "verify", "--model", m, "--report-dir", m);
    refused(
        "--report-dir",
        "--model",
        "verify",
        "--model",
        m,
        "--report-dir",
        model.resolve("reports").toString());
    refused(
        "--report-dir",
        "--model",
        "verify",
        "--model",
        m,
        "--report-dir",
        model.resolve(MsnOnnxExporter.MANIFEST_FILE).toString());
    // a golden file replayed and saved onto itself, or its Polygraphy inputs file
    Path golden = tmp.resolve("g/golden.json");
    assertEquals(
        ExitCodes.OK,
        ImportCliTest.run(
                "verify",
                "--model",
                m,
                "--backends",
                "golden,ort-reference",
                "--save-golden",
                golden.toString(),
                "--health-samples",
                "0")
            .code());
    refused(
        "--save-golden",
        "--golden",
        "verify",
        "--model",
        m,
        "--golden",
        golden.toString(),
        "--save-golden",
        golden.toString());
    refused(
        "--report",
        "--golden",
        "verify",
        "--model",
        m,
        "--golden",
        golden.toString(),
        "--report",
        tmp.resolve("g/golden.inputs.json").toString());
  }

  @Test
  void realPathsAreCompared() throws Exception {
    Path link = Files.createSymbolicLink(tmp.resolve("link-to-model"), model);
    refused(
        "--report",
        "--model",
        "verify",
        "--model",
        model.toString(),
        "--report",
        link.resolve(MsnOnnxExporter.MANIFEST_FILE).toString());
    refused(
        "--report",
        "--model",
        "verify",
        "--model",
        link.toString(),
        "--report",
        model.resolve("..").resolve("model").resolve(MsnOnnxExporter.MANIFEST_FILE).toString());
  }

  @Test
  void otherCommandsOutputsNeverOverwriteTheirInputs() throws Exception {
    refused(
        "--out", "--checkpoint", "export", "--checkpoint", ck.toString(), "--out", ck.toString());
    refused(
        "--out",
        "--checkpoint",
        "export",
        "--checkpoint",
        ck.toString(),
        "--out",
        ck.resolve("onnx").toString());
    refused(
        "--out", "--checkpoint", "pipeline", "--checkpoint", ck.toString(), "--out", ck.toString());
    refused(
        "--report-dir",
        "--model",
        "bench",
        "--model",
        model.toString(),
        "--report-dir",
        model.toString(),
        "--iterations",
        "1");
    refused(
        "--report-dir",
        "the export's checkpoint",
        "bench",
        "--model",
        model.toString(),
        "--report-dir",
        ck.toString(),
        "--iterations",
        "1");
    refused(
        "--baseline",
        "--model",
        "bench",
        "--model",
        model.toString(),
        "--baseline",
        model.resolve("manifest.json").toString(),
        "--update-baseline",
        "--iterations",
        "1");
    refused(
        "--out",
        "--model",
        "build",
        "--model",
        model.toString(),
        "--profile",
        "tiny",
        "--out",
        model.resolve(MsnOnnxExporter.CUSTOM_FILE).toString());
    refused(
        "--out",
        "--model",
        "build",
        "--model",
        model.toString(),
        "--profile",
        "tiny",
        "--out",
        model.toString());
    Path profile = tmp.resolve("p/config.json");
    Files.createDirectories(profile.getParent());
    Files.writeString(profile, ImportCliTest.run("profiles", "tiny").out());
    refused(
        "--out",
        "--profile",
        "init",
        "--profile",
        profile.toString(),
        "--out",
        profile.getParent().toString());
  }

  @Test
  void outputsBesideTheirInputsAreFine() throws Exception {
    Path reports = tmp.resolve("fine/reports");
    Run r =
        ImportCliTest.run(
            "verify",
            "--model",
            model.toString(),
            "--backends",
            "golden,ort-reference",
            "--report",
            tmp.resolve("fine/verify.json").toString(),
            "--report-dir",
            reports.toString(),
            "--health-samples",
            "0");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(Files.isRegularFile(reports.resolve("report.json")));
    // pipeline writes OUT/model and OUT/verify.json: a checkpoint of its own in OUT/checkpoint is
    // no clash
    Path out = tmp.resolve("fine/pipe");
    Path own = InputFileHygieneTest.copy(ck, out.resolve("checkpoint"));
    r =
        ImportCliTest.run(
            "pipeline",
            "--checkpoint",
            own.toString(),
            "--out",
            out.toString(),
            "--health-samples",
            "0");
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
