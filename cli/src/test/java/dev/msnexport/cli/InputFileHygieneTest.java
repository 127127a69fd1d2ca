package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.cli.ImportCliTest.Run;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Only regular files are opened as inputs ({@code InputFiles}): a FIFO or a device in place of any
 * input is bad input (exit 4) naming the file, never a hang; JSON inputs above their size cap are
 * refused naming the file before they fill the heap.
 */
class InputFileHygieneTest {
  @TempDir static Path tmp;
  static Path ck;
  static Path model;

  @BeforeAll
  static void tinyExport() {
    ck = tmp.resolve("ck");
    model = tmp.resolve("model");
    tinyExport(ck, model);
  }

  /**
   * A synthetic tiny checkpoint in {@code ck} exported to {@code model} (shared by the CLI-edge
   * tests).
   */
  static void tinyExport(Path ck, Path model) {
    assertEquals(
        ExitCodes.OK,
        ImportCliTest.run("init", "--profile", "tiny", "--out", ck.toString()).code());
    assertEquals(
        ExitCodes.OK,
        ImportCliTest.run(
                "export",
                "--checkpoint",
                ck.toString(),
                "--out",
                model.toString(),
                "--profile",
                "tiny")
            .code());
  }

  static Path fifo(Path p) throws Exception {
    Files.createDirectories(p.getParent());
    Files.deleteIfExists(p);
    Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    assertEquals(0, mk.waitFor());
    return p;
  }

  /** A copy of {@code dir} (files only). */
  static Path copy(Path dir, Path to) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f)) {
          Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return to;
  }

  /**
   * Runs the CLI with a time box: a hang on a special file fails the test instead of blocking it.
   */
  static Run refused(String what, Path file, String... args) {
    Run r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(60), () -> ImportCliTest.run(args), "hangs on " + file);
    assertEquals(ExitCodes.BAD_INPUT, r.code(), String.join(" ", args) + ": " + r.err());
    assertTrue(
        r.err().contains(file.toString()) && r.err().contains(what),
        "'" + file + "' and '" + what + "' in: " + r.err());
    return r;
  }

  @Test
  void aFifoAsACheckpointFileIsRefused() throws Exception {
    Path weights = copy(ck, tmp.resolve("fifo-weights"));
    fifo(weights.resolve(Checkpoint.WEIGHTS_FILE));
    refused(
        "is a FIFO (named pipe), not a regular file",
        weights.resolve(Checkpoint.WEIGHTS_FILE),
        "inspect",
        weights.toString());
    refused(
        "FIFO",
        weights.resolve(Checkpoint.WEIGHTS_FILE),
        "export",
        "--checkpoint",
        weights.toString(),
        "--out",
        tmp.resolve("fifo-weights-out").toString());
    Path config = copy(ck, tmp.resolve("fifo-config"));
    fifo(config.resolve(Checkpoint.CONFIG_FILE));
    refused("FIFO", config.resolve(Checkpoint.CONFIG_FILE), "inspect", config.toString());
  }

  @Test
  void aFifoAsTheManifestsCheckpointIsRefused() throws Exception {
    Path own = copy(ck, tmp.resolve("own-ck"));
    Path ex = tmp.resolve("own-ex");
    assertEquals(
        ExitCodes.OK,
        ImportCliTest.run("export", "--checkpoint", own.toString(), "--out", ex.toString()).code());
    fifo(own.resolve(Checkpoint.WEIGHTS_FILE));
    refused(
        "FIFO",
        own.resolve(Checkpoint.WEIGHTS_FILE),
        "verify",
        "--model",
        ex.toString(),
        "--backends",
        "golden,ort-reference",
        "--health-samples",
        "0");
  }

  @Test
  void aFifoAsAnExportFileIsRefused() throws Exception {
    Path onnx = fifo(tmp.resolve("inspect/fifo.onnx"));
    refused("FIFO", onnx, "inspect", onnx.toString());
    Path ex = copy(model, tmp.resolve("fifo-manifest"));
    fifo(ex.resolve(MsnOnnxExporter.MANIFEST_FILE));
    refused("FIFO", ex.resolve(MsnOnnxExporter.MANIFEST_FILE), "verify", "--model", ex.toString());
    Path graph = copy(model, tmp.resolve("fifo-graph"));
    fifo(graph.resolve(MsnOnnxExporter.CUSTOM_FILE));
    refused(
        "ONNX model",
        graph.resolve(MsnOnnxExporter.CUSTOM_FILE),
        "verify",
        "--model",
        graph.toString(),
        "--backends",
        "ort-reference,ort-custom",
        "--health-samples",
        "0");
    Path data = copy(model, tmp.resolve("fifo-data"));
    fifo(data.resolve(MsnOnnxExporter.DATA_FILE));
    refused(
        "external data",
        data.resolve(MsnOnnxExporter.DATA_FILE),
        "verify",
        "--model",
        data.toString(),
        "--backends",
        "golden,ort-reference",
        "--health-samples",
        "0");
  }

  @Test
  void aFifoOrADeviceAsAnyOtherInputIsRefused() throws Exception {
    Path map = fifo(tmp.resolve("others/map.json"));
    refused("FIFO", map, "inspect", ck.toString(), "--name-map", map.toString());
    refused(
        "is a character device",
        Path.of("/dev/zero"),
        "inspect",
        ck.toString(),
        "--name-map",
        "/dev/zero");
    Path golden = fifo(tmp.resolve("others/golden.safetensors"));
    refused(
        "FIFO",
        golden,
        "verify",
        "--model",
        model.toString(),
        "--golden",
        golden.toString(),
        "--health-samples",
        "0");
    Path goldenJson = fifo(tmp.resolve("others/golden.json"));
    refused(
        "FIFO",
        goldenJson,
        "verify",
        "--model",
        model.toString(),
        "--golden",
        goldenJson.toString(),
        "--health-samples",
        "0");
    Path baseline = fifo(tmp.resolve("others/baseline.json"));
    refused(
        "FIFO",
        baseline,
        "bench",
        "--model",
        model.toString(),
        "--baseline",
        baseline.toString(),
        "--iterations",
        "1");
    Path a = VerifierCliTest.benchFile(tmp, "a.json", 1.0);
    refused("FIFO", baseline, "compare", a.toString(), baseline.toString());
    Path profile = fifo(tmp.resolve("others/profile.json"));
    refused(
        "profile file " + profile + " is a FIFO",
        profile,
        "init",
        "--profile",
        profile.toString(),
        "--out",
        tmp.resolve("others/init").toString());
    Path plan = fifo(tmp.resolve("others/engine.plan"));
    refused("FIFO", plan, "inspect", plan.toString());
  }

  static Path sparse(Path p, long size) throws IOException {
    Files.createDirectories(p.getParent());
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(size);
    }
    return p;
  }

  @Test
  void jsonInputsAboveTheirCapAreRefusedNamingTheFile() throws Exception {
    // the case: truncate -s 3G config.json
    Path big = copy(ck, tmp.resolve("big-config"));
    sparse(big.resolve(Checkpoint.CONFIG_FILE), 3L << 30);
    Run r =
        refused(
            "has 3,221,225,472 bytes, more than the 16,777,216 bytes (16 MiB)",
            big.resolve(Checkpoint.CONFIG_FILE),
            "inspect",
            big.toString());
    assertTrue(r.err().startsWith("msn-export: error: config file"), r.err());
    Path ex = copy(model, tmp.resolve("big-manifest"));
    refused(
        "(16 MiB)",
        sparse(ex.resolve(MsnOnnxExporter.MANIFEST_FILE), 17L << 20),
        "verify",
        "--model",
        ex.toString());
    refused(
        "(16 MiB)",
        sparse(tmp.resolve("big/map.json"), 20L << 20),
        "inspect",
        ck.toString(),
        "--name-map",
        tmp.resolve("big/map.json").toString());
    Path report = sparse(tmp.resolve("big/report.json"), 600L << 20);
    refused(
        "(512 MiB)",
        report,
        "compare",
        report.toString(),
        VerifierCliTest.benchFile(tmp, "b.json", 1.0).toString());
  }
}
