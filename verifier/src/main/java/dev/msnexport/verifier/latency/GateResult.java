package dev.msnexport.verifier.latency;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One latency gate: the p99 of {@code candidate} against {@code reference} at one batch size.
 *
 * @param kind {@code baseline_regression} (reference: the same backend in a saved baseline; limit
 *     {@code 1 + max_p99_regression}) or {@code reference_ratio} (reference: the reference graph in
 *     the same run; limit {@code max_p99_ratio})
 * @param ratio p99(candidate) / p99(reference) on the measured samples
 * @param ci_low lower end of the bootstrap confidence interval of the ratio
 * @param verdict {@code pass}; {@code suspect} (the ratio is above the limit but the interval
 *     reaches below it: not significant, passes); {@code fail} (the whole interval is above the
 *     limit); {@code skipped} (nothing to compare, see message)
 */
@JsonPropertyOrder({"name", "kind", "candidate", "reference", "batch", "limit", "candidate_p99_ms", "reference_p99_ms", "ratio",
    "ci_low", "ci_high", "confidence", "resamples", "candidate_samples", "reference_samples", "verdict", "pass", "message"})
public record GateResult(String name, String kind, String candidate, String reference, int batch, double limit,
    Double candidate_p99_ms, Double reference_p99_ms, Double ratio, Double ci_low, Double ci_high, double confidence, int resamples,
    int candidate_samples, int reference_samples, String verdict, boolean pass, String message) {
  public static final String BASELINE_REGRESSION = "baseline_regression";
  public static final String REFERENCE_RATIO = "reference_ratio";

  public static GateResult skipped(String name, String kind, String candidate, String reference, int batch, double limit,
      String why) {
    return new GateResult(name, kind, candidate, reference, batch, limit, null, null, null, null, null, 0, 0, 0, 0, "skipped", true,
        why);
  }
}
