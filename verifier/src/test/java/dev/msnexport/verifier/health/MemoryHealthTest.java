package dev.msnexport.verifier.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryHealthTest {
  @TempDir Path tmp;

  static Path trainedFixture() {
    try {
      return Path.of(
              MemoryHealthTest.class.getResource("/fixtures/small-trained/config.json").toURI())
          .getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void trainedCheckpointIsHealthy() {
    try (Checkpoint c = Checkpoint.open(trainedFixture())) {
      MemoryHealth.Report r = MemoryHealth.compute(c);
      assertEquals(256, r.samples());
      assertEquals(2, r.layers().size());
      assertFalse(r.collapsed(), () -> String.join("\n", r.lines()));
      for (MemoryHealth.Layer l : r.layers()) {
        assertEquals(256L * 8 * 16, l.draws());
        assertTrue(l.fractionUsed() > 0.5, () -> String.join("\n", r.lines()));
        assertTrue(l.entropyNormalized() > 0.8, () -> String.join("\n", r.lines()));
        assertTrue(l.top1PercentShare() < 0.2, () -> String.join("\n", r.lines()));
        assertEquals(41, l.top1PercentSlots());
      }
      assertTrue(r.lines().stream().noneMatch(s -> s.contains("WARNING")));
    }
  }

  /**
   * Identical keys: every query scores every sub-key the same, ties go to the lowest indices, one
   * set of k slots for all.
   */
  @Test
  void identicalKeysCollapse() throws Exception {
    ModelConfig m = Profiles.load("small").model();
    Path src = tmp.resolve("src");
    SyntheticCheckpoint.write(m, src, 5);
    Path dst = tmp.resolve("collapsed");
    Files.createDirectories(dst);
    try (SafetensorsFile st = SafetensorsFile.open(src.resolve(Checkpoint.WEIGHTS_FILE))) {
      SafetensorsWriter w = new SafetensorsWriter();
      for (TensorView t : st.tensors().values()) {
        float[] v = t.toFloatArray();
        if (t.name().contains(".keys_")) {
          int dk = (int) t.dim(1);
          for (int s = 1; s < t.dim(0); s++) {
            System.arraycopy(v, 0, v, s * dk, dk); // every key a copy of key 0
          }
        }
        w.addF32(t.name(), t.shape(), v);
      }
      w.write(dst.resolve(Checkpoint.WEIGHTS_FILE), Map.of());
    }
    AtomicFiles.writeString(
        dst.resolve(Checkpoint.CONFIG_FILE), Files.readString(src.resolve(Checkpoint.CONFIG_FILE)));
    try (Checkpoint c = Checkpoint.open(dst)) {
      MemoryHealth.Report r = MemoryHealth.compute(c, 64, 1);
      assertTrue(r.collapsed());
      for (MemoryHealth.Layer l : r.layers()) {
        assertEquals(m.k(), l.slotsUsed(), "one set of k slots");
        assertEquals(1.0, l.top1PercentShare(), 1e-12);
        assertEquals(3, l.warnings().size(), () -> l.warnings().toString());
      }
      assertTrue(
          r.lines().stream()
              .anyMatch(s -> s.contains("WARNING: layer 0: retrieval looks collapsed")),
          () -> String.join("\n", r.lines()));
    }
    // the untouched synthetic checkpoint (random keys) is healthy
    try (Checkpoint c = Checkpoint.open(src)) {
      assertFalse(MemoryHealth.compute(c, 64, 1).collapsed());
    }
  }

  @Test
  void figuresFromCounts() {
    long[] uniform = new long[400];
    Arrays.fill(uniform, 10);
    MemoryHealth.Layer u = MemoryHealth.fromCounts(0, uniform, 4);
    assertEquals(1.0, u.fractionUsed());
    assertEquals(Math.log(400), u.entropyNats(), 1e-12);
    assertEquals(1.0, u.entropyNormalized(), 1e-12);
    assertEquals(4, u.top1PercentSlots());
    assertEquals(0.01, u.top1PercentShare(), 1e-12);
    assertEquals(1 - Math.pow(1 - 1 / 400.0, 4000), u.uniformFractionUsed(), 1e-12);
    assertFalse(u.collapsed());

    // hub slots: 4 slots take 60% of the selections
    long[] hubs = uniform.clone();
    for (int i = 0; i < 4; i++) {
      hubs[i] = 1500;
    }
    MemoryHealth.Layer h = MemoryHealth.fromCounts(1, hubs, 4);
    assertTrue(h.top1PercentShare() > 0.5);
    assertEquals(1, h.warnings().size(), h.warnings().toString());
    assertTrue(h.warnings().get(0).contains("top 1% of slots (4)"), h.warnings().get(0));

    // few slots used: 3 of 10,000 slots over 30,000 draws (uniform would cover ~95%)
    long[] sparse = new long[10_000];
    sparse[7] = 10_000;
    sparse[70] = 10_000;
    sparse[700] = 10_000;
    MemoryHealth.Layer s = MemoryHealth.fromCounts(0, sparse, 2);
    assertTrue(
        s.warnings().stream().anyMatch(w -> w.contains("only 3 of 10000 slots used")),
        s.warnings().toString());
    assertEquals(Math.log(3) / Math.log(10_000), s.entropyNormalized(), 1e-12);
  }
}
