package dev.msnexport.verifier.latency;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.profiles.BatchBuckets;
import dev.msnexport.profiles.Profile;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.TrtBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which optimization profile (batch bucket) of a TensorRT engine ran a batch: the bucket with the
 * smallest max that holds it ({@link BatchBuckets}). {@code bench}'s report.json lists one per
 * engine and batch under {@code buckets}.
 *
 * @param profile_index the engine's optimization profile index
 */
@JsonPropertyOrder({"backend", "batch", "profile_index", "min", "opt", "max"})
public record BucketRow(String backend, int batch, int profile_index, int min, int opt, int max) {
  /**
   * One row per TensorRT backend and batch it accepts (other backends have no buckets), as the
   * engine runner chooses ({@code TrtEngine#bucketFor}).
   */
  public static List<BucketRow> of(List<Backend> backends, List<Integer> batches) {
    List<BucketRow> rows = new ArrayList<>();
    for (Backend b : backends) {
      if (b instanceof TrtBackend t) {
        List<Profile.BatchShapes> buckets = t.engine().buckets();
        for (int batch : batches) {
          int i = BatchBuckets.indexFor(buckets, batch); // the runner's choice
          if (i >= 0) { // else the engine refused the batch (--allow-batch-outside-profile)
            Profile.BatchShapes s = buckets.get(i);
            rows.add(new BucketRow(b.name(), batch, i, s.min(), s.opt(), s.max()));
          }
        }
      }
    }
    return List.copyOf(rows);
  }

  /** {@code trt:fp16 batch 64: optimization profile 1 of batch 2..64 (opt 64)}. */
  public String line() {
    return String.format(
        Locale.ROOT,
        "%s batch %d: optimization profile %d of batch %s",
        backend,
        batch,
        profile_index,
        BatchBuckets.describe(new Profile.BatchShapes(min, opt, max)));
  }
}
