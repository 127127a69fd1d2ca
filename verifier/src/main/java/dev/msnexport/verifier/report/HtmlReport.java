package dev.msnexport.verifier.report;

import static dev.msnexport.verifier.report.HtmlParts.esc;
import static dev.msnexport.verifier.report.HtmlParts.f;
import static dev.msnexport.verifier.report.HtmlParts.head;
import static dev.msnexport.verifier.report.HtmlParts.img;
import static dev.msnexport.verifier.report.HtmlParts.num;
import static dev.msnexport.verifier.report.HtmlParts.p;
import static dev.msnexport.verifier.report.HtmlParts.skippedNote;
import static dev.msnexport.verifier.report.HtmlParts.tail;

import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.FloorRow;
import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.quant.QuantizationReport;
import java.util.List;
import java.util.TreeSet;

/**
 * report.html: one self-contained page (plots embedded as PNG data URIs, no script, no external
 * resource) with the summary tables and the plots a person would rather look at.
 */
public final class HtmlReport {
  private HtmlReport() {}

  public static String verify(VerifyReport r) {
    return verify(r, new Plots(Plots.XCHART));
  }

  /**
   * report.html of a verify run, its plots drawn by {@code plots} ({@link Plots#skipped()} says
   * when they were not).
   */
  public static String verify(VerifyReport r, Plots plots) {
    StringBuilder b = head("msn-export verify", r.pass());
    b.append(
        p(
            "meta",
            f(
                "Model <code>%s</code>, profile <code>%s</code>, values %s, batch %d, seed %d.",
                esc(r.model()), esc(r.profile()), esc(r.values_dtype()), r.batch(), r.seed())));
    b.append(
        "<h2>Backends</h2><table><tr><th class=l>backend</th><th>status</th><th>seconds</th></tr>");
    for (VerifyReport.BackendRun run : r.backends()) {
      b.append(
          f(
              "<tr><td class=l>%s</td><td class=l>%s</td><td>%.3f</td></tr>",
              esc(run.name()),
              run.status().equals("ok")
                  ? "<span class=ok>ok</span>"
                  : "<span class=bad>"
                      + esc(run.status())
                      + "</span> <span class=wrap>"
                      + esc(run.error())
                      + "</span>",
              run.seconds()));
    }
    b.append("</table><h2>Comparisons</h2>")
        .append(
            p(
                "meta",
                "Each pair uses the tolerances of the lower precision of its two backends "
                    + "(fp16 when either is fp16). Outputs that one backend lacks or gives with another shape or dtype fail the pair."));
    b.append(
        "<table><tr><th class=l>candidate</th><th>reference</th><th>tolerances</th><th>outputs not given alike</th><th>result</th></tr>");
    for (VerifyReport.Comparison c : r.comparisons()) {
      b.append(
          f(
              "<tr><td class=l>%s</td><td class=l>%s</td><td class=l>%s</td><td class=l>%s</td><td class=l>%s</td></tr>",
              esc(c.candidate()),
              esc(c.reference()),
              c.tolerances() == null ? "" : esc(c.tolerances().summary()),
              c.output_set() == null || c.output_set().isEmpty()
                  ? "none"
                  : "<span class=bad>"
                      + esc(
                          String.join(
                              "; ",
                              c.output_set().stream()
                                  .map(x -> x.message(c.candidate(), c.reference()))
                                  .toList()))
                      + "</span>",
              c.pass() ? "<span class=ok>pass</span>" : "<span class=bad>FAIL</span>"));
    }
    b.append("</table>");
    java.util.List<String> raised = MarkdownReport.raisedNotes(r);
    if (!raised.isEmpty()) {
      b.append(p("meta", "Raised tolerances:")).append("<ul>");
      raised.forEach(line -> b.append("<li>").append(esc(line)).append("</li>"));
      b.append("</ul>");
    }
    b.append(
        "<h2>Outputs</h2><table><tr><th class=l>candidate</th><th>reference</th><th>output</th><th>max abs</th><th>mean abs</th>"
            + "<th>p99 abs</th><th>max rel</th><th>cosine</th><th>atol / rtol applied</th><th>min atol to pass</th><th>result</th></tr>");
    VerifyRows.append(
        b,
        "<tr><td class=l>%s</td><td class=l>%s</td><td class=l>%s</td><td>%.2e</td><td>%.2e</td><td>%.2e</td><td>%.2e</td><td>%.9f</td>"
            + "<td>%.2e / %.2e%s</td><td>%.2e</td><td class=l>%s</td></tr>",
        VerifyRows.outputs(
            r,
            HtmlParts::esc,
            o ->
                (o.pass()
                        ? "<span class=ok>pass</span>"
                        : f(
                            "<span class=bad>FAIL</span> %d/%d",
                            o.failing_elements(), o.elements()))
                    + esc(MarkdownReport.tieExempt(o))));
    b.append("</table>");
    if (r.comparisons().stream().anyMatch(c -> !c.retrieval().isEmpty())) {
      b.append(
          "<h2>Retrieval</h2><p class=meta>A differing slot is a <em>tie</em> when the two slots' scores differ by at most "
              + "tie_epsilon (a legitimate order), a <em>mismatch</em> otherwise. A tie that changes a query's slot set makes its sample "
              + "diverge: its later layers (<em>downstream of a tie</em>) and outputs (<em>tie-exempt</em>) are left out of the checks.</p>"
              + "<table><tr><th class=l>candidate</th><th>reference</th><th>layer</th><th>queries</th><th>identical</th>"
              + "<th>tie (set changed)</th><th>mismatched</th><th>downstream of a tie</th><th>result</th></tr>");
      VerifyRows.append(
          b,
          "<tr><td class=l>%s</td><td class=l>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d (%d)</td><td>%d</td><td>%d</td>"
              + "<td class=l>%s</td></tr>",
          VerifyRows.retrieval(
              r,
              HtmlParts::esc,
              rc ->
                  rc.pass()
                      ? "<span class=ok>pass</span>"
                      : "<span class=bad>FAIL</span> <span class=wrap>"
                          + esc(rc.first_mismatch())
                          + "</span>"));
      b.append("</table>");
    }
    if (r.memory_health() != null) {
      b.append("<h2>Memory health</h2>")
          .append(
              p(
                  "meta",
                  f(
                      "%d random samples (seed %d); a collapse warns and never fails the run.",
                      r.memory_health().samples(), r.memory_health().seed())));
      b.append(
          "<table><tr><th>layer</th><th>slots used</th><th>of</th><th>fraction</th><th>uniform draws would cover</th>"
              + "<th>entropy (of log n)</th><th>top 1% share</th><th class=l>warnings</th></tr>");
      VerifyRows.append(
          b,
          "<tr><td>%d</td><td>%d</td><td>%d</td><td>%s</td><td>%.1f%%</td><td>%.3f</td><td>%.1f%%</td><td class=l>%s</td></tr>",
          VerifyRows.memoryHealth(
              r.memory_health(),
              w ->
                  "<span class=bad>WARNING</span> <span class=wrap>"
                      + esc(String.join("; ", w))
                      + "</span>"));
      b.append("</table>");
    }
    if (r.quantization() != null) {
      QuantizationReport q = r.quantization();
      b.append("<h2>Quantization (")
          .append(esc(q.values_dtype()))
          .append(" value tables): ")
          .append(q.pass() ? "<span class=ok>PASS</span>" : "<span class=bad>FAIL</span>")
          .append("</h2>")
          .append(
              p(
                  "meta",
                  "Gathered vectors against the checkpoint's rows, within the rounding bound of"
                      + " docs/model-contract.md."));
      b.append(
          "<table><tr><th>layer</th><th>elements</th><th>max abs error</th><th>max bound</th>"
              + "<th>max error / bound</th><th>over bound</th></tr>");
      VerifyRows.append(
          b,
          "<tr><td>%d</td><td>%d</td><td>%.3e</td><td>%.3e</td><td>%.3f</td><td>%d</td></tr>",
          VerifyRows.quantization(q));
      b.append("</table>");
      q.task_max_abs_error()
          .forEach(
              (t, e) ->
                  b.append(
                      p(
                          "meta",
                          f(
                              "Task %s: max abs change %.3e (quantized vs checkpoint tables).",
                              esc(t), e))));
    }
    b.append("<h2>Absolute-error histograms</h2><div class=plots>");
    for (VerifyReport.Comparison c : r.comparisons()) {
      if (!c.outputs().isEmpty()) {
        b.append(
            img(
                plots,
                src -> src.errorHistogram(c),
                "error histogram " + c.candidate() + " vs " + c.reference()));
      }
    }
    b.append("</div>");
    skippedNote(b, plots);
    return tail(b);
  }

  public static String bench(BenchReport r) {
    return bench(r, new Plots(Plots.XCHART));
  }

  /**
   * report.html of a bench run, its plots drawn by {@code plots} ({@link Plots#skipped()} says when
   * they were not).
   */
  public static String bench(BenchReport r, Plots plots) {
    StringBuilder b = head("msn-export bench", r.pass());
    BenchReport.Settings s = r.settings();
    b.append(
        p(
            "meta",
            f(
                "Model <code>%s</code>, profile <code>%s</code>, values %s; %s per backend and batch, warm-up %.0f ms, %d "
                    + "round-robin rounds; %s, %s, %d CPUs, Java %s.",
                esc(r.model()),
                esc(r.profile()),
                esc(r.values_dtype()),
                s.iterations() != null ? s.iterations() + " runs" : s.duration_s() + " s",
                s.warmup_ms(),
                s.rounds(),
                esc(r.host().os()),
                esc(r.host().arch()),
                r.host().cpus(),
                esc(r.host().java()))));
    b.append("<h2>Gates</h2>");
    if (r.gates().isEmpty()) {
      b.append(p("meta", "No gate ran (no reference-graph pair and no --baseline)."));
    } else {
      b.append(
          p(
              "meta",
              f(
                  "A gate fails when the ratio of the medians of block minima (the fastest of each 5 consecutive runs) is above "
                      + "its limit; suspect (passes) when its %.0f%% bootstrap "
                      + "interval (%d resamples) reaches above the limit, or the p99 ratio is above it with confidence.",
                  s.confidence() * 100, s.bootstrap_resamples())));
      b.append(
          "<table><tr><th class=l>gate</th><th>candidate (ms)</th><th>reference (ms)</th><th>ratio</th>"
              + "<th>interval</th><th>p99 ratio</th><th>limit</th><th>verdict</th></tr>");
      for (GateResult g : r.gates()) {
        b.append(
            f(
                "<tr><td class=l>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.3f</td><td class=l>%s</td></tr>",
                esc(g.name()),
                num(g.candidate_ms(), "%.4f"),
                num(g.reference_ms(), "%.4f"),
                num(g.ratio(), "%.3f"),
                g.ci_low() == null ? "-" : f("[%.3f, %.3f]", g.ci_low(), g.ci_high()),
                num(g.p99_ratio(), "%.3f"),
                g.limit(),
                g.verdict().equals("fail")
                    ? "<span class=bad>FAIL</span>"
                    : g.verdict().equals("pass")
                        ? "<span class=ok>pass</span>"
                        : esc(g.verdict()) + " <span class=meta>" + esc(g.message()) + "</span>"));
      }
      b.append("</table>");
    }
    b.append("<h2>Host latency (ms)</h2>")
        .append(p("meta", "Percentiles by trtexec's rule; p50 is trtexec's median."));
    b.append(
        "<table><tr><th class=l>backend</th><th>batch</th><th>runs</th><th>min</th><th>mean</th><th>p50</th><th>p90</th><th>p95</th>"
            + "<th>p99</th><th>p99.9</th><th>max</th><th>samples/s</th></tr>");
    BenchRows.append(
        b,
        "<tr><td class=l>%s</td><td>%d</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td>"
            + "<td>%.4f</td><td>%.4f</td><td>%.0f</td></tr>",
        BenchRows.host(r),
        HtmlParts::esc);
    b.append("</table>");
    List<Object[]> gpu = BenchRows.gpu(r);
    if (!gpu.isEmpty()) {
      b.append(
          "<h2>GPU time (ms)</h2><table><tr><th class=l>backend</th><th>batch</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>");
      BenchRows.append(
          b,
          "<tr><td class=l>%s</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>",
          gpu,
          HtmlParts::esc);
      b.append("</table>");
    }
    if (r.floors() != null && !r.floors().isEmpty()) {
      b.append("<h2>Floor</h2>")
          .append(
              p(
                  "meta",
                  "The larger of all bytes over the copy bandwidth and all FLOPs over the peak; "
                      + "the multiples are the measured p50 and p99 over it."));
      b.append(
          "<table><tr><th class=l>backend</th><th>batch</th><th>precision</th><th>timed</th><th>MB</th><th>GFLOP</th><th>floor us</th>"
              + "<th>floor us (reuse)</th><th>p50 x</th><th>p99 x</th></tr>");
      // the HTML table leaves out bytes us and flops us (cells 7 and 8)
      BenchRows.append(
          b,
          "<tr><td class=l>%1$s</td><td>%2$d</td><td>%3$s</td><td>%4$s</td><td>%5$.1f</td><td>%6$.2f</td><td>%9$.1f</td>"
              + "<td>%10$.1f</td><td>%11$.2f</td><td>%12$.2f</td></tr>",
          BenchRows.floors(r),
          HtmlParts::esc);
      b.append("</table>");
      r.floors().stream()
          .map(FloorRow::ceilings)
          .distinct()
          .forEach(c -> b.append(p("meta", "Ceilings: " + esc(c))));
    }
    b.append("<h2>Latency CDF per backend</h2>");
    for (int batch : new TreeSet<>(r.results().stream().map(BenchResult::batch).toList())) {
      List<BenchResult> at = r.results().stream().filter(x -> x.batch() == batch).toList();
      b.append("<div class=plots>");
      b.append(img(plots, src -> src.latencyCdf(at, batch, 0), "latency CDF batch " + batch));
      b.append(img(plots, src -> src.latencyCdf(at, batch, 90), "latency CDF tail batch " + batch));
      b.append("</div>");
    }
    skippedNote(b, plots);
    return tail(b);
  }
}
