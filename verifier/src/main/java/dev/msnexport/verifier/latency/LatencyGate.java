package dev.msnexport.verifier.latency;

import dev.msnexport.common.Percentiles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The latency gates CI can trust, decided on the ratio of a quiet summary of each side, the median
 * of block minima, with the p99 ratio beside it for information (docs/robustness.md, "The latency
 * gate, measured").
 *
 * <p>The summary: a side's samples, in the order they were timed, are cut into blocks of {@value
 * #BLOCK} consecutive runs (a last, shorter block keeps the rest); each block gives its fastest
 * run; the summary is the median of those minima (trtexec's percentile rule at 50). A run the
 * machine interrupted (preempted, cache-thrashed by a neighbour) is almost never the fastest of its
 * block, so the summary is the latency of the runs the machine left alone: it moves with the work
 * each run does, and barely with the machine.
 *
 * <p>Why not the p99, nor the plain median: on a loaded machine the p99 of a sub-millisecond
 * inference is how long the scheduler kept the process waiting, not the time the code needs; two
 * identical backends then show p99 ratios far from 1 from run to run, and a 20% slower candidate
 * often shows none. In bursts of heavy load more than half the runs are interrupted and even the
 * median of whole runs moves. Measured with injected slowdowns, only the median of block minima
 * kept the false alarms at 0% extra work and the catches at 20% within the targets.
 *
 * <p>The rule, for a limit L on the ratio candidate / reference of that summary:
 *
 * <ul>
 *   <li>{@code fail} when the measured ratio is above L, whatever its confidence interval (a ratio
 *       above the limit is never waved through for lack of certainty);
 *   <li>{@code suspect} (passes, flagged) when the ratio is within L but the upper end of its
 *       bootstrap interval is above L (too few samples to be sure it is within), or when the p99
 *       ratio is above L with confidence (the tail grew while the typical run did not: a disturbed
 *       machine, or a regression of a few runs only; look at the p99);
 *   <li>{@code pass} otherwise.
 * </ul>
 */
public final class LatencyGate {
  /** Bootstrap settings shared by every gate of a run. */
  public record Settings(int resamples, double confidence, long seed) {
    public Settings {
      if (resamples < 1 || !(confidence > 0 && confidence < 1)) {
        throw new IllegalArgumentException(
            "need resamples >= 1 and 0 < confidence < 1, got " + resamples + " and " + confidence);
      }
    }

    public static Settings defaults() {
      return new Settings(2000, 0.95, 0);
    }
  }

  /** Consecutive runs per block: the gates decide on the median of the blocks' minima. */
  public static final int BLOCK = 5;

  /**
   * Percentile of the block minima the gates decide on: the median, by trtexec's percentile rule.
   */
  public static final double DECIDING_PERCENTILE = 50;

  /**
   * Percentile the gates report beside it (and flag as suspect when it is above the limit with
   * confidence).
   */
  public static final double PERCENTILE = 99;

  /** The {@code statistic} of a gate decided by the median of block minima. */
  public static final String STATISTIC = "p50_of_block_minima_" + BLOCK;

  private LatencyGate() {}

  /**
   * p99 against the same backend and batch in a saved baseline; fails above {@code 1 +
   * maxRegression}, with the baseline scaled by {@code drift} (1.0: none): how much slower this
   * machine ran now than when the baseline was measured, seen on the run's other backends ({@link
   * #drift}). A whole machine that runs 1.45x slower for a while is then no regression of one
   * backend; a regression of every backend alike goes unseen too (turn the correction off for that:
   * {@code bench --no-drift-correction}). {@code driftNote} (null: none) says where the drift came
   * from.
   */
  public static GateResult regression(
      String backend,
      int batch,
      long[] candidateNs,
      long[] baselineNs,
      double maxRegression,
      double drift,
      String driftNote,
      Settings s) {
    if (!(Double.isFinite(drift) && drift > 0)) {
      throw new IllegalArgumentException(
          "machine drift must be a finite positive factor, got " + drift);
    }
    String name = String.format(Locale.ROOT, "p99 regression %s batch %d", backend, batch);
    long[] base = baselineNs;
    if (drift != 1.0) {
      base = new long[baselineNs.length];
      for (int i = 0; i < base.length; i++) {
        base[i] = Math.round(baselineNs[i] * drift);
      }
    }
    GateResult g =
        gate(
            name,
            GateResult.BASELINE_REGRESSION,
            backend,
            "baseline:" + backend,
            batch,
            candidateNs,
            base,
            1 + maxRegression,
            s);
    if (driftNote == null || g.verdict().equals("skipped")) {
      return g;
    }
    return copy(g, g.verdict(), g.message() + "; " + driftNote, drift);
  }

  /** The typical time of one run, as the gates see it: the median of the block minima (ns). */
  public static double typical(long[] samplesNs) {
    long[] m = blockMinima(samplesNs);
    Arrays.sort(m);
    return Percentiles.of(m, DECIDING_PERCENTILE);
  }

  /**
   * How much slower the machine ran now than at the baseline: the median, over {@code others}
   * (pairs of {now, baseline} samples of other backends of the same run and batch), of each one's
   * typical time now over its typical time then; 1 when there are none.
   */
  public static double drift(List<long[][]> others) {
    double[] r =
        others.stream()
            .filter(o -> o[0].length > 0 && o[1].length > 0)
            .mapToDouble(o -> typical(o[0]) / typical(o[1]))
            .sorted()
            .toArray();
    if (r.length == 0) {
      return 1.0;
    }
    return r.length % 2 == 1 ? r[r.length / 2] : Math.sqrt(r[r.length / 2 - 1] * r[r.length / 2]);
  }

  /**
   * p99 of a candidate against the reference graph measured in the same run; fails above {@code
   * maxRatio}.
   */
  public static GateResult ratio(
      String candidate,
      String reference,
      int batch,
      long[] candidateNs,
      long[] referenceNs,
      double maxRatio,
      Settings s) {
    String name =
        String.format(Locale.ROOT, "p99 ratio %s/%s batch %d", candidate, reference, batch);
    return gate(
        name,
        GateResult.REFERENCE_RATIO,
        candidate,
        reference,
        batch,
        candidateNs,
        referenceNs,
        maxRatio,
        s);
  }

  static GateResult gate(
      String name,
      String kind,
      String candidate,
      String reference,
      int batch,
      long[] cand,
      long[] ref,
      double limit,
      Settings s) {
    if (!Double.isFinite(limit)
        || !(limit > 0)) { // a NaN limit would pass every ratio: refuse it whoever asks
      throw new IllegalArgumentException(
          "gate " + name + ": the limit must be a finite positive number, got " + limit);
    }
    if (cand.length == 0 || ref.length == 0) {
      return GateResult.skipped(name, kind, candidate, reference, batch, limit, "no samples");
    }
    // a different seed per gate, derived from its name, so gates do not share resampling noise
    long seed = s.seed() * 0x9E3779B97F4A7C15L ^ name.hashCode();
    long[] cmin = blockMinima(cand);
    long[] rmin = blockMinima(ref);
    Bootstrap.Interval med =
        Bootstrap.percentileRatio(
            cmin, rmin, DECIDING_PERCENTILE, s.resamples(), s.confidence(), seed);
    Bootstrap.Interval tail =
        Bootstrap.percentileRatio(cand, ref, PERCENTILE, s.resamples(), s.confidence(), ~seed);
    Arrays.sort(cmin);
    Arrays.sort(rmin);
    double cm = Percentiles.of(cmin, DECIDING_PERCENTILE) / 1e6;
    double rm = Percentiles.of(rmin, DECIDING_PERCENTILE) / 1e6;
    long[] c = cand.clone();
    long[] r = ref.clone();
    Arrays.sort(c);
    Arrays.sort(r);
    double cp = Percentiles.of(c, PERCENTILE) / 1e6;
    double rp = Percentiles.of(r, PERCENTILE) / 1e6;
    int pct = (int) Math.round(s.confidence() * 100);
    String figures =
        String.format(
            Locale.ROOT,
            "median of block minima %.4f ms vs %.4f ms: ratio %.3f, %d%% CI [%.3f, %.3f], limit "
                + "%.3f; p99 ratio %.3f (%.4f ms vs %.4f ms, %d%% CI [%.3f, %.3f])",
            cm,
            rm,
            med.point(),
            pct,
            med.low(),
            med.high(),
            limit,
            tail.point(),
            cp,
            rp,
            pct,
            tail.low(),
            tail.high());
    String verdict;
    String why;
    if (med.point() > limit) {
      verdict = "fail";
      why = "the ratio is above the limit";
    } else if (med.high() > limit) {
      verdict = "suspect";
      why =
          "the ratio is within the limit, but its interval reaches above it (more samples decide)";
    } else if (tail.low() > limit) {
      verdict = "suspect";
      why =
          "the ratio is within the limit, the p99 ratio is above it with confidence (a disturbed machine, or a regression of "
              + "a few runs only)";
    } else {
      verdict = "pass";
      why = null;
    }
    String msg = why == null ? figures : figures + ": " + why;
    int fewest = Math.min(cand.length, ref.length);
    if (Percentiles.index(fewest, PERCENTILE) == fewest - 1) {
      msg += String.format(Locale.ROOT, " (only %d samples: p99 is the maximum)", fewest);
    }
    return new GateResult(
        name,
        kind,
        candidate,
        reference,
        batch,
        limit,
        cp,
        rp,
        med.point(),
        med.low(),
        med.high(),
        s.confidence(),
        s.resamples(),
        cand.length,
        ref.length,
        verdict,
        !verdict.equals("fail"),
        msg,
        STATISTIC,
        cm,
        rm,
        tail.point(),
        tail.low(),
        tail.high(),
        null);
  }

  /**
   * The gates of a run whose failures were timed again ({@code second}: the same gates of the
   * second run): a gate that failed fails only when it fails again (its message gives both runs);
   * one that passed the second time is {@code suspect}. Gates that passed are kept.
   */
  public static List<GateResult> confirmed(List<GateResult> first, List<GateResult> second) {
    List<GateResult> out = new ArrayList<>();
    for (GateResult g : first) {
      GateResult again =
          g.pass()
              ? null
              : second.stream().filter(x -> x.name().equals(g.name())).findFirst().orElse(null);
      if (again == null) {
        out.add(g);
      } else {
        String format =
            again.pass()
                ? "failed in the first run (ratio %.3f), not in a second run: %s"
                : "confirmed by a second run (first run: ratio %.3f): %s";
        out.add(
            copy(
                again,
                again.pass() ? "suspect" : "fail",
                String.format(Locale.ROOT, format, g.ratio(), again.message()),
                again.machine_drift()));
      }
    }
    return out;
  }

  /**
   * The fastest run of each block of {@link #BLOCK} consecutive samples (a last, shorter block
   * keeps the rest), in order.
   */
  static long[] blockMinima(long[] samples) {
    long[] out = new long[(samples.length + BLOCK - 1) / BLOCK];
    for (int b = 0; b < out.length; b++) {
      long m = Long.MAX_VALUE;
      for (int i = b * BLOCK; i < Math.min(samples.length, (b + 1) * BLOCK); i++) {
        m = Math.min(m, samples[i]);
      }
      out[b] = m;
    }
    return out;
  }

  /**
   * {@code g} with another verdict, message and machine drift ({@code pass} follows the verdict:
   * only {@code fail} fails); every figure is kept.
   */
  private static GateResult copy(GateResult g, String verdict, String message, Double drift) {
    return new GateResult(
        g.name(),
        g.kind(),
        g.candidate(),
        g.reference(),
        g.batch(),
        g.limit(),
        g.candidate_p99_ms(),
        g.reference_p99_ms(),
        g.ratio(),
        g.ci_low(),
        g.ci_high(),
        g.confidence(),
        g.resamples(),
        g.candidate_samples(),
        g.reference_samples(),
        verdict,
        !verdict.equals("fail"),
        message,
        g.statistic(),
        g.candidate_ms(),
        g.reference_ms(),
        g.p99_ratio(),
        g.p99_ci_low(),
        g.p99_ci_high(),
        drift);
  }
}
