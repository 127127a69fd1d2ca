package dev.msnexport.verifier.latency;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The latency gates CI can trust: a gate fails only when the p99 ratio is above its limit with
 * statistical confidence, i.e. when the lower end of the bootstrap confidence interval of
 * p99(candidate) / p99(reference) is above the limit ({@link Bootstrap}). One noisy p99 never fails
 * a build; a real regression does, once there are enough samples to see it.
 */
public final class LatencyGate {
  /** Bootstrap settings shared by every gate of a run. */
  public record Settings(int resamples, double confidence, long seed) {
    public Settings {
      if (resamples < 1 || !(confidence > 0 && confidence < 1)) {
        throw new IllegalArgumentException("need resamples >= 1 and 0 < confidence < 1, got " + resamples + " and " + confidence);
      }
    }

    public static Settings defaults() {
      return new Settings(2000, 0.95, 0);
    }
  }

  /**
   * The reference-graph backend a candidate is held against in the same run ({@code
   * max_p99_ratio}): our custom ops against the standard-op graph, on each runtime. {@code
   * ort-custom -> ort-reference}; a TensorRT spec ({@code trt[:fp32|fp16][:custom]}) -> the same
   * spec with {@code :reference} ({@code trt -> trt:reference}, {@code trt:fp16 ->
   * trt:fp16:reference}). Null when the backend is no candidate (a reference graph, the golden model).
   */
  public static String referenceOf(String backend) {
    if (backend.equals("ort-custom")) {
      return "ort-reference";
    }
    if (backend.equals("trt") || backend.startsWith("trt:")) {
      List<String> parts = new ArrayList<>(Arrays.asList(backend.split(":")));
      if (parts.contains("reference")) {
        return null;
      }
      parts.remove("custom");
      parts.add("reference");
      return String.join(":", parts);
    }
    return null;
  }

  /** Percentile the gates look at. */
  public static final double PERCENTILE = 99;

  private LatencyGate() {}

  /** p99 against the same backend and batch in a saved baseline; fails above {@code 1 + maxRegression}. */
  public static GateResult regression(String backend, int batch, long[] candidateNs, long[] baselineNs, double maxRegression,
      Settings s) {
    String name = String.format(Locale.ROOT, "p99 regression %s batch %d", backend, batch);
    return gate(name, GateResult.BASELINE_REGRESSION, backend, "baseline:" + backend, batch, candidateNs, baselineNs,
        1 + maxRegression, s);
  }

  /** p99 of a candidate against the reference graph measured in the same run; fails above {@code maxRatio}. */
  public static GateResult ratio(String candidate, String reference, int batch, long[] candidateNs, long[] referenceNs,
      double maxRatio, Settings s) {
    String name = String.format(Locale.ROOT, "p99 ratio %s/%s batch %d", candidate, reference, batch);
    return gate(name, GateResult.REFERENCE_RATIO, candidate, reference, batch, candidateNs, referenceNs, maxRatio, s);
  }

  static GateResult gate(String name, String kind, String candidate, String reference, int batch, long[] cand, long[] ref,
      double limit, Settings s) {
    if (!Double.isFinite(limit) || !(limit > 0)) { // a NaN limit would pass every ratio: refuse it whoever asks
      throw new IllegalArgumentException("gate " + name + ": the limit must be a finite positive number, got " + limit);
    }
    if (cand.length == 0 || ref.length == 0) {
      return GateResult.skipped(name, kind, candidate, reference, batch, limit, "no samples");
    }
    // a different seed per gate, derived from its name, so gates do not share resampling noise
    long seed = s.seed() * 0x9E3779B97F4A7C15L ^ name.hashCode();
    Bootstrap.Interval ci = Bootstrap.percentileRatio(cand, ref, PERCENTILE, s.resamples(), s.confidence(), seed);
    long[] c = cand.clone();
    long[] r = ref.clone();
    java.util.Arrays.sort(c);
    java.util.Arrays.sort(r);
    double cp = Percentiles.of(c, PERCENTILE) / 1e6;
    double rp = Percentiles.of(r, PERCENTILE) / 1e6;
    String verdict;
    String msg;
    String interval = String.format(Locale.ROOT, "ratio %.3f, %.0f%% CI [%.3f, %.3f], limit %.3f", ci.point(), s.confidence() * 100,
        ci.low(), ci.high(), limit);
    if (ci.low() > limit) {
      verdict = "fail";
      msg = String.format(Locale.ROOT, "p99 %.4f ms vs %.4f ms: %s: above the limit with confidence", cp, rp, interval);
    } else if (ci.point() > limit) {
      verdict = "suspect";
      msg = String.format(Locale.ROOT, "p99 %.4f ms vs %.4f ms: %s: above the limit but not significantly (more samples decide)",
          cp, rp, interval);
    } else {
      verdict = "pass";
      msg = String.format(Locale.ROOT, "p99 %.4f ms vs %.4f ms: %s", cp, rp, interval);
    }
    int fewest = Math.min(cand.length, ref.length);
    if (Percentiles.index(fewest, PERCENTILE) == fewest - 1) {
      msg += String.format(Locale.ROOT, " (only %d samples: p99 is the maximum, the interval is wide)", fewest);
    }
    return new GateResult(name, kind, candidate, reference, batch, limit, cp, rp, ci.point(), ci.low(), ci.high(), s.confidence(),
        s.resamples(), cand.length, ref.length, verdict, !verdict.equals("fail"), msg);
  }
}
