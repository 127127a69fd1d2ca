package dev.msnexport.exporter.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.checkpoint.TensorLayout;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Coverage-guided fuzzing of the config.json path of a checkpoint (docs/robustness.md): the bytes
 * are the {@code config.json} of a checkpoint directory whose {@code model.safetensors} is the
 * synthetic {@code tiny} one, opened as every command opens a checkpoint ({@link Checkpoint#open}:
 * config parse and validation, the contract's tensor layout for that config, the weights checked
 * against it). Either a {@link BadInputException} naming the checkpoint's file, or a checkpoint
 * whose every tensor has the shape the contract gives for its config.
 */
class CheckpointConfigFuzzTest {
  private static final Path DIR = checkpoint();

  private static Path checkpoint() {
    try {
      Path dir = Files.createTempDirectory("msn-fuzz-config");
      SyntheticCheckpoint.write(Profiles.load("tiny").model(), dir, 0);
      for (String f : new String[] {Checkpoint.CONFIG_FILE, Checkpoint.WEIGHTS_FILE}) {
        dir.resolve(f).toFile().deleteOnExit();
      }
      dir.toFile().deleteOnExit();
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest
  @DictionaryEntries({
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
    "\"click\"",
    "\"finish\"",
    "\"tokens\"",
    "\"per_token_memory\"",
    "null",
    "true",
    "false",
    "1e999",
    "-0.0",
    "2147483648",
    "536870912",
    "1073741824",
    "4294967296"
  })
  void checkpointConfig(byte[] data) throws IOException {
    Files.write(DIR.resolve(Checkpoint.CONFIG_FILE), data);
    try (Checkpoint c = Checkpoint.open(DIR)) {
      Map<String, long[]> expected = TensorLayout.expected(c.config());
      assertEquals(
          expected.keySet(), c.tensors().keySet(), "the contract's tensors for this config");
      c.tensors().forEach((name, t) -> assertArrayEquals(expected.get(name), t.shape(), name));
      assertEquals(
          c.config(), Profiles.parseModelConfig(Profiles.toJson(c.config()), "round trip"));
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains(DIR.toString()),
          "the message names the checkpoint's file: " + e.getMessage());
    }
  }
}
