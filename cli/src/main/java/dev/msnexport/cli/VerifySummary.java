package dev.msnexport.cli;

import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.report.MarkdownReport;
import java.util.Locale;

/** What verify and pipeline print of a {@link VerifyReport}. */
final class VerifySummary {
  private VerifySummary() {}

  /**
   * One line on stderr when report.html was written without its plots ({@code why} null: nothing).
   */
  static void warnChartsSkipped(String why) {
    if (why != null) {
      System.err.println(
          "msn-export: warning: " + dev.msnexport.verifier.report.Plots.skippedLine(why));
    }
  }

  static void printSummary(VerifyReport r) {
    System.out.printf(
        Locale.ROOT,
        "verify %s (profile %s, values %s, batch %d, seed %d): %s%n",
        r.model(),
        r.profile(),
        r.values_dtype(),
        r.batch(),
        r.seed(),
        r.pass() ? "PASS" : "FAIL");
    for (VerifyReport.BackendRun b : r.backends()) {
      if (!b.status().equals("ok")) {
        System.out.printf(
            Locale.ROOT,
            "  %-14s %s: %s%n",
            b.name(),
            b.status().toUpperCase(Locale.ROOT),
            b.error());
      }
    }
    for (VerifyReport.Comparison c : r.comparisons()) {
      System.out.printf(
          Locale.ROOT,
          "  %-14s vs %-14s %s%s%n",
          c.candidate(),
          c.reference(),
          c.pass() ? "pass" : "FAIL",
          c.tolerances() == null ? "" : "  (" + c.tolerances().summary() + ")");
      for (VerifyReport.OutputSetMismatch x : c.output_set()) {
        System.out.printf(Locale.ROOT, "    FAIL %s%n", x.message(c.candidate(), c.reference()));
      }
      for (OutputComparison o : c.outputs()) {
        System.out.printf(
            Locale.ROOT,
            "    %-22s max_abs %.2e  max_rel %.2e  cosine %.9f  atol %.1e rtol %.1e%s  %s%s%n",
            o.name(),
            o.max_abs(),
            o.max_rel(),
            o.cosine(),
            o.atol(),
            o.rtol(),
            c.tolerances() == null || c.tolerances().raisedNote(o.name()) == null
                ? ""
                : " (raised: note below)",
            o.pass()
                ? "ok"
                : "FAIL ("
                    + o.failing_elements()
                    + " elements; min atol to pass "
                    + o.min_atol_to_pass()
                    + ")",
            o.tie_exempt_elements() == 0
                ? ""
                : o.tie_exempt_elements() == o.elements()
                    ? String.format(
                        Locale.ROOT,
                        "  (all %d tie-exempt, max_abs %.2e: nothing left to compare)",
                        o.elements(),
                        o.tie_exempt_max_abs())
                    : String.format(
                        Locale.ROOT,
                        "  (%d tie-exempt, max_abs %.2e)",
                        o.tie_exempt_elements(),
                        o.tie_exempt_max_abs()));
      }
      for (RetrievalComparison rc : c.retrieval()) {
        System.out.printf(
            Locale.ROOT,
            "    retrieval layer %d       %d/%d queries identical, %d tie (%d change the set), %d mismatched%s"
                + " (largest gap %.2e, tie_epsilon %.2e, %s)  %s%n",
            rc.layer(),
            rc.identical_queries(),
            rc.queries(),
            rc.tie_queries(),
            rc.set_changing_tie_queries(),
            rc.mismatched_queries(),
            rc.downstream_queries() == 0
                ? ""
                : ", " + rc.downstream_queries() + " downstream of a tie",
            rc.min_tie_epsilon_to_pass(),
            rc.tie_epsilon(),
            rc.score_source(),
            rc.pass() ? "ok" : "FAIL: " + rc.first_mismatch());
      }
    }
    for (String note : MarkdownReport.raisedNotes(r)) {
      System.out.println("  note: " + note);
    }
    printMarkedOutputs(r);
    if (r.quantization() != null) {
      r.quantization().lines().forEach(System.out::println);
    }
    if (r.memory_health() != null) {
      r.memory_health().lines().forEach(System.out::println);
    }
  }

  /** The marked tensors' comparisons (verify --mark-outputs), apart from the verdict. */
  static void printMarkedOutputs(VerifyReport r) {
    if (r.marked_outputs() == null) {
      return;
    }
    System.out.println(
        "  marked outputs (diagnostics at the same atol/rtol; never part of the verdict):");
    for (VerifyReport.MarkedOutput mo : r.marked_outputs()) {
      if (mo.skipped() != null) {
        System.out.printf(
            Locale.ROOT,
            "    %-14s vs %-14s marked output %s: %s, skipped%n",
            mo.candidate(),
            mo.reference(),
            mo.name(),
            mo.skipped());
        continue;
      }
      OutputComparison o = mo.comparison();
      System.out.printf(
          Locale.ROOT,
          "    %-14s vs %-14s %s %s  max_abs %.2e  max_rel %.2e  max_abs at %s (%.9g vs %.9g)  %s%n",
          mo.candidate(),
          mo.reference(),
          o.name(),
          java.util.Arrays.toString(o.shape()),
          o.max_abs(),
          o.max_rel(),
          java.util.Arrays.toString(mo.max_abs_at()),
          mo.candidate_value(),
          mo.reference_value(),
          o.pass()
              ? "within atol/rtol"
              : "beyond atol/rtol in "
                  + o.failing_elements()
                  + " of "
                  + o.elements()
                  + " elements");
    }
  }
}
