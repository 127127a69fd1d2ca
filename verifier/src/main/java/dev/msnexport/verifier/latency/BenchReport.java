package dev.msnexport.verifier.latency;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.ResultHeader;
import java.nio.file.Path;
import java.util.List;

/**
 * The result of {@code msn-export bench}; its JSON form (schema {@value #SCHEMA}) is documented in
 * verifier/README.md and doubles as the baseline file of the regression gate. Keys are stable.
 */
public record BenchReport(
    String schema,
    String tool_version,
    String model,
    String profile,
    String values_dtype,
    String created,
    Host host,
    Settings settings,
    boolean pass,
    List<BenchResult> results,
    List<GateResult> gates,
    List<FloorRow> floors,
    List<LayerProfile> layer_profiles,
    List<BucketRow> buckets)
    implements ResultHeader {
  public static final String SCHEMA = "msn-export.bench/1";

  /** The machine the figures come from: compare baselines from the same kind of machine only. */
  @JsonPropertyOrder({"os", "arch", "cpus", "java"})
  public record Host(String os, String arch, int cpus, String java) {
    public static Host current() {
      return new Host(
          System.getProperty("os.name") + " " + System.getProperty("os.version"),
          System.getProperty("os.arch"),
          Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"));
    }
  }

  /**
   * How the figures were measured and gated. Exactly one of {@code iterations} (timed runs per
   * backend and batch) and {@code duration_s} (timed seconds per backend and batch) is set.
   */
  @JsonPropertyOrder({
    "backends",
    "batches",
    "warmup_ms",
    "iterations",
    "duration_s",
    "rounds",
    "threads",
    "seed",
    "percentile_rule",
    "bootstrap_resamples",
    "confidence",
    "max_p99_ratio",
    "max_p99_regression",
    "baseline"
  })
  public record Settings(
      List<String> backends,
      List<Integer> batches,
      double warmup_ms,
      Integer iterations,
      Double duration_s,
      int rounds,
      int threads,
      long seed,
      String percentile_rule,
      int bootstrap_resamples,
      double confidence,
      Double max_p99_ratio,
      Double max_p99_regression,
      String baseline) {}

  /** The result of {@code backend} at {@code batch}, or null. */
  public BenchResult result(String backend, int batch) {
    for (BenchResult r : results) {
      if (r.backend().equals(backend) && r.batch() == batch) {
        return r;
      }
    }
    return null;
  }

  public static BenchReport read(Path file) {
    String text = InputFiles.readText(file, "bench result", InputFiles.MAX_DATA_BYTES);
    BenchReport r = Profiles.parse(text, "bench result " + file, BenchReport.class);
    if (!SCHEMA.equals(r.schema())) {
      throw new BadInputException(
          "bench result "
              + file
              + ": field 'schema' is '"
              + r.schema()
              + "', expected '"
              + SCHEMA
              + "'");
    }
    String where = "bench result " + file + ": field ";
    if (r.results() == null) {
      throw new BadInputException(where + "'results' is missing or null");
    }
    for (int i = 0; i < r.results().size(); i++) {
      BenchResult b = r.results().get(i);
      String at = "'results[" + i + "]";
      if (b == null) {
        throw new BadInputException(where + at + "' is null");
      }
      if (b.backend() == null) {
        throw new BadInputException(where + at + ".backend' is missing or null");
      }
      if (b.host_ms() == null) {
        throw new BadInputException(where + at + ".host_ms' is missing or null");
      }
      if (b.samples_ns() == null || b.samples_ns().length == 0) {
        throw new BadInputException(
            "bench result "
                + file
                + ": "
                + b.backend()
                + " batch "
                + b.batch()
                + " has no samples_ns (the gates need the raw samples)");
      }
    }
    return r;
  }
}
