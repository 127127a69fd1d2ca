package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.msnexport.common.HostTensor;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.Backend;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each backend's floor counts the model it runs: an engine of another export timed beside {@code
 * bench --model}'s (a quantized-table export, a larger profile) is held against its own bytes, not
 * those of the export bench was given.
 */
class FloorRowTest {
  private static final FloorModel.Ceilings H100ISH = new FloorModel.Ceilings(3e12, 1e15, "test");

  /** A backend with fixed ceilings at fp16, running {@code own} (null: bench's model). */
  private static Backend backend(String name, FloorModel.Subject own) {
    return new Backend() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
        throw new UnsupportedOperationException();
      }

      @Override
      public FloorModel.Ceilings ceilings() {
        return H100ISH;
      }

      @Override
      public String floorPrecision() {
        return "fp16";
      }

      @Override
      public FloorModel.Subject floorSubject() {
        return own;
      }

      @Override
      public void close() {}
    };
  }

  @Test
  void everyBackendIsHeldAgainstTheModelItRuns() {
    ModelConfig paper = Profiles.load("paper").model();
    ModelConfig xl = Profiles.load("xl").model();
    Map<String, Backend> backends = new LinkedHashMap<>();
    backends.put("paper-fp16", backend("paper-fp16", null));
    backends.put("paper-int8", backend("paper-int8", new FloorModel.Subject(paper, "int8")));
    backends.put("xl-fp16", backend("xl-fp16", new FloorModel.Subject(xl, "fp16")));
    long[] oneMs = new long[50];
    java.util.Arrays.fill(oneMs, 1_000_000L);
    List<BenchResult> results =
        backends.keySet().stream().map(n -> BenchFixtures.result(n, 512, oneMs)).toList();

    List<FloorRow> rows = FloorRow.of(paper, "fp32", results, backends, w -> {});

    assertEquals(3, rows.size());
    FloorModel.DataBytes fp16 = FloorModel.DataBytes.of("fp16", "fp32");
    FloorModel.DataBytes int8 = FloorModel.DataBytes.of("fp16", "int8");
    assertEquals(
        FloorModel.floor(paper, 512, fp16, H100ISH).floor_us(), rows.get(0).floor_us(), 1e-9);
    assertEquals(
        FloorModel.floor(paper, 512, int8, H100ISH).floor_us(), rows.get(1).floor_us(), 1e-9);
    assertEquals(FloorModel.floor(xl, 512, fp16, H100ISH).floor_us(), rows.get(2).floor_us(), 1e-9);
    // the int8 tables halve the value bytes of the fp16 engine's floor; xl's slots change only the
    // bytes with reuse and the scoring work, so the three floors differ
    assertNotEquals(rows.get(0).floor_us(), rows.get(1).floor_us());
    assertNotEquals(rows.get(0).work(), rows.get(2).work());
    assertEquals(rows.get(0).work().value_bytes() / 2, rows.get(1).work().value_bytes());
    assertEquals(1000.0 / rows.get(1).floor_us(), rows.get(1).p99_multiple(), 1e-9);
  }
}
