package dev.msnexport.verifier.latency;

import dev.msnexport.verifier.backend.BackendSpec;
import dev.msnexport.verifier.backend.Backends;
import java.nio.file.Path;
import java.util.List;

/**
 * What bench runs: {@link BenchRun#run}.
 *
 * @param model the export directory
 * @param profile {@code --profile}; null: {@link dev.msnexport.verifier.Defaults#profileName}
 * @param backends the backends, timed interleaved in this order
 * @param engines plan files timed after them ({@link PlanEngines}); may be empty
 * @param open how to open them
 * @param batches batch sizes; null: the profile's min, opt and max
 * @param allowBatchOutsideProfile time sizes outside the profile's batch range too
 * @param plan warm-up, timed runs or seconds, rounds
 * @param seed seed of the inputs and of the bootstrap
 * @param cudaGraph TensorRT backends replay each prepared launch as a CUDA graph
 * @param layerProfileRuns profiled runs per TensorRT backend and batch; 0: no layer profile
 * @param confirm a failed gate is confirmed by a second run at its batch
 * @param gates the gate limits; null ones come from the profile
 * @param baseline the baseline file (recorded in the report); or null
 * @param updateBaseline the run writes {@code baseline} instead of gating against it
 */
public record BenchRequest(
    Path model,
    String profile,
    List<BackendSpec> backends,
    List<Path> engines,
    Backends.Options open,
    List<Integer> batches,
    boolean allowBatchOutsideProfile,
    LatencyBenchmark.Plan plan,
    long seed,
    boolean cudaGraph,
    int layerProfileRuns,
    boolean confirm,
    Limits gates,
    Path baseline,
    boolean updateBaseline) {
  public BenchRequest {
    batches = batches == null ? null : List.copyOf(batches); // null: the profile's
    backends = List.copyOf(backends);
    engines = List.copyOf(engines);
  }

  /**
   * The gates' limits and bootstrap.
   *
   * @param maxRatio candidate / reference graph; null: the profile's max_p99_ratio (0: off)
   * @param maxRegression growth against the baseline; null: the profile's, else 0.10
   * @param driftCorrection scale the baseline by the machine's drift first
   */
  public record Limits(
      Double maxRatio,
      Double maxRegression,
      boolean driftCorrection,
      LatencyGate.Settings settings) {}
}
