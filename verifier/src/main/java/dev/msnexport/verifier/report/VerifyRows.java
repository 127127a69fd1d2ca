package dev.msnexport.verifier.report;

import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.health.MemoryHealth;
import dev.msnexport.verifier.quant.QuantizationReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The tables both verify reports show (HTML and Markdown), as rows of cell values: each report
 * formats them with its own row format and renders names and verdicts its own way.
 */
final class VerifyRows {
  private VerifyRows() {}

  /**
   * One row per layer: layer, slots used, slots, fraction used (%), fraction uniform draws would
   * cover (%), normalized entropy, top 1% share (%), then "none" or the layer's warnings through
   * {@code warnings}.
   */
  static List<Object[]> memoryHealth(
      MemoryHealth.Report h, Function<List<String>, String> warnings) {
    List<Object[]> rows = new ArrayList<>();
    for (MemoryHealth.Layer l : h.layers()) {
      rows.add(
          new Object[] {
            l.layer(),
            l.slotsUsed(),
            l.slots(),
            fraction(l),
            100 * l.uniformFractionUsed(),
            l.entropyNormalized(),
            100 * l.top1PercentShare(),
            l.warnings().isEmpty() ? "none" : warnings.apply(l.warnings())
          });
    }
    return rows;
  }

  /**
   * The fraction of slots used, in percent: exact, or for a sampled count ("~") with its 95%
   * interval (the JSON report's fraction_used_low/high).
   */
  static String fraction(MemoryHealth.Layer l) {
    if (l.method() == null || "exact".equals(l.method())) {
      return String.format(Locale.ROOT, "%.1f%%", 100 * l.fractionUsed());
    }
    return String.format(
        Locale.ROOT,
        "~%.1f%% (95%%: %.2f-%.2f%%, %d slots sampled)",
        100 * l.fractionUsed(),
        100 * l.fractionUsedLow(),
        100 * l.fractionUsedHigh(),
        l.slotsCounted());
  }

  /**
   * One row per MSN layer of an int8/fp8 export's quantization check: layer, gathered elements, max
   * |v_q - v|, max bound, max error / bound, elements over their bound.
   */
  static List<Object[]> quantization(QuantizationReport q) {
    List<Object[]> rows = new ArrayList<>();
    for (QuantizationReport.Layer l : q.layers()) {
      rows.add(
          new Object[] {
            l.layer(),
            l.elements(),
            l.max_abs_error(),
            l.max_bound(),
            l.max_error_over_bound(),
            l.over_bound()
          });
    }
    return rows;
  }

  /**
   * One row per output of each comparison: candidate, reference and output name (through {@code
   * text}), max abs, mean abs, p99 abs, max rel, cosine, atol, rtol, " (raised)" or "", min atol to
   * pass, then the verdict through {@code verdict}.
   */
  static List<Object[]> outputs(
      VerifyReport r, UnaryOperator<String> text, Function<OutputComparison, String> verdict) {
    List<Object[]> rows = new ArrayList<>();
    for (VerifyReport.Comparison c : r.comparisons()) {
      for (OutputComparison o : c.outputs()) {
        boolean up = c.tolerances() != null && c.tolerances().raisedNote(o.name()) != null;
        rows.add(
            new Object[] {
              text.apply(c.candidate()),
              text.apply(c.reference()),
              text.apply(o.name()),
              o.max_abs(),
              o.mean_abs(),
              o.p99_abs(),
              o.max_rel(),
              o.cosine(),
              o.atol(),
              o.rtol(),
              up ? " (raised)" : "",
              o.min_atol_to_pass(),
              verdict.apply(o)
            });
      }
    }
    return rows;
  }

  /**
   * One row per retrieval layer of each comparison: candidate and reference (through {@code text}),
   * layer, queries, identical, tie, set-changing tie, mismatched and downstream queries, then the
   * verdict through {@code verdict}.
   */
  static List<Object[]> retrieval(
      VerifyReport r, UnaryOperator<String> text, Function<RetrievalComparison, String> verdict) {
    List<Object[]> rows = new ArrayList<>();
    for (VerifyReport.Comparison c : r.comparisons()) {
      for (RetrievalComparison rc : c.retrieval()) {
        rows.add(
            new Object[] {
              text.apply(c.candidate()),
              text.apply(c.reference()),
              rc.layer(),
              rc.queries(),
              rc.identical_queries(),
              rc.tie_queries(),
              rc.set_changing_tie_queries(),
              rc.mismatched_queries(),
              rc.downstream_queries(),
              verdict.apply(rc)
            });
      }
    }
    return rows;
  }

  /** Appends each row in {@code format}. */
  static void append(StringBuilder b, String format, List<Object[]> rows) {
    for (Object[] row : rows) {
      b.append(String.format(Locale.ROOT, format, row));
    }
  }
}
