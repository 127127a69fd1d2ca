package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code init --threads}: the checkpoint's bytes do not depend on it; it must be at least 1. */
class InitThreadsCliTest {
  @TempDir Path tmp;

  private Path init(int threads) {
    Path out = tmp.resolve("ck" + threads);
    CliRun r = CliRun.cli("init --profile small --out {} --seed 3 --threads {}", out, threads);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    return out;
  }

  @Test
  void twoRunsWithDifferentThreadCountsWriteTheSameFiles() throws IOException {
    Path one = init(1);
    Path four = init(4);
    for (String f : new String[] {"model.safetensors", "config.json"}) {
      assertArrayEquals(Files.readAllBytes(one.resolve(f)), Files.readAllBytes(four.resolve(f)), f);
    }
  }

  @Test
  void noThreadsIsAUsageError() {
    CliRun r = CliRun.cli("init --profile tiny --out {} --threads 0", tmp.resolve("x"));
    assertEquals(ExitCodes.USAGE, r.code());
    assertTrue(r.err().contains("--threads"), r.err());
  }
}
