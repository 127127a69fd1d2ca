package dev.msnexport.profiles.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the strict profile and config parser (docs/robustness.md). The same
 * bytes are read as a profile file ({@link Profiles#read}) and as a checkpoint's config.json
 * ({@link Profiles#readModelConfig}): each either fails with a {@link BadInputException} that names
 * the file, or gives a valid value that survives a JSON round trip unchanged (what {@code profiles
 * NAME} prints and a manifest records must read back as the same thing).
 */
class ProfilesFuzzTest {
  private static final Path FILE = scratchFile();

  private static Path scratchFile() {
    try {
      Path dir = Files.createTempDirectory("msn-fuzz-profiles");
      dir.toFile().deleteOnExit();
      Path f = dir.resolve("input.json");
      f.toFile().deleteOnExit();
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest
  @DictionaryEntries({
    "\"name\"",
    "\"description\"",
    "\"model\"",
    "\"batch\"",
    "\"precision\"",
    "\"tolerances\"",
    "\"latency\"",
    "\"min\"",
    "\"opt\"",
    "\"max\"",
    "\"fp32\"",
    "\"fp16\"",
    "\"bf16\"",
    "\"atol\"",
    "\"rtol\"",
    "\"tie_epsilon\"",
    "\"max_p99_ratio\"",
    "\"max_p99_regression\"",
    "\"T\"",
    "\"D\"",
    "\"L\"",
    "\"msn_layers\"",
    "\"S\"",
    "\"k\"",
    "\"dk\"",
    "\"score_scale\"",
    "\"gate\"",
    "\"tanh\"",
    "\"sigmoid\"",
    "\"identity\"",
    "\"ffn_mult\"",
    "\"head_hidden\"",
    "\"tasks\"",
    "\"per_token_memory\"",
    "null",
    "true",
    "1e999",
    "-0.0",
    "2147483648"
  })
  void profileAndConfig(byte[] data) throws IOException {
    Files.write(FILE, data);
    try {
      Profile p = Profiles.read(FILE);
      Profile back =
          Profiles.parse(Profiles.toJson(p), "round trip", Profile.class).validate("round trip");
      assertEquals(p, back, "a profile reads back as itself");
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains(FILE.toString()),
          "the message names the file: " + e.getMessage());
    }
    try {
      ModelConfig c = Profiles.readModelConfig(FILE);
      assertEquals(
          c,
          Profiles.parseModelConfig(Profiles.toJson(c), "round trip"),
          "a config reads back as itself");
      assertTrue(c.slots() > 0 && c.valueRows() > 0 && c.tokenChunk() > 0);
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains(FILE.toString()),
          "the message names the file: " + e.getMessage());
    }
  }
}
