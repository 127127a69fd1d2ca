package dev.msnexport.cli;

import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchGates;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.latency.LatencyGate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What compare prints of two saved results, and its exit code. */
final class CompareSummary {
  private CompareSummary() {}

  /** Bench B against A: the regression gate of bench --baseline; exit 3 on a regression. */
  static int bench(
      Path a,
      Path b,
      BenchReport ra,
      BenchReport rb,
      double regression,
      LatencyGate.Settings gs,
      boolean driftCorrection) {
    System.out.printf(
        Locale.ROOT,
        "compare bench %s -> %s (limit: median of block minima +%.0f%%, %.0f%% bootstrap interval)%n",
        a,
        b,
        regression * 100,
        gs.confidence() * 100);
    System.out.printf(
        Locale.ROOT,
        "  %-14s %6s %11s %11s %8s %11s %11s %8s  %s%n",
        "backend",
        "batch",
        "p50 A",
        "p50 B",
        "delta",
        "p99 A",
        "p99 B",
        "delta",
        "gate");
    List<GateResult> gates = new ArrayList<>();
    // the same rule as bench --baseline: B against A, drift-corrected by B's other backends unless
    // told not to
    List<GateResult> byResult =
        BenchGates.baselineGates(rb.results(), ra, regression, gs, driftCorrection);
    for (int i = 0; i < rb.results().size(); i++) {
      BenchResult y = rb.results().get(i);
      BenchResult x = ra.result(y.backend(), y.batch());
      if (x == null) {
        System.out.printf(Locale.ROOT, "  %-14s %6d  (not in A)%n", y.backend(), y.batch());
        continue;
      }
      GateResult g = byResult.get(i);
      gates.add(g);
      System.out.printf(
          Locale.ROOT,
          "  %-14s %6d %11.4f %11.4f %+7.1f%% %11.4f %11.4f %+7.1f%%  %s [%.3f, %.3f]%n",
          y.backend(),
          y.batch(),
          x.host_ms().p50(),
          y.host_ms().p50(),
          pct(y.host_ms().p50(), x.host_ms().p50()),
          x.host_ms().p99(),
          y.host_ms().p99(),
          pct(y.host_ms().p99(), x.host_ms().p99()),
          g.verdict().toUpperCase(Locale.ROOT),
          g.ci_low(),
          g.ci_high());
    }
    for (BenchResult x : ra.results()) {
      if (rb.result(x.backend(), x.batch()) == null) {
        System.out.printf(Locale.ROOT, "  %-14s %6d  (not in B)%n", x.backend(), x.batch());
      }
    }
    boolean pass = gates.stream().allMatch(GateResult::pass);
    System.out.println("compare: " + (pass ? "PASS" : "FAIL (latency regression)"));
    return pass ? ExitCodes.OK : ExitCodes.LATENCY_GATE;
  }

  /** Verify B beside A; exit 1 when B fails parity. */
  static int verify(Path a, Path b, VerifyReport ra, VerifyReport rb) {
    System.out.printf(
        Locale.ROOT,
        "compare verify %s (%s) -> %s (%s)%n",
        a,
        ra.pass() ? "PASS" : "FAIL",
        b,
        rb.pass() ? "PASS" : "FAIL");
    for (VerifyReport.Comparison cb : rb.comparisons()) {
      VerifyReport.Comparison ca =
          ra.comparisons().stream()
              .filter(
                  c -> c.candidate().equals(cb.candidate()) && c.reference().equals(cb.reference()))
              .findFirst()
              .orElse(null);
      System.out.printf(
          Locale.ROOT,
          "  %s vs %s: %s -> %s%n",
          cb.candidate(),
          cb.reference(),
          ca == null ? "(not in A)" : ca.pass() ? "pass" : "FAIL",
          cb.pass() ? "pass" : "FAIL");
      if (cb.output_set() != null) { // null in reports older than verify/3
        cb.output_set()
            .forEach(
                x -> System.out.println("    B: " + x.message(cb.candidate(), cb.reference())));
      }
      for (OutputComparison ob : cb.outputs()) {
        OutputComparison oa =
            ca == null
                ? null
                : ca.outputs().stream()
                    .filter(o -> o.name().equals(ob.name()))
                    .findFirst()
                    .orElse(null);
        System.out.printf(
            Locale.ROOT,
            "    %-22s max_abs %s -> %.2e   cosine %s -> %.9f%n",
            ob.name(),
            oa == null ? "-" : String.format(Locale.ROOT, "%.2e", oa.max_abs()),
            ob.max_abs(),
            oa == null ? "-" : String.format(Locale.ROOT, "%.9f", oa.cosine()),
            ob.cosine());
      }
      for (RetrievalComparison rcb : cb.retrieval()) {
        RetrievalComparison rca =
            ca == null
                ? null
                : ca.retrieval().stream()
                    .filter(r -> r.layer() == rcb.layer())
                    .findFirst()
                    .orElse(null);
        System.out.printf(
            Locale.ROOT,
            "    retrieval layer %d       identical %s -> %.4f, mismatched queries %s -> %d%n",
            rcb.layer(),
            rca == null ? "-" : String.format(Locale.ROOT, "%.4f", rca.identical_fraction()),
            rcb.identical_fraction(),
            rca == null ? "-" : Integer.toString(rca.mismatched_queries()),
            rcb.mismatched_queries());
      }
    }
    System.out.println("compare: " + (rb.pass() ? "PASS" : "FAIL (B fails parity)"));
    return rb.pass() ? ExitCodes.OK : ExitCodes.PARITY_FAILURE;
  }

  private static double pct(double now, double before) {
    return before == 0 ? 0 : (now / before - 1) * 100;
  }
}
