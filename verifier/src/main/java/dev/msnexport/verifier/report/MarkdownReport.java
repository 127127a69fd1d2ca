package dev.msnexport.verifier.report;

import dev.msnexport.parity.OutputComparison;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.FloorRow;
import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.latency.LayerProfile;
import dev.msnexport.verifier.quant.QuantizationReport;
import java.util.List;
import java.util.Locale;

/**
 * The short Markdown summary (report.md): what passed, the key figures, error histograms as text.
 */
public final class MarkdownReport {
  /** Width of the longest bar of a text histogram. */
  static final int BAR = 40;

  private MarkdownReport() {}

  public static String verify(VerifyReport r) {
    StringBuilder b = new StringBuilder();
    b.append("# msn-export verify: ").append(r.pass() ? "PASS" : "FAIL").append("\n\n");
    b.append(
        f(
            "Model `%s`, profile `%s`, values %s, batch %d, seed %d.%n%n",
            r.model(), r.profile(), r.values_dtype(), r.batch(), r.seed()));
    b.append("| backend | status | seconds |\n| --- | --- | ---: |\n");
    for (VerifyReport.BackendRun run : r.backends()) {
      b.append(
          f(
              "| %s | %s | %.3f |%n",
              run.name(),
              run.status().equals("ok") ? "ok" : "**" + run.status() + "**: " + cell(run.error()),
              run.seconds()));
    }
    b.append("\n## Comparisons\n\n");
    b.append(
        "Each pair uses the tolerances of the lower precision of its two backends (fp16 when either is fp16). Outputs that "
            + "one backend lacks or gives with another shape or dtype fail the pair.\n\n");
    b.append(
        "| candidate | reference | tolerances | outputs not given alike | result |\n| --- | --- | --- | --- | --- |\n");
    for (VerifyReport.Comparison c : r.comparisons()) {
      b.append(
          f(
              "| %s | %s | %s | %s | %s |%n",
              c.candidate(),
              c.reference(),
              c.tolerances() == null ? "" : c.tolerances().summary(),
              c.output_set() == null || c.output_set().isEmpty()
                  ? "none"
                  : cell(
                      String.join(
                          "; ",
                          c.output_set().stream()
                              .map(x -> x.message(c.candidate(), c.reference()))
                              .toList())),
              c.pass() ? "pass" : "**FAIL**"));
    }
    List<String> raised = raisedNotes(r);
    if (!raised.isEmpty()) {
      b.append("\nRaised tolerances:\n\n");
      raised.forEach(line -> b.append("- ").append(line).append('\n'));
    }
    b.append("\n## Outputs\n\n");
    b.append(
        "| candidate | reference | output | max abs | p99 abs | max rel | cosine | atol / rtol applied | min atol to pass | result |\n");
    b.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    // the Markdown table leaves out mean abs (cell 5)
    VerifyRows.append(
        b,
        "| %1$s | %2$s | %3$s | %4$.2e | %6$.2e | %7$.2e | %8$.9f | %9$.2e / %10$.2e%11$s | %12$.2e | %13$s |%n",
        VerifyRows.outputs(
            r,
            t -> t,
            o ->
                (o.pass() ? "pass" : "**FAIL** (" + o.failing_elements() + "/" + o.elements() + ")")
                    + tieExempt(o)));
    boolean anyRetrieval = r.comparisons().stream().anyMatch(c -> !c.retrieval().isEmpty());
    if (anyRetrieval) {
      b.append("\n## Retrieval\n\n");
      b.append(
          "A differing slot is a *tie* when the two slots' scores differ by at most tie_epsilon (a legitimate order), ");
      b.append(
          "a *mismatch* otherwise. A tie that changes a query's slot set makes its sample diverge: its later layers ");
      b.append(
          "(*downstream of a tie*) and its outputs (*tie-exempt*) are left out of the checks and counted apart.\n\n");
      b.append(
          "| candidate | reference | layer | queries | identical | tie (set changed) | mismatched | downstream of a tie | result |\n");
      b.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
      VerifyRows.append(
          b,
          "| %s | %s | %d | %d | %d | %d (%d) | %d | %d | %s |%n",
          VerifyRows.retrieval(
              r, t -> t, rc -> rc.pass() ? "pass" : "**FAIL**: " + cell(rc.first_mismatch())));
    }
    if (r.marked_outputs() != null) {
      b.append("\n## Marked outputs\n\n");
      b.append(
          "Intermediate tensors marked as extra outputs (`--mark-outputs`): diagnostics at the same atol/rtol, never part of ");
      b.append("the verdict.\n\n");
      b.append(
          "| candidate | reference | tensor | shape | max abs | max rel | max abs at (candidate vs reference) | atol/rtol |\n");
      b.append("| --- | --- | --- | --- | ---: | ---: | --- | --- |\n");
      for (VerifyReport.MarkedOutput m : r.marked_outputs()) {
        OutputComparison o = m.comparison();
        b.append(
            o == null
                ? f(
                    "| %s | %s | `%s` | | | | skipped: %s | |%n",
                    m.candidate(), m.reference(), m.name(), cell(m.skipped()))
                : f(
                    "| %s | %s | `%s` | %s | %.2e | %.2e | %s (%.9g vs %.9g) | %s |%n",
                    m.candidate(),
                    m.reference(),
                    m.name(),
                    java.util.Arrays.toString(o.shape()),
                    o.max_abs(),
                    o.max_rel(),
                    java.util.Arrays.toString(m.max_abs_at()),
                    m.candidate_value(),
                    m.reference_value(),
                    o.pass()
                        ? "within"
                        : "beyond in " + o.failing_elements() + "/" + o.elements()));
      }
    }
    if (r.memory_health() != null) {
      b.append("\n## Memory health\n\n");
      b.append(
          f(
              "%d random samples (seed %d); a collapse warns and never fails the run.%n%n",
              r.memory_health().samples(), r.memory_health().seed()));
      b.append(
          "| layer | slots used | of | fraction | uniform draws would cover | entropy (of log n) | top 1% share | warnings |\n");
      b.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
      VerifyRows.append(
          b,
          "| %d | %d | %d | %s | %.1f%% | %.3f | %.1f%% | %s |%n",
          VerifyRows.memoryHealth(
              r.memory_health(), w -> "**WARNING**: " + cell(String.join("; ", w))));
    }
    if (r.quantization() != null) {
      QuantizationReport q = r.quantization();
      b.append("\n## Quantization (")
          .append(q.values_dtype())
          .append(" value tables): ")
          .append(q.pass() ? "PASS" : "**FAIL**")
          .append(
              "\n\nGathered vectors against the checkpoint's rows, within the rounding bound of docs/model-contract.md.\n\n");
      b.append(
          "| layer | elements | max abs error | max bound | max error / bound | over bound |\n");
      b.append("| ---: | ---: | ---: | ---: | ---: | ---: |\n");
      VerifyRows.append(b, "| %d | %d | %.3e | %.3e | %.3f | %d |%n", VerifyRows.quantization(q));
      q.task_max_abs_error()
          .forEach(
              (t, e) ->
                  b.append(
                      f(
                          "%nTask %s: max abs change %.3e (quantized vs checkpoint tables).%n",
                          t, e)));
    }
    b.append("\n## Absolute-error histograms\n");
    for (VerifyReport.Comparison c : r.comparisons()) {
      b.append("\n### ")
          .append(c.candidate())
          .append(" vs ")
          .append(c.reference())
          .append("\n\n```text\n");
      for (OutputComparison o : c.outputs()) {
        b.append(histogram(o));
      }
      b.append("```\n");
    }
    return b.toString();
  }

  /**
   * The rtols raised above the asked ones, and why: one line per distinct raise, naming its outputs
   * ("retrieval.0.weights, retrieval.1.weights: rtol raised from ... to ...: reason").
   */
  public static List<String> raisedNotes(VerifyReport r) {
    java.util.Map<String, java.util.Set<String>> outputsByNote = new java.util.LinkedHashMap<>();
    for (VerifyReport.Comparison c : r.comparisons()) {
      if (c.tolerances() != null) {
        for (VerifyReport.RaisedRtol x : c.tolerances().raised_rtol()) {
          outputsByNote
              .computeIfAbsent(
                  c.tolerances().raisedNote(x.output()), k -> new java.util.LinkedHashSet<>())
              .add(x.output());
        }
      }
    }
    List<String> notes = new java.util.ArrayList<>();
    outputsByNote.forEach((note, outputs) -> notes.add(String.join(", ", outputs) + ": " + note));
    return notes;
  }

  /**
   * The result cell's note on elements left out because their sample's retrieval differs by a tie.
   */
  static String tieExempt(OutputComparison o) {
    if (o.tie_exempt_elements() == 0) {
      return "";
    }
    return o.tie_exempt_elements() == o.elements()
        ? f(
            "; all %d tie-exempt (max abs %.2e): nothing left to compare",
            o.elements(), o.tie_exempt_max_abs())
        : f("; %d tie-exempt (max abs %.2e)", o.tie_exempt_elements(), o.tie_exempt_max_abs());
  }

  /** One output's histogram as text: a line per bin with its count and a bar. */
  static String histogram(OutputComparison o) {
    StringBuilder b = new StringBuilder();
    b.append(o.name()).append(" (").append(o.elements()).append(" elements)\n");
    int max = o.histogram().stream().mapToInt(OutputComparison.Bin::count).max().orElse(0);
    for (OutputComparison.Bin bin : o.histogram()) {
      int len = max == 0 ? 0 : (int) Math.ceil((double) bin.count() * BAR / max);
      b.append(f("  %-16s %8d %s%n", bin.range(), bin.count(), "#".repeat(len)));
    }
    return b.toString();
  }

  public static String bench(BenchReport r) {
    StringBuilder b = new StringBuilder();
    long failed = r.gates().stream().filter(g -> !g.pass()).count();
    b.append("# msn-export bench: ")
        .append(r.pass() ? "PASS" : "FAIL (" + failed + " gate" + (failed == 1 ? "" : "s") + ")")
        .append("\n\n");
    BenchReport.Settings s = r.settings();
    b.append(
        f(
            "Model `%s`, profile `%s`, values %s; %s, %s; %s.%n%n",
            r.model(),
            r.profile(),
            r.values_dtype(),
            s.iterations() != null ? s.iterations() + " runs" : s.duration_s() + " s",
            "warm-up "
                + s.warmup_ms()
                + " ms, "
                + s.rounds()
                + " round-robin rounds per backend and batch",
            f(
                "%s, %s, %d CPUs, Java %s",
                r.host().os(), r.host().arch(), r.host().cpus(), r.host().java())));
    b.append("## Host latency (ms)\n\nPercentiles by trtexec's rule; p50 is trtexec's median.\n\n");
    b.append(
        "| backend | batch | runs | min | mean | p50 | p90 | p95 | p99 | p99.9 | max | samples/s |\n");
    b.append(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    BenchRows.append(
        b,
        "| %s | %d | %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.0f |%n",
        BenchRows.host(r),
        t -> t);
    List<Object[]> gpu = BenchRows.gpu(r);
    if (!gpu.isEmpty()) {
      b.append(
          "\n## GPU time (ms)\n\n| backend | batch | p50 | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
      BenchRows.append(b, "| %s | %d | %.4f | %.4f | %.4f | %.4f |%n", gpu, t -> t);
    }
    if (r.floors() != null && !r.floors().isEmpty()) {
      b.append(
          "\n## Floor\n\nThe roofline floor of one inference (docs/performance.md, \"Floor model\"): the larger of all bytes over the "
              + "copy bandwidth and all FLOPs over the peak; the multiples are the measured p50 and p99 over it.\n\n");
      b.append(
          "| backend | batch | precision | timed | MB | GFLOP | bytes us | flops us | floor us | floor us (reuse) | p50 x | p99 x |\n");
      b.append(
          "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
      BenchRows.append(
          b,
          "| %s | %d | %s | %s | %.1f | %.2f | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |%n",
          BenchRows.floors(r),
          t -> t);
      r.floors().stream()
          .map(FloorRow::ceilings)
          .distinct()
          .forEach(c -> b.append("\nCeilings: ").append(c).append('\n'));
    }
    if (r.layer_profiles() != null) {
      for (LayerProfile lp : r.layer_profiles()) {
        b.append(
            f(
                "%n## Layer profile: %s, batch %d%n%n%d profiled runs (TensorRT's IProfiler), %d layers, %.4f ms summed; longest first.%n%n",
                lp.backend(), lp.batch(), lp.runs(), lp.layers().size(), lp.total_ms()));
        b.append("| ms | share | layer |\n| ---: | ---: | --- |\n");
        for (LayerProfile.Layer l : lp.byTime()) {
          b.append(f("| %.4f | %.1f%% | %s |%n", l.mean_ms(), 100 * lp.share(l), cell(l.name())));
        }
      }
    }
    b.append("\n## Gates\n\n");
    if (r.gates().isEmpty()) {
      b.append("No gate ran (no reference-graph pair and no --baseline).\n");
    } else {
      b.append(
          f(
              "A gate fails when the ratio of the medians of block minima (the fastest of each 5 consecutive runs) is above "
                  + "its limit; suspect (passes) when its %.0f%% bootstrap interval "
                  + "reaches above the limit, or the p99 ratio is above it with confidence.%n%n",
              r.settings().confidence() * 100));
      b.append(
          "| gate | ratio | interval | p99 ratio | limit | verdict |\n| --- | ---: | --- | ---: | ---: | --- |\n");
      for (GateResult g : r.gates()) {
        b.append(
            f(
                "| %s | %s | %s | %s | %.3f | %s |%n",
                g.name(),
                g.ratio() == null ? "-" : f("%.3f", g.ratio()),
                g.ci_low() == null ? cell(g.message()) : f("[%.3f, %.3f]", g.ci_low(), g.ci_high()),
                g.p99_ratio() == null ? "-" : f("%.3f", g.p99_ratio()),
                g.limit(),
                g.verdict().equals("fail") ? "**FAIL**" : g.verdict()));
      }
    }
    return b.toString();
  }

  static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  /** Text safe inside a Markdown table cell. */
  static String cell(String s) {
    return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
  }
}
