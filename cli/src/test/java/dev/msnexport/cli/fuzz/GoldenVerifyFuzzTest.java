package dev.msnexport.cli.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.msnexport.cli.ExitCodes;
import dev.msnexport.cli.MsnExport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the golden-file path of {@code verify --golden} (docs/robustness.md):
 * the bytes are a golden file, as our safetensors form and as Polygraphy's RunResults JSON (beside
 * a valid inputs file), replayed by the whole command against the golden model of a {@code tiny}
 * export: read, its inputs checked against the model, the golden model run on them, every output
 * compared. Either a verdict (exit 0 or 1) or bad input (exit 4) naming the golden file; anything
 * else (exit 70, a crash) is a finding. Seeds: golden files of tiny at batch 2.
 */
class GoldenVerifyFuzzTest {
  private static final Path DIR = export();
  private static final Path MODEL = DIR.resolve("model");
  private static final Path SAFETENSORS = DIR.resolve("golden.safetensors");
  private static final Path RESULTS = DIR.resolve("golden.json");

  private static Path export() {
    try {
      Path dir = Files.createTempDirectory("msn-fuzz-golden-verify");
      dir.toFile().deleteOnExit();
      quietly("init", "--profile", "tiny", "--out", dir.resolve("ck").toString());
      quietly(
          "export",
          "--checkpoint",
          dir.resolve("ck").toString(),
          "--out",
          dir.resolve("model").toString(),
          "--profile",
          "tiny");
      // the inputs that Polygraphy's results file points to (the seeds' own)
      try (InputStream in =
          GoldenVerifyFuzzTest.class.getResourceAsStream("golden-tiny-batch2.inputs.json")) {
        Files.write(dir.resolve("golden.inputs.json"), in.readAllBytes());
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void quietly(String... args) {
    Result r = cli(args);
    assertEquals(ExitCodes.OK, r.code(), r.err());
  }

  record Result(int code, String err) {}

  private static Result cli(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    try (PrintStream sink =
            new PrintStream(OutputStreamSink.INSTANCE, false, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(errBytes, true, StandardCharsets.UTF_8)) {
      System.setOut(sink);
      System.setErr(e);
      return new Result(MsnExport.execute(args), errBytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** Discards what the command prints. */
  private static final class OutputStreamSink extends java.io.OutputStream {
    static final OutputStreamSink INSTANCE = new OutputStreamSink();

    @Override
    public void write(int b) {}

    @Override
    public void write(byte[] b, int off, int len) {}
  }

  private static void replay(Path golden) {
    Result r =
        cli(
            "verify",
            "--model",
            MODEL.toString(),
            "--backends",
            "golden",
            "--golden",
            golden.toString(),
            "--health-samples",
            "0",
            "--verbose");
    if (r.code() == ExitCodes.BAD_INPUT) {
      assertTrue(
          r.err().contains(golden.toString()), "the message names the golden file: " + r.err());
    } else {
      assertTrue(
          r.code() == ExitCodes.OK || r.code() == ExitCodes.PARITY_FAILURE,
          "exit " + r.code() + ": " + r.err());
    }
  }

  @FuzzTest
  @DictionaryEntries({
    "\"__metadata__\"",
    "\"format\"",
    "\"msn-export.golden/1\"",
    "\"inputs.tokens\"",
    "\"outputs.click\"",
    "\"outputs.finish\"",
    "\"outputs.retrieval.0.slots\"",
    "\"outputs.retrieval.0.weights\"",
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "\"F32\"",
    "\"F64\"",
    "\"I64\"",
    "\"polygraphy_class\"",
    "\"RunResults\"",
    "\"lst\"",
    "\"IterationResult\"",
    "\"outputs\"",
    "\"ndarray\"",
    "\"array\"",
    "\u0093NUMPY",
    "'shape'",
    "'<f4'",
    "'<i8'"
  })
  void goldenFile(byte[] data) throws IOException {
    Files.write(SAFETENSORS, data);
    replay(SAFETENSORS);
    Files.write(RESULTS, data);
    replay(RESULTS);
  }
}
