package dev.msnexport.verifier;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.verifier.health.MemoryHealth;
import dev.msnexport.verifier.quant.QuantizationReport;
import java.util.List;

/**
 * The result of {@code msn-export verify}; its JSON form (schema {@value #SCHEMA}) is documented in
 * verifier/README.md. Keys are stable: tools may rely on them. {@code marked_outputs} (only with
 * {@code --mark-outputs}) and {@code memory_health} (absent when no checkpoint was at hand or it
 * was not asked for) are optional and never affect {@code pass}; {@code quantization} (int8/fp8
 * exports only) fails the report when a gathered vector exceeds its rounding bound.
 */
public record VerifyReport(
    String schema,
    String tool_version,
    String model,
    String profile,
    String values_dtype,
    int batch,
    long seed,
    boolean pass,
    List<BackendRun> backends,
    List<Comparison> comparisons,
    @JsonInclude(JsonInclude.Include.NON_NULL) List<MarkedOutput> marked_outputs,
    @JsonInclude(JsonInclude.Include.NON_NULL) MemoryHealth.Report memory_health,
    @JsonInclude(JsonInclude.Include.NON_NULL) QuantizationReport quantization)
    implements ResultHeader {
  public static final String SCHEMA = "msn-export.verify/3";

  /**
   * Schemas {@code compare} reads: /1 lacks the tie bookkeeping of /2 (tie-exempt elements,
   * downstream and set-changing tie queries, min tie_epsilon to pass), read as zeros; /1 and /2
   * lack each comparison's {@code tolerances} and {@code output_set} (/3), read as null.
   */
  public static final java.util.Set<String> READABLE =
      java.util.Set.of("msn-export.verify/1", "msn-export.verify/2", SCHEMA);

  /** The same report with the memory health of the checkpoint (null: none). */
  public VerifyReport withMemoryHealth(MemoryHealth.Report health) {
    return with(pass, marked_outputs, health, quantization);
  }

  /**
   * The same report with the quantization check of an int8/fp8 export (null: none); a check that
   * fails makes the report fail.
   */
  public VerifyReport withQuantization(QuantizationReport q) {
    return with(pass && (q == null || q.pass()), marked_outputs, memory_health, q);
  }

  private VerifyReport with(
      boolean pass, List<MarkedOutput> marked, MemoryHealth.Report health, QuantizationReport q) {
    return new VerifyReport(
        schema,
        tool_version,
        model,
        profile,
        values_dtype,
        batch,
        seed,
        pass,
        backends,
        comparisons,
        marked,
        health,
        q);
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
   * absolute error with both values there. Not tie-exempt: a sample whose slot set changed at a tie
   * differs downstream of that layer (see {@code retrieval[]}).
   */
  @JsonPropertyOrder({
    "name",
    "candidate",
    "reference",
    "skipped",
    "max_abs_at",
    "candidate_value",
    "reference_value",
    "comparison"
  })
  public record MarkedOutput(
      String name,
      String candidate,
      String reference,
      String skipped,
      long[] max_abs_at,
      Double candidate_value,
      Double reference_value,
      OutputComparison comparison) {}

  /**
   * A candidate backend against a reference backend: {@code tolerances} says which precision's
   * tolerances applied (null in reports older than /3), {@code output_set} lists every output that
   * one of the two lacks or gives with another shape or dtype (each fails the comparison; null in
   * reports older than /3), {@code outputs} and {@code retrieval} the outputs both gave alike,
   * compared.
   */
  @JsonPropertyOrder({
    "candidate",
    "reference",
    "pass",
    "tolerances",
    "output_set",
    "outputs",
    "retrieval"
  })
  public record Comparison(
      String candidate,
      String reference,
      boolean pass,
      AppliedTolerances tolerances,
      List<OutputSetMismatch> output_set,
      List<OutputComparison> outputs,
      List<RetrievalComparison> retrieval) {

    /** A comparison whose two backends gave the same outputs, without a note on tolerances. */
    public Comparison(
        String candidate,
        String reference,
        boolean pass,
        List<OutputComparison> outputs,
        List<RetrievalComparison> retrieval) {
      this(candidate, reference, pass, null, List.of(), outputs, retrieval);
    }
  }

  /**
   * The tolerances one comparison applied: those of {@code precision} (the lower precision of its
   * two backends: fp16 when either is fp16) in the profile, with the global {@code --atol}/{@code
   * --rtol}; {@code raised_rtol} lists the outputs whose rtol is above what was asked (retrieval
   * weights: at least {@code 2 * tie_epsilon}). Per-output values are in {@code outputs[]}.
   */
  @JsonPropertyOrder({"precision", "atol", "rtol", "tie_epsilon", "raised_rtol"})
  public record AppliedTolerances(
      String precision,
      double atol,
      double rtol,
      double tie_epsilon,
      List<RaisedRtol> raised_rtol) {
    /** "fp16 tolerances: atol 5.00e-03, rtol 1.00e-02, tie_epsilon 2.90e-02". */
    public String summary() {
      return String.format(
          java.util.Locale.ROOT,
          "%s tolerances: atol %.2e, rtol %.2e, tie_epsilon %.2e",
          precision == null ? "the run's" : precision,
          atol,
          rtol,
          tie_epsilon);
    }

    /**
     * "raised from 1e-05 (reason)" when {@code output}'s rtol was raised above the asked one, else
     * null.
     */
    public String raisedNote(String output) {
      return raised_rtol == null
          ? null
          : raised_rtol.stream()
              .filter(x -> x.output().equals(output))
              .findFirst()
              .map(
                  x ->
                      String.format(
                          java.util.Locale.ROOT,
                          "rtol raised from %.2e to %.2e: %s",
                          x.requested(),
                          x.applied(),
                          x.reason()))
              .orElse(null);
    }
  }

  /** An output whose rtol was raised from {@code requested} to {@code applied}, and why. */
  @JsonPropertyOrder({"output", "requested", "applied", "reason"})
  public record RaisedRtol(String output, double requested, double applied, String reason) {}

  /**
   * An output the two backends do not give alike: each side as {@code "absent"} or its dtype and
   * shape ({@code "float [8, 1]"}, {@code "int64 [8, 4, 2]"}).
   */
  @JsonPropertyOrder({"output", "candidate", "reference"})
  public record OutputSetMismatch(String output, String candidate, String reference) {
    /** One line naming the output and what each of the two backends gives. */
    public String message(String candidateName, String referenceName) {
      return "output "
          + output
          + ": "
          + candidateName
          + " gives "
          + candidate
          + ", "
          + referenceName
          + " gives "
          + reference;
    }
  }
}
