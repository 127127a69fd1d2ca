package dev.msnexport.verifier.latency;

import dev.msnexport.verifier.backend.BackendSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The gates of a bench run ({@link LatencyGate}): each candidate against its reference graph
 * measured in the same run ({@code max_p99_ratio}), and every backend against a saved baseline
 * ({@code max_p99_regression}), drift-corrected unless turned off.
 *
 * @param maxRatio the limit of candidate / reference graph; 0 turns those gates off
 * @param baseline the saved result to gate regressions against; or null
 * @param maxRegression the allowed growth against the baseline (0.10: 10%)
 * @param driftCorrection scale each baseline by the machine's drift first
 * @param settings the bootstrap's settings
 */
public record BenchGates(
    double maxRatio,
    BenchReport baseline,
    double maxRegression,
    boolean driftCorrection,
    LatencyGate.Settings settings) {

  /** Every gate of these results at these batch sizes. */
  public List<GateResult> of(List<BenchResult> results, List<Integer> sizes) {
    List<GateResult> g = new ArrayList<>();
    if (maxRatio > 0) {
      g.addAll(ratioGates(results, sizes, maxRatio, settings));
    }
    if (baseline != null) {
      g.addAll(baselineGates(results, baseline, maxRegression, settings, driftCorrection));
    }
    return g;
  }

  /** The reference-graph spec of a result's backend; null for none or a name that is no spec. */
  static BackendSpec referenceOf(String backend) {
    BackendSpec s = specOf(backend);
    return s == null ? null : s.reference();
  }

  private static BackendSpec specOf(String backend) {
    try {
      return BackendSpec.parse(backend);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Each candidate against its reference graph, measured in this run ({@link
   * BackendSpec#reference})).
   */
  public static List<GateResult> ratioGates(
      List<BenchResult> results, List<Integer> sizes, double maxRatio, LatencyGate.Settings gs) {
    List<GateResult> gates = new ArrayList<>();
    for (int batch : sizes) {
      for (BenchResult cand : results) {
        BackendSpec refSpec = referenceOf(cand.backend());
        if (cand.batch() != batch || refSpec == null) {
          continue;
        }
        results.stream()
            .filter(r -> r.batch() == batch && refSpec.equals(specOf(r.backend())))
            .findFirst()
            .ifPresent(
                ref ->
                    gates.add(
                        LatencyGate.ratio(
                            cand.backend(),
                            ref.backend(),
                            batch,
                            cand.samples_ns(),
                            ref.samples_ns(),
                            maxRatio,
                            gs)));
      }
    }
    return gates;
  }

  /**
   * As {@link #baselineGates(List, BenchReport, double, LatencyGate.Settings, boolean)},
   * drift-corrected.
   */
  public static List<GateResult> baselineGates(
      List<BenchResult> results, BenchReport old, double maxRegression, LatencyGate.Settings gs) {
    return baselineGates(results, old, maxRegression, gs, true);
  }

  /**
   * Every backend and batch of this run against the same in the baseline; missing pairs are skipped
   * gates. With {@code driftCorrection}, each baseline is first scaled by the machine's drift seen
   * on the run's other backends at that batch ({@link LatencyGate#drift}).
   */
  public static List<GateResult> baselineGates(
      List<BenchResult> results,
      BenchReport old,
      double maxRegression,
      LatencyGate.Settings gs,
      boolean driftCorrection) {
    List<GateResult> gates = new ArrayList<>();
    for (BenchResult r : results) {
      BenchResult b = old.result(r.backend(), r.batch());
      if (b == null) {
        gates.add(
            GateResult.skipped(
                String.format(Locale.ROOT, "p99 regression %s batch %d", r.backend(), r.batch()),
                GateResult.BASELINE_REGRESSION,
                r.backend(),
                "baseline:" + r.backend(),
                r.batch(),
                1 + maxRegression,
                "the baseline has no result for " + r.backend() + " at batch " + r.batch()));
      } else {
        List<String> names = new ArrayList<>();
        List<long[][]> others = new ArrayList<>();
        for (BenchResult o : results) {
          BenchResult ob =
              o.batch() == r.batch() && !o.backend().equals(r.backend())
                  ? old.result(o.backend(), o.batch())
                  : null;
          if (driftCorrection && ob != null) {
            names.add(o.backend());
            others.add(new long[][] {o.samples_ns(), ob.samples_ns()});
          }
        }
        double drift = LatencyGate.drift(others);
        String note =
            !driftCorrection
                ? null
                : others.isEmpty()
                    ? "no drift correction: no other backend of this run is in the baseline at this batch"
                    : String.format(
                        Locale.ROOT,
                        "baseline scaled by the machine's drift %.3f (seen on %s)",
                        drift,
                        String.join(", ", names));
        gates.add(
            LatencyGate.regression(
                r.backend(),
                r.batch(),
                r.samples_ns(),
                b.samples_ns(),
                maxRegression,
                drift,
                note,
                gs));
      }
    }
    return gates;
  }
}
