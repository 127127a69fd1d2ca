package dev.msnexport.cli;

import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.TensorLayout;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.health.MemoryHealth;
import java.nio.file.Path;
import java.util.Locale;

/** What inspect prints of a checkpoint: config, parameter counts, memory tables, memory health. */
final class CheckpointDescription {
  private CheckpointDescription() {}

  static void print(Path dir, NameMap names, MemoryHealthOptions health) {
    try (Checkpoint c = Checkpoint.open(dir, names)) {
      ModelConfig m = c.config();
      long dense = 0;
      long memory = 0;
      long memoryBytes = 0;
      for (TensorView t : c.tensors().values()) {
        if (TensorLayout.isMemory(t.name())) {
          memory += t.numel();
          memoryBytes += t.byteSize();
        } else {
          dense += t.numel();
        }
      }
      System.out.println("checkpoint " + dir);
      System.out.println("config: " + Profiles.toJson(m).replaceAll("\\s+", " "));
      System.out.printf(
          Locale.ROOT,
          "parameters: %,d dense, %,d memory (%.1f%% memory)%n",
          dense,
          memory,
          100.0 * memory / (dense + memory));
      System.out.printf(
          Locale.ROOT,
          "memory: %d MSN layer(s) %s, %,d slots x %d per table%s, %.1f MiB in all%n",
          m.msnLayers().size(),
          m.msnLayers(),
          m.slots(),
          m.D(),
          m.perTokenMemory() ? " (one table per token)" : "",
          memoryBytes / 1048576.0);
      System.out.println("sha256: " + c.sha256());
      MemoryHealth.Report h = health.compute(c);
      if (h != null) {
        h.lines().forEach(System.out::println);
      }
    }
  }
}
