package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bench prints and reports each CPU backend's floor and its measured multiple (no timing is
 * judged here); --layer-profile on CPU backends reports none.
 */
class BenchFloorCliTest {
  @TempDir Path tmp;

  @Test
  void benchReportsTheFloorOfEveryBackendAndBatch() throws Exception {
    Path model = CliRun.tinyExport(tmp.resolve("ck"), tmp.resolve("m"), "", "");
    Path reports = tmp.resolve("bench");
    CliRun r =
        cli(
            "bench --model {} --batch 1,8 --iterations 20 --warmup-ms 0 --rounds 2 --resamples 100 --threads 1 --max-p99-ratio 0 --report-dir {} --layer-profile --layer-profile-runs 3",
            model,
            reports);
    assertEquals(0, r.code(), r.err());
    // ONNX Runtime has no per-layer profiler of ours: an empty list, never a made-up one
    assertEquals(
        0,
        Profiles.JSON
            .readTree(Files.readString(reports.resolve("report.json")))
            .get("layer_profiles")
            .size());
    JsonNode floors =
        Profiles.JSON.readTree(Files.readString(reports.resolve("report.json"))).get("floors");
    assertEquals(4, floors.size(), "ort-reference and ort-custom at batch 1 and 8");
    Set<String> seen = new HashSet<>();
    for (JsonNode f : floors) {
      seen.add(f.get("backend").asText() + "@" + f.get("batch").asInt());
      assertEquals("host", f.get("timed").asText());
      double floor = f.get("floor_us").asDouble();
      assertTrue(floor > 0, f.toString());
      assertEquals(
          Math.max(f.get("bytes_us").asDouble(), f.get("flops_us").asDouble()), floor, 1e-9);
      assertEquals(f.get("p99_us").asDouble() / floor, f.get("p99_multiple").asDouble(), 1e-9);
      assertTrue(f.get("ceilings").asText().contains("measured"), f.toString());
    }
    assertEquals(
        Set.of("ort-reference@1", "ort-custom@1", "ort-reference@8", "ort-custom@8"), seen);
    String md = Files.readString(reports.resolve("report.md"));
    assertTrue(md.contains("## Floor") && md.contains("| ort-custom | 8 | fp32 | host |"), md);
    assertTrue(Files.readString(reports.resolve("report.html")).contains("<h2>Floor</h2>"));
  }
}
