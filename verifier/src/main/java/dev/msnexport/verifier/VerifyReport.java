package dev.msnexport.verifier;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.verifier.health.MemoryHealth;
import java.util.List;

/**
 * The result of {@code msn-export verify}; its JSON form (schema {@value #SCHEMA}) is documented
 * in verifier/README.md. Keys are stable: tools may rely on them. {@code memory_health} is
 * optional (absent when no checkpoint was at hand or it was not asked for) and never affects
 * {@code pass}.
 */
@JsonPropertyOrder({"schema", "tool_version", "model", "profile", "values_dtype", "batch", "seed", "pass", "backends", "comparisons",
    "memory_health"})
public record VerifyReport(String schema, String tool_version, String model, String profile, String values_dtype, int batch, long seed,
    boolean pass, List<BackendRun> backends, List<Comparison> comparisons,
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
    this(schema, tool_version, model, profile, values_dtype, batch, seed, pass, backends, comparisons, null);
  }

  /** The same report with the memory health of the checkpoint (null: none). */
  public VerifyReport withMemoryHealth(MemoryHealth.Report health) {
    return new VerifyReport(schema, tool_version, model, profile, values_dtype, batch, seed, pass, backends, comparisons, health);
  }

  /** One backend's run: status ok, error (it failed) or unavailable (optional and absent). */
  @JsonPropertyOrder({"name", "status", "seconds", "error"})
  public record BackendRun(String name, String status, double seconds, String error) {}

  /** A candidate backend against a reference backend. */
  @JsonPropertyOrder({"candidate", "reference", "pass", "outputs", "retrieval"})
  public record Comparison(String candidate, String reference, boolean pass, List<OutputComparison> outputs,
      List<RetrievalComparison> retrieval) {}
}
