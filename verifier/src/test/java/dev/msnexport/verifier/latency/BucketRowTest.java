package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.report.ReportKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench's report.json {@code buckets}: keys, console line, and baselines with and without them. */
class BucketRowTest {
  @TempDir Path tmp;

  private static BenchReport withBuckets(List<BucketRow> buckets) {
    BenchReport r =
        BenchFixtures.report(
            BenchFixtures.settings(List.of("trt"), List.of(64), 0, 5, null, null),
            true,
            List.of(BenchFixtures.result("trt", 64, new long[] {1000, 2000, 3000, 4000, 5000})),
            List.of());
    return new BenchReport(
        r.schema(),
        r.tool_version(),
        r.model(),
        r.profile(),
        r.values_dtype(),
        r.created(),
        r.host(),
        r.settings(),
        r.pass(),
        r.results(),
        r.gates(),
        r.floors(),
        r.layer_profiles(),
        buckets);
  }

  @Test
  void keysAndLineSayWhichProfileRanTheBatch() throws Exception {
    BucketRow row = new BucketRow("trt:fp16", 64, 1, 2, 64, 64);
    JsonNode j = Profiles.JSON.readTree(Profiles.toJson(withBuckets(List.of(row))));
    assertEquals(ReportKeys.pinned("bench.buckets"), ReportKeys.of(j.get("buckets").get(0)));
    assertEquals(1, j.get("buckets").get(0).get("profile_index").asInt());
    assertEquals("trt:fp16 batch 64: optimization profile 1 of batch 2..64 (opt 64)", row.line());
  }

  @Test
  void reportsReadBackWithAndWithoutBuckets() throws Exception {
    BucketRow row = new BucketRow("trt", 64, 0, 1, 64, 512);
    Path with = tmp.resolve("with.json");
    Files.writeString(with, Profiles.toJson(withBuckets(List.of(row))));
    assertEquals(List.of(row), BenchReport.read(with).buckets());
    Path without = tmp.resolve("without.json"); // a baseline written before buckets existed
    Files.writeString(
        without, Profiles.toJson(withBuckets(null)).replace(",\n  \"buckets\" : null", ""));
    assertEquals(false, Files.readString(without).contains("buckets"));
    assertNull(BenchReport.read(without).buckets());
  }
}
