package dev.msnexport.cli.fuzz;

import static dev.msnexport.cli.CliRun.exec;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.msnexport.cli.CliRun;
import dev.msnexport.cli.ExitCodes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
      exec("init --profile tiny --out {}", dir.resolve("ck")).ok();
      exec(
              "export --checkpoint {} --out {} --profile tiny",
              dir.resolve("ck"),
              dir.resolve("model"))
          .ok();
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

  private static void replay(Path golden) {
    CliRun r =
        exec(
            "verify --model {} --backends golden --golden {} --health-samples 0 --verbose",
            MODEL,
            golden);
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
  @DictionaryFile(resourcePath = "golden-verify.dict")
  void goldenFile(byte[] data) throws IOException {
    Files.write(SAFETENSORS, data);
    replay(SAFETENSORS);
    Files.write(RESULTS, data);
    replay(RESULTS);
  }
}
