package dev.msnexport.verifier.latency;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One latency gate: the p99 of {@code candidate} against {@code reference} at one batch size.
 *
 * @param kind {@code baseline_regression} (reference: the same backend in a saved baseline; limit
 *     {@code 1 + max_p99_regression}) or {@code reference_ratio} (reference: the reference graph in
 *     the same run; limit {@code max_p99_ratio})
 * @param candidate_p99_ms p99 of the candidate (reported; the gate decides on {@code statistic})
 * @param ratio the ratio the gate decides on: {@code statistic}(candidate) / {@code
 *     statistic}(reference) on the measured samples
 * @param ci_low lower end of the bootstrap confidence interval of {@code ratio}
 * @param verdict {@code fail} (the ratio is above the limit); {@code suspect} (passes, flagged: the
 *     ratio is within the limit but {@code ci_high} is above it, or {@code p99_ci_low} is above
 *     it); {@code pass}; {@code skipped} (nothing to compare, see message) ({@link LatencyGate})
 * @param statistic what {@code ratio} compares: {@code p50} (the median, trtexec's percentile
 *     rule); null in reports written before the gates decided on the median, whose ratio is the p99
 *     ratio
 * @param candidate_ms {@code statistic} of the candidate
 * @param p99_ratio p99(candidate) / p99(reference), reported beside the deciding ratio
 * @param p99_ci_low lower end of the bootstrap confidence interval of {@code p99_ratio}
 */
@JsonPropertyOrder({
  "name",
  "kind",
  "candidate",
  "reference",
  "batch",
  "limit",
  "candidate_p99_ms",
  "reference_p99_ms",
  "ratio",
  "ci_low",
  "ci_high",
  "confidence",
  "resamples",
  "candidate_samples",
  "reference_samples",
  "verdict",
  "pass",
  "message",
  "statistic",
  "candidate_ms",
  "reference_ms",
  "p99_ratio",
  "p99_ci_low",
  "p99_ci_high"
})
public record GateResult(
    String name,
    String kind,
    String candidate,
    String reference,
    int batch,
    double limit,
    Double candidate_p99_ms,
    Double reference_p99_ms,
    Double ratio,
    Double ci_low,
    Double ci_high,
    double confidence,
    int resamples,
    int candidate_samples,
    int reference_samples,
    String verdict,
    boolean pass,
    String message,
    String statistic,
    Double candidate_ms,
    Double reference_ms,
    Double p99_ratio,
    Double p99_ci_low,
    Double p99_ci_high,
    Double machine_drift) {
  public static final String BASELINE_REGRESSION = "baseline_regression";
  public static final String REFERENCE_RATIO = "reference_ratio";

  /** A gate with nothing to compare: {@code why} says what is missing. */
  public static GateResult skipped(
      String name, String kind, String cand, String ref, int batch, double limit, String why) {
    return new GateResult(
        name, kind, cand, ref, batch, limit, null, null, null, null, null, 0, 0, 0, 0, "skipped",
        true, why, null, null, null, null, null, null, null);
  }
}
