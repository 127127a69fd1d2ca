package dev.msnexport.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchBucketsTest {
  @TempDir Path tmp;

  private static Profile.BatchShapes shapes(int min, int opt, int max, Integer... optBatches) {
    return new Profile.BatchShapes(min, opt, max, List.of(optBatches));
  }

  @Test
  void withoutOptBatchesOneBucketIsTheRange() {
    assertEquals(List.of(shapes(1, 8, 64)), shapes(1, 8, 64).buckets());
  }

  @Test
  void bucketsSplitTheRangeAtTheOptBatches() {
    assertEquals(
        List.of(shapes(1, 1, 1), shapes(2, 64, 64), shapes(65, 512, 512), shapes(513, 2048, 2048)),
        shapes(1, 512, 2048, 1, 64, 512, 2048).buckets());
    // the first bucket starts at min, the last ends at max, wherever the opt batches lie
    assertEquals(List.of(shapes(2, 8, 8), shapes(9, 40, 100)), shapes(2, 8, 100, 8, 40).buckets());
    assertEquals(List.of(shapes(1, 5, 9)), shapes(1, 2, 9, 5).buckets());
  }

  @Test
  void theRunnerPicksTheBucketWithTheSmallestMaxThatHoldsTheBatch() {
    List<Profile.BatchShapes> b = shapes(1, 8, 64, 1, 8, 64).buckets();
    assertEquals(0, BatchBuckets.indexFor(b, 1));
    assertEquals(1, BatchBuckets.indexFor(b, 2));
    assertEquals(1, BatchBuckets.indexFor(b, 5));
    assertEquals(1, BatchBuckets.indexFor(b, 8));
    assertEquals(2, BatchBuckets.indexFor(b, 9));
    assertEquals(2, BatchBuckets.indexFor(b, 64));
    assertEquals(-1, BatchBuckets.indexFor(b, 65));
    assertEquals(-1, BatchBuckets.indexFor(b, 0));
    // overlapping ranges (a plan built elsewhere): the tighter one wins, whatever its position
    List<Profile.BatchShapes> overlapping = List.of(shapes(1, 64, 512), shapes(1, 8, 16));
    assertEquals(1, BatchBuckets.indexFor(overlapping, 16));
    assertEquals(0, BatchBuckets.indexFor(overlapping, 17));
  }

  @Test
  void problemsAreNamed() {
    assertNull(BatchBuckets.problem(1, 64, List.of(1, 8, 64)));
    assertNull(BatchBuckets.problem(1, 64, List.of()));
    assertTrue(BatchBuckets.problem(1, 64, List.of(8, 8)).contains("strictly increasing"));
    assertTrue(BatchBuckets.problem(1, 64, List.of(8, 4)).contains("strictly increasing"));
    assertTrue(BatchBuckets.problem(2, 64, List.of(1, 8)).contains("outside"));
    assertTrue(BatchBuckets.problem(1, 64, List.of(8, 65)).contains("65"));
    assertTrue(BatchBuckets.problem(1, 64, java.util.Arrays.asList(8, null)).contains("null"));
  }

  @Test
  void paperHasThreeBucketsTheOthersOne() {
    // paper: 1..2 (opt 2), 3..64 (opt 64), 65..2048 (opt 512); a first bucket 1..1 made TensorRT
    // 10.6's fp32 build fail and its fp16 batch 1 slower (docs/performance.md, seventh session)
    Profile.BatchShapes paper = Profiles.load("paper").batch();
    assertEquals(List.of(2, 64, 512), paper.optBatches());
    assertEquals(
        List.of(
            new Profile.BatchShapes(1, 2, 2),
            new Profile.BatchShapes(3, 64, 64),
            new Profile.BatchShapes(65, 512, 2048)),
        paper.buckets());
    for (String name : Profiles.BUILT_IN) {
      if (!name.equals("paper")) {
        assertEquals(1, Profiles.load(name).batch().buckets().size(), name);
      }
    }
    for (String name : Profiles.BUILT_IN) {
      Profile.BatchShapes b = Profiles.load(name).batch();
      List<Profile.BatchShapes> buckets = b.buckets();
      assertEquals(b.min(), buckets.get(0).min(), name);
      assertEquals(b.max(), buckets.get(buckets.size() - 1).max(), name);
      for (int i = 1; i < buckets.size(); i++) {
        assertEquals(buckets.get(i - 1).max() + 1, buckets.get(i).min(), name + " contiguous");
      }
    }
  }

  @Test
  void optBatchesRoundTripAndAreLeftOutWhenEmpty() {
    Profile paper = Profiles.load("paper");
    String json = Profiles.toJson(paper);
    assertTrue(json.contains("\"opt_batches\""), json);
    assertEquals(paper, Profiles.parse(json, "test", Profile.class));
    assertFalse(Profiles.toJson(Profiles.load("tiny")).contains("opt_batches"));
  }

  @Test
  void badOptBatchesNameTheFileAndField() throws Exception {
    String tiny = Profiles.toJson(Profiles.load("tiny"));
    String batch = "\"batch\" : {\n    \"min\" : 1,\n    \"opt\" : 8,\n    \"max\" : 64\n  }";
    assertTrue(tiny.contains(batch), tiny);
    for (String bad :
        List.of("[ 8, 4 ]", "[ 8, 8 ]", "[ 0, 8 ]", "[ 8, 65 ]", "[ 1.5, 8 ]", "[ \"8\" ]")) {
      Path f = Files.createTempFile(tmp, "p", ".json");
      Files.writeString(
          f,
          tiny.replace(
              batch,
              "\"batch\" : { \"min\" : 1, \"opt\" : 8, \"max\" : 64, \"opt_batches\" : "
                  + bad
                  + " }"));
      BadInputException e = assertThrows(BadInputException.class, () -> Profiles.read(f), bad);
      assertTrue(
          e.getMessage().contains(f.toString()) && e.getMessage().contains("opt_batches"),
          bad + ": " + e.getMessage());
    }
  }
}
