package dev.msnexport.profiles.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzzing of the strict profile and config parser (docs/robustness.md). The same
 * bytes are read as a profile file ({@link Profiles#read}) and as a checkpoint's config.json
 * ({@link Profiles#readModelConfig}): each either fails with a {@link BadInputException} that names
 * the file, or gives a valid value that survives a JSON round trip unchanged (what {@code profiles
 * NAME} prints and a manifest records must read back as the same thing).
 */
class ProfilesFuzzTest {
  /** The scratch file the bytes are written to, in a folder JUnit removes after the class. */
  @TempDir static Path scratch;

  @FuzzTest
  @DictionaryFile(resourcePath = "profile-and-config.dict")
  void profileAndConfig(byte[] data) throws IOException {
    Path file = scratch.resolve("input.json");
    Files.write(file, data);
    try {
      Profile p = Profiles.read(file);
      Profile back =
          Profiles.parse(Profiles.toJson(p), "round trip", Profile.class).validate("round trip");
      assertEquals(p, back, "a profile reads back as itself");
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains(file.toString()),
          "the message names the file: " + e.getMessage());
    }
    try {
      ModelConfig c = Profiles.readModelConfig(file);
      assertEquals(
          c,
          Profiles.parseModelConfig(Profiles.toJson(c), "round trip"),
          "a config reads back as itself");
      assertTrue(c.slots() > 0 && c.valueRows() > 0 && c.tokenChunk() > 0);
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains(file.toString()),
          "the message names the file: " + e.getMessage());
    }
  }
}
