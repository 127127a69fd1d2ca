package dev.msnexport.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.checkpoint.TensorLayout;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
  @TempDir Path tmp;
  final ModelConfig tiny = Profiles.load("tiny").model();

  @Test
  void syntheticCheckpointHasExactlyTheContractTensors() {
    Path dir = tmp.resolve("ck");
    SyntheticCheckpoint.write(tiny, dir, 7);
    try (Checkpoint c = Checkpoint.open(dir)) {
      assertEquals(TensorLayout.expected(tiny).keySet(), c.tensors().keySet());
      assertEquals(tiny, c.config());
      float[] lnw = c.tensor("blocks.0.mix_norm.weight").toFloatArray();
      for (float v : lnw) {
        assertTrue(Math.abs(v - 1) < 0.6, "LayerNorm weights near 1: " + v);
      }
    }
  }

  @Test
  void deterministicPerSeed() {
    SyntheticCheckpoint.write(tiny, tmp.resolve("a"), 1);
    SyntheticCheckpoint.write(tiny, tmp.resolve("b"), 1);
    SyntheticCheckpoint.write(tiny, tmp.resolve("c"), 2);
    assertEquals(
        Checkpoint.sha256(tmp.resolve("a/model.safetensors")),
        Checkpoint.sha256(tmp.resolve("b/model.safetensors")));
    assertNotEquals(
        Checkpoint.sha256(tmp.resolve("a/model.safetensors")),
        Checkpoint.sha256(tmp.resolve("c/model.safetensors")));
  }

  @Test
  void halfPrecisionCheckpointsAreAccepted() {
    Path dir = tmp.resolve("h");
    SyntheticCheckpoint.write(tiny, dir, 1, DType.BF16);
    try (Checkpoint c = Checkpoint.open(dir)) {
      assertEquals(DType.BF16, c.tensor("blocks.0.msn.values").dtype());
    }
  }

  /**
   * Rewrites the checkpoint's tensors through {@code edit} (name -> replacement spec, null to
   * drop).
   */
  private Path edited(String name, UnaryOperator<SafetensorsWriter.Spec> edit, String extra)
      throws IOException {
    Path src = tmp.resolve("src");
    if (!Files.exists(src)) {
      SyntheticCheckpoint.write(tiny, src, 3);
    }
    Path dir = Files.createTempDirectory(tmp, "edit");
    Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile st = SafetensorsFile.open(src.resolve("model.safetensors"))) {
      for (TensorView t : st.tensors().values()) {
        SafetensorsWriter.Spec s =
            new SafetensorsWriter.Spec(t.name(), t.dtype(), t.shape(), t::transferTo);
        if (t.name().equals(name)) {
          s = edit.apply(s);
        }
        if (s != null) {
          w.add(s.name(), s.dtype(), s.shape(), s.source());
        }
      }
      if (extra != null) {
        w.addF32(extra, new long[] {1}, new float[] {0});
      }
      w.write(dir.resolve("model.safetensors"), Map.of());
    }
    return dir;
  }

  private static void assertBad(Path dir, String... fragments) {
    BadInputException e = assertThrows(BadInputException.class, () -> Checkpoint.open(dir).close());
    for (String s : fragments) {
      assertTrue(e.getMessage().contains(s), "'" + s + "' not in: " + e.getMessage());
    }
  }

  @Test
  void missingTensor() throws IOException {
    assertBad(edited("blocks.1.ffn.b2", s -> null, null), "missing tensor", "blocks.1.ffn.b2");
  }

  @Test
  void unexpectedTensor() throws IOException {
    assertBad(edited("none", s -> s, "blocks.0.extra"), "unexpected tensor 'blocks.0.extra'");
  }

  @Test
  void wrongShape() throws IOException {
    assertBad(
        edited(
            "blocks.0.msn.keys_row",
            s ->
                new SafetensorsWriter.Spec(
                    s.name(),
                    DType.F32,
                    new long[] {4, 8},
                    out -> out.write(ByteBuffer.allocate(4 * 32))),
            null),
        "'blocks.0.msn.keys_row'",
        "shape [4, 8]",
        "expected [8, 8]");
  }

  @Test
  void wrongDtype() throws IOException {
    assertBad(
        edited(
            "heads.click.b2",
            s ->
                new SafetensorsWriter.Spec(
                    s.name(), DType.I32, s.shape(), out -> out.write(ByteBuffer.allocate(4))),
            null),
        "'heads.click.b2'",
        "I32");
  }

  @Test
  void nanAndInfInWeights() throws IOException {
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      assertBad(
          edited(
              "heads.finish.b1",
              s ->
                  new SafetensorsWriter.Spec(
                      s.name(),
                      DType.F32,
                      s.shape(),
                      out -> {
                        float[] v = new float[16];
                        v[5] = bad;
                        SafetensorsWriter.writeFloats(out, v, 0, 16);
                      }),
              null),
          "'heads.finish.b1'",
          "index 5");
    }
  }

  @Test
  void missingConfigOrDirectory() throws IOException {
    assertBad(tmp.resolve("nowhere"), "does not exist");
    Path dir = Files.createDirectory(tmp.resolve("noconfig"));
    assertBad(dir, "config.json", "does not exist");
    Files.writeString(dir.resolve("config.json"), Profiles.toJson(tiny));
    assertBad(dir, "model.safetensors", "does not exist");
  }

  @Test
  void configThatDisagreesWithTheWeights() throws IOException {
    Path dir = edited("none", s -> s, null);
    Files.writeString(dir.resolve("config.json"), Profiles.toJson(Profiles.load("small").model()));
    assertBad(dir, "shape");
  }
}
