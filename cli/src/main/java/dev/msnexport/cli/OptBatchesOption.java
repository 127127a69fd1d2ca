package dev.msnexport.cli;

import dev.msnexport.profiles.BatchBuckets;
import dev.msnexport.profiles.Profile;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code build --opt-batches}: the engine's batch buckets, one TensorRT optimization profile each,
 * instead of the profile's {@code batch.opt_batches} (a picocli mixin).
 */
final class OptBatchesOption {
  @Range(min = 1, max = OptionRanges.MAX_BATCH)
  @Option(
      names = "--opt-batches",
      split = ",",
      paramLabel = "N[,N...]",
      description =
          "One optimization profile per batch N (strictly increasing, within the profile's batch min..max), each "
              + "tuned for its N and spanning the batches above the previous N: the runner picks the profile with the "
              + "smallest max that holds a batch. Costs about one build per profile, and one execution context's "
              + "device memory per profile used (default: the profile's batch.opt_batches, else one profile "
              + "min/opt/max).")
  List<Integer> optBatches;

  /** The profile's batch shapes with these buckets; a list the range refuses is a usage error. */
  Profile.BatchShapes apply(Profile.BatchShapes b, CommandLine cl) {
    if (optBatches == null) {
      return b;
    }
    String problem = BatchBuckets.problem(b.min(), b.max(), optBatches);
    if (problem != null) {
      throw new CommandLine.ParameterException(cl, "--opt-batches " + problem);
    }
    return b.withOptBatches(optBatches);
  }
}
