package dev.msnexport.verifier.report;

import dev.msnexport.verifier.health.MemoryHealth;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The memory-health table both verify reports show (HTML and Markdown), as rows of cell values:
 * each report formats them with its own row format and renders the warnings its own way.
 */
final class HealthRows {
  private HealthRows() {}

  /**
   * One row per layer: layer, slots used, slots, fraction used (%), fraction uniform draws would
   * cover (%), normalized entropy, top 1% share (%), then "none" or the layer's warnings through
   * {@code warnings}.
   */
  static List<Object[]> of(MemoryHealth.Report h, Function<List<String>, String> warnings) {
    List<Object[]> rows = new ArrayList<>();
    for (MemoryHealth.Layer l : h.layers()) {
      rows.add(
          new Object[] {
            l.layer(),
            l.slotsUsed(),
            l.slots(),
            100 * l.fractionUsed(),
            100 * l.uniformFractionUsed(),
            l.entropyNormalized(),
            100 * l.top1PercentShare(),
            l.warnings().isEmpty() ? "none" : warnings.apply(l.warnings())
          });
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
