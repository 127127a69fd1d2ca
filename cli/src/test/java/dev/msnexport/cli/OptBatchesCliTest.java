package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code build --opt-batches}: a list the profile's batch range refuses is a usage error (exit 2)
 * before TensorRT is asked; a profile file with bad {@code batch.opt_batches} is bad input (exit 4)
 * naming the file and field.
 */
class OptBatchesCliTest {
  @TempDir Path tmp;
  Path model;

  @BeforeEach
  void tinyExport() {
    model = CliRun.tinyExport(tmp.resolve("ck"), tmp.resolve("m"), "", "");
  }

  private CliRun build(String... extra) {
    String[] args = new String[4 + extra.length];
    args[0] = "build";
    args[1] = "--model";
    args[2] = model.toString();
    args[3] = "--out=" + tmp.resolve("e.plan");
    System.arraycopy(extra, 0, args, 4, extra.length);
    return CliRun.run(args);
  }

  @Test
  void listsTheRangeRefusesAreUsageErrors() {
    // tiny: batch 1..64
    for (String bad : new String[] {"8,4", "8,8", "0,8", "1,65", "x", "1.5"}) {
      CliRun r = build("--opt-batches", bad);
      assertEquals(ExitCodes.USAGE, r.code(), bad + ": " + r.err());
      assertTrue(r.err().contains("--opt-batches"), bad + ": " + r.err());
    }
    assertTrue(Files.notExists(tmp.resolve("e.plan")), "nothing written");
  }

  @Test
  void aValidListGetsPastTheOptionChecks() {
    CliRun r = build("--opt-batches", "1,8,64");
    // without a GPU the build then stops at TensorRT (exit 4); with one it builds
    assertTrue(r.code() == ExitCodes.OK || r.code() == ExitCodes.BAD_INPUT, r.err());
    if (r.code() == ExitCodes.BAD_INPUT) {
      assertTrue(r.err().contains("TensorRT"), r.err());
    }
  }

  @Test
  void aProfileFileWithBadOptBatchesIsBadInputNamingFileAndField() throws Exception {
    Path profile = tmp.resolve("mine.json");
    Files.writeString(
        profile,
        Profiles.toJson(Profiles.load("tiny"))
            .replace("\"max\" : 64", "\"max\" : 64, \"opt_batches\" : [ 8, 4 ]"));
    CliRun r = build("--profile", profile.toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    assertTrue(
        r.err().contains(profile.toString()) && r.err().contains("batch.opt_batches"), r.err());
  }
}
