package dev.msnexport.verifier;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.verifier.health.MemoryHealth;
import java.util.List;

/**
 * The result of {@code msn-export verify}; its JSON form (schema {@value #SCHEMA}) is documented
 * in verifier/README.md. Keys are stable: tools may rely on them. {@code marked_outputs} (only
 * with {@code --mark-outputs}) and {@code memory_health} (absent when no checkpoint was at hand or
 * it was not asked for) are optional and never affect {@code pass}.
 */
@JsonPropertyOrder({"schema", "tool_version", "model", "profile", "values_dtype", "batch", "seed", "pass", "backends", "comparisons",
    "marked_outputs", "memory_health"})
public record VerifyReport(String schema, String tool_version, String model, String profile, String values_dtype, int batch, long seed,
    boolean pass, List<BackendRun> backends, List<Comparison> comparisons,
    @JsonInclude(JsonInclude.Include.NON_NULL) List<MarkedOutput> marked_outputs,
    @JsonInclude(JsonInclude.Include.NON_NULL) MemoryHealth.Report memory_health) {
  public static final String SCHEMA = "msn-export.verify/2";

  /**
   * Schemas {@code compare} reads: /1 lacks the tie bookkeeping of /2 (tie-exempt elements,
   * downstream and set-changing tie queries, min tie_epsilon to pass), read as zeros.
   */
  public static final java.util.Set<String> READABLE = java.util.Set.of("msn-export.verify/1", SCHEMA);

  /** A report without memory health, as the comparisons alone give it. */
  public VerifyReport(String schema, String tool_version, String model, String profile, String values_dtype, int batch, long seed,
      boolean pass, List<BackendRun> backends, List<Comparison> comparisons) {
    this(schema, tool_version, model, profile, values_dtype, batch, seed, pass, backends, comparisons, null, null);
  }

  /** The same report with the memory health of the checkpoint (null: none). */
  public VerifyReport withMemoryHealth(MemoryHealth.Report health) {
    return new VerifyReport(schema, tool_version, model, profile, values_dtype, batch, seed, pass, backends, comparisons, marked_outputs,
        health);
  }

  /** The same report with the comparisons of marked intermediate tensors (null: none were marked). */
  public VerifyReport withMarkedOutputs(List<MarkedOutput> marked) {
    return new VerifyReport(schema, tool_version, model, profile, values_dtype, batch, seed, pass, backends, comparisons, marked,
        memory_health);
  }

  /** One backend's run: status ok, error (it failed) or unavailable (optional and absent). */
  @JsonPropertyOrder({"name", "status", "seconds", "error"})
  public record BackendRun(String name, String status, double seconds, String error) {}

  /**
   * One intermediate tensor marked as an extra output ({@code verify --mark-outputs}), candidate
   * against reference: a diagnostic that never changes {@code pass}. {@code skipped} says why it
   * was not compared (a backend that does not produce it, such as golden) and the rest is null;
   * else {@code comparison} holds the statistics at the run's tolerances (its {@code pass} says
   * whether they were met, nothing more), and {@code max_abs_at} the position of the largest
   * absolute error with both values there. Not tie-exempt: a sample whose slot set changed at a
   * tie differs downstream of that layer (see {@code retrieval[]}).
   */
  @JsonPropertyOrder({"name", "candidate", "reference", "skipped", "max_abs_at", "candidate_value", "reference_value", "comparison"})
  public record MarkedOutput(String name, String candidate, String reference, String skipped, long[] max_abs_at, Double candidate_value,
      Double reference_value, OutputComparison comparison) {}

  /** A candidate backend against a reference backend. */
  @JsonPropertyOrder({"candidate", "reference", "pass", "outputs", "retrieval"})
  public record Comparison(String candidate, String reference, boolean pass, List<OutputComparison> outputs,
      List<RetrievalComparison> retrieval) {}
}
