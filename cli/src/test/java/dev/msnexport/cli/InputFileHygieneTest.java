package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
    model = CliRun.tinyExport(ck, tmp.resolve("model"), "", "--profile tiny");
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
  static CliRun refused(String what, Path file, String command, Object... values) {
    String[] args = CliRun.args(command, values);
    CliRun r =
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> run(args), "hangs on " + file);
    assertEquals(ExitCodes.BAD_INPUT, r.code(), String.join(" ", args) + ": " + r.err());
    assertTrue(
        r.err().contains(file.toString()) && r.err().contains(what),
        "'" + file + "' and '" + what + "' in: " + r.err());
    return r;
  }

  @Test
  void aFifoAsACheckpointFileIsRefused() throws Exception {
    Path weights = copy(ck, tmp.resolve("fifo-weights"));
    Path fifo = fifo(weights.resolve(Checkpoint.WEIGHTS_FILE));
    refused("is a FIFO (named pipe), not a regular file", fifo, "inspect {}", weights);
    Path out = tmp.resolve("fifo-weights-out");
    refused("FIFO", fifo, "export --checkpoint {} --out {}", weights, out);
    Path config = copy(ck, tmp.resolve("fifo-config"));
    fifo(config.resolve(Checkpoint.CONFIG_FILE));
    refused("FIFO", config.resolve(Checkpoint.CONFIG_FILE), "inspect {}", config);
  }

  @Test
  void aFifoAsTheManifestsCheckpointIsRefused() throws Exception {
    Path own = copy(ck, tmp.resolve("own-ck"));
    Path ex = tmp.resolve("own-ex");
    assertEquals(ExitCodes.OK, cli("export --checkpoint {} --out {}", own, ex).code());
    Path fifo = fifo(own.resolve(Checkpoint.WEIGHTS_FILE));
    refused(
        "FIFO", fifo, "verify --model {} --backends golden,ort-reference --health-samples 0", ex);
  }

  @Test
  void aFifoAsAnOnnxFileIsRefused() throws Exception {
    Path onnx = fifo(tmp.resolve("inspect/fifo.onnx"));
    refused("FIFO", onnx, "inspect {}", onnx);
  }

  /** A copy of the export with one file a FIFO: verify names it ({@code what} says as what). */
  @ParameterizedTest(name = "a FIFO as the export''s {0} is refused: {1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          manifest.json     | FIFO          | verify --model {}
          model.custom.onnx | ONNX model    | verify --model {} --backends ort-reference,ort-custom --health-samples 0
          model.data        | external data | verify --model {} --backends golden,ort-reference --health-samples 0
          """)
  void aFifoAsAnExportFileIsRefused(String file, String what, String command) throws Exception {
    Path ex = copy(model, tmp.resolve("fifo-" + file));
    fifo(ex.resolve(file));
    refused(what, ex.resolve(file), command, ex);
  }

  @Test
  void aFifoOrADeviceAsAnyOtherInputIsRefused() throws Exception {
    Path map = fifo(tmp.resolve("others/map.json"));
    refused("FIFO", map, "inspect {} --name-map {}", ck, map);
    refused("is a character device", Path.of("/dev/zero"), "inspect {} --name-map /dev/zero", ck);
    Path golden = fifo(tmp.resolve("others/golden.safetensors"));
    refused("FIFO", golden, "verify --model {} --golden {} --health-samples 0", model, golden);
    Path goldenJson = fifo(tmp.resolve("others/golden.json"));
    refused(
        "FIFO", goldenJson, "verify --model {} --golden {} --health-samples 0", model, goldenJson);
    Path baseline = fifo(tmp.resolve("others/baseline.json"));
    refused("FIFO", baseline, "bench --model {} --baseline {} --iterations 1", model, baseline);
    Path a = VerifierCliTest.benchFile(tmp, "a.json", 1.0);
    refused("FIFO", baseline, "compare {} {}", a, baseline);
    Path profile = fifo(tmp.resolve("others/profile.json"));
    refused(
        "profile file " + profile + " is a FIFO",
        profile,
        "init --profile {} --out {}",
        profile,
        tmp.resolve("others/init"));
    Path plan = fifo(tmp.resolve("others/engine.plan"));
    refused("FIFO", plan, "inspect {}", plan);
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
    CliRun r =
        refused(
            "has 3,221,225,472 bytes, more than the 16,777,216 bytes (16 MiB)",
            big.resolve(Checkpoint.CONFIG_FILE),
            "inspect {}",
            big);
    assertTrue(r.err().startsWith("msn-export: error: config file"), r.err());
    Path ex = copy(model, tmp.resolve("big-manifest"));
    refused(
        "(16 MiB)",
        sparse(ex.resolve(MsnOnnxExporter.MANIFEST_FILE), 17L << 20),
        "verify --model {}",
        ex);
    refused(
        "(16 MiB)",
        sparse(tmp.resolve("big/map.json"), 20L << 20),
        "inspect {} --name-map {}",
        ck,
        tmp.resolve("big/map.json"));
    Path report = sparse(tmp.resolve("big/report.json"), 600L << 20);
    refused(
        "(512 MiB)",
        report,
        "compare {} {}",
        report,
        VerifierCliTest.benchFile(tmp, "b.json", 1.0));
  }
}
