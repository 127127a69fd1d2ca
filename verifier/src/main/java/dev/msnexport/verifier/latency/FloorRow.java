package dev.msnexport.verifier.latency;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.verifier.backend.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One backend at one batch against its floor ({@link FloorModel}): the report's {@code floors}
 * entries. Times are device times where the backend reports them ({@code timed = "gpu"}), else host
 * wall times.
 *
 * @param precision the precision whose bytes and peak were counted
 * @param floor_us the no-reuse floor; {@code p50_multiple} and {@code p99_multiple} are the
 *     measured p50 and p99 over it
 * @param ceilings how the machine's copy bandwidth and peak were obtained
 */
@JsonPropertyOrder({
  "backend",
  "batch",
  "precision",
  "timed",
  "floor_us",
  "floor_reuse_us",
  "bytes_us",
  "flops_us",
  "p50_us",
  "p99_us",
  "p50_multiple",
  "p99_multiple",
  "work",
  "copy_bytes_per_s",
  "flops_per_s",
  "ceilings"
})
public record FloorRow(
    String backend,
    int batch,
    String precision,
    String timed,
    double floor_us,
    double floor_reuse_us,
    double bytes_us,
    double flops_us,
    double p50_us,
    double p99_us,
    double p50_multiple,
    double p99_multiple,
    FloorModel.Work work,
    double copy_bytes_per_s,
    double flops_per_s,
    String ceilings) {

  /**
   * The floor of every result whose backend has ceilings; a backend whose ceilings cannot be
   * measured is left out with one line on {@code warn}. Each backend's floor counts the model it
   * runs ({@link Backend#floorSubject}), else {@code m} with {@code valuesDtype}: the export that
   * {@code bench} was given.
   */
  public static List<FloorRow> of(
      ModelConfig m,
      String valuesDtype,
      List<BenchResult> results,
      Map<String, Backend> backends,
      Consumer<String> warn) {
    List<FloorRow> rows = new ArrayList<>();
    java.util.Set<String> warned = new java.util.HashSet<>();
    for (BenchResult r : results) {
      Backend b = backends.get(r.backend());
      FloorModel.Ceilings c;
      try {
        c = b == null ? null : b.ceilings();
      } catch (RuntimeException e) {
        if (warned.add(r.backend())) {
          warn.accept("floor: no ceilings for " + r.backend() + ": " + e.getMessage());
        }
        continue;
      }
      if (c == null) {
        continue;
      }
      String precision = b.floorPrecision();
      FloorModel.Subject own = b.floorSubject();
      FloorModel.Floor f =
          FloorModel.floor(
              own == null ? m : own.config(),
              r.batch(),
              FloorModel.DataBytes.of(precision, own == null ? valuesDtype : own.valuesDtype()),
              c);
      LatencyStats t = r.gpu_ms() != null ? r.gpu_ms() : r.host_ms();
      double p50 = t.p50() * 1e3;
      double p99 = t.p99() * 1e3;
      rows.add(
          new FloorRow(
              r.backend(),
              r.batch(),
              precision,
              r.gpu_ms() != null ? "gpu" : "host",
              f.floor_us(),
              f.floor_reuse_us(),
              f.bytes_us(),
              f.flops_us(),
              p50,
              p99,
              f.multiple(p50),
              f.multiple(p99),
              f.work(),
              c.copy_bytes_per_s(),
              c.flops_per_s(),
              c.source()));
    }
    return rows;
  }

  /** The console table {@code bench} prints: one line per backend and batch. */
  public static List<String> table(List<FloorRow> rows) {
    List<String> lines = new ArrayList<>();
    if (rows.isEmpty()) {
      return lines;
    }
    lines.add("floor (max of bytes / copy bandwidth and FLOPs / peak; docs/performance.md):");
    lines.add(
        String.format(
            Locale.ROOT,
            "  %-22s %6s %9s %9s %10s %10s %10s %8s %8s",
            "backend",
            "batch",
            "MB",
            "GFLOP",
            "bytes us",
            "flops us",
            "floor us",
            "p50 x",
            "p99 x"));
    for (FloorRow r : rows) {
      lines.add(
          String.format(
              Locale.ROOT,
              "  %-22s %6d %9.3f %9.3f %10.1f %10.1f %10.1f %8.2f %8.2f",
              r.backend() + " (" + r.timed() + ")",
              r.batch(),
              r.work().bytes() / 1e6,
              r.work().flops() / 1e9,
              r.bytes_us(),
              r.flops_us(),
              r.floor_us(),
              r.p50_multiple(),
              r.p99_multiple()));
    }
    rows.stream().map(FloorRow::ceilings).distinct().forEach(s -> lines.add("  ceilings: " + s));
    return lines;
  }
}
