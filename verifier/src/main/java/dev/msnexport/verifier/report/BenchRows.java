package dev.msnexport.verifier.report;

import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.FloorRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * The latency tables both bench reports show (HTML and Markdown), as rows of cell values: each
 * report formats them with its own row format.
 */
final class BenchRows {
  private BenchRows() {}

  /**
   * Host latency, by batch then backend: backend (marked when unprepared), batch, runs, min, mean,
   * p50, p90, p95, p99, p99.9, max (ms), samples/s.
   */
  static List<Object[]> host(BenchReport r) {
    List<Object[]> rows = new ArrayList<>();
    for (int batch : new TreeSet<>(r.results().stream().map(BenchResult::batch).toList())) {
      for (BenchResult x : r.results()) {
        if (x.batch() == batch) {
          var h = x.host_ms();
          rows.add(
              new Object[] {
                x.backend() + (x.prepared() ? "" : " (unprepared)"),
                batch,
                x.iterations(),
                h.min(),
                h.mean(),
                h.p50(),
                h.p90(),
                h.p95(),
                h.p99(),
                h.p99_9(),
                h.max(),
                x.throughput_samples_per_s()
              });
        }
      }
    }
    return rows;
  }

  /** GPU time of the results that have it: backend, batch, p50, p90, p99, max (ms). */
  static List<Object[]> gpu(BenchReport r) {
    List<Object[]> rows = new ArrayList<>();
    for (BenchResult x : r.results()) {
      if (x.gpu_ms() != null) {
        var g = x.gpu_ms();
        rows.add(new Object[] {x.backend(), x.batch(), g.p50(), g.p90(), g.p99(), g.max()});
      }
    }
    return rows;
  }

  /**
   * The roofline floors: backend, batch, precision, timed, MB, GFLOP, bytes us, flops us, floor us,
   * floor us (reuse), p50 multiple, p99 multiple.
   */
  static List<Object[]> floors(BenchReport r) {
    List<Object[]> rows = new ArrayList<>();
    for (FloorRow x : r.floors()) {
      rows.add(
          new Object[] {
            x.backend(),
            x.batch(),
            x.precision(),
            x.timed(),
            x.work().bytes() / 1e6,
            x.work().flops() / 1e9,
            x.bytes_us(),
            x.flops_us(),
            x.floor_us(),
            x.floor_reuse_us(),
            x.p50_multiple(),
            x.p99_multiple()
          });
    }
    return rows;
  }

  /** Appends each row in {@code format}, its first cell (the backend) through {@code text}. */
  static void append(
      StringBuilder b, String format, List<Object[]> rows, UnaryOperator<String> text) {
    for (Object[] row : rows) {
      Object[] cells = row.clone();
      cells[0] = text.apply((String) cells[0]);
      b.append(String.format(Locale.ROOT, format, cells));
    }
  }
}
