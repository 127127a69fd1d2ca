package dev.msnexport.verifier.latency;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A runtime's per-layer times of one backend at one batch ({@code bench --layer-profile}), as
 * trtexec's {@code --dumpProfile}: the mean time of each layer over {@code runs} profiled runs,
 * made apart from the timed runs (a profiler slows every launch).
 *
 * @param total_ms the sum of the layers' mean times (more than a timed run: each layer is timed
 *     alone, with the profiler's own gaps between them)
 * @param layers in execution order
 */
@JsonPropertyOrder({"backend", "batch", "runs", "total_ms", "layers"})
public record LayerProfile(
    String backend, int batch, int runs, double total_ms, List<Layer> layers) {
  /**
   * @param mean_ms mean time per run
   * @param calls how many times the runtime reported it (runs, unless a layer runs several times)
   */
  @JsonPropertyOrder({"name", "mean_ms", "calls"})
  public record Layer(String name, double mean_ms, long calls) {}

  public static LayerProfile of(String backend, int batch, int runs, List<Layer> layers) {
    return new LayerProfile(
        backend,
        batch,
        runs,
        layers.stream().mapToDouble(Layer::mean_ms).sum(),
        List.copyOf(layers));
  }

  /** The layers by time, longest first (ties in execution order). */
  public List<Layer> byTime() {
    List<Layer> l = new ArrayList<>(layers);
    l.sort(Comparator.comparingDouble(Layer::mean_ms).reversed());
    return l;
  }

  /** A layer's share of {@link #total_ms()}, 0..1. */
  public double share(Layer l) {
    return total_ms > 0 ? l.mean_ms() / total_ms : 0;
  }

  /** The console table: the {@code top} longest layers with their shares, then the rest summed. */
  public List<String> table(int top) {
    List<String> lines = new ArrayList<>();
    lines.add(
        String.format(
            Locale.ROOT,
            "layer profile %s batch %d (%d runs, TensorRT IProfiler): %d layers, %.4f ms in all",
            backend,
            batch,
            runs,
            layers.size(),
            total_ms));
    List<Layer> sorted = byTime();
    double cumulative = 0;
    for (int i = 0; i < Math.min(top, sorted.size()); i++) {
      Layer l = sorted.get(i);
      cumulative += share(l);
      lines.add(
          String.format(
              Locale.ROOT,
              "  %9.4f ms %6.1f%% %6.1f%%  %s",
              l.mean_ms(),
              100 * share(l),
              100 * cumulative,
              l.name()));
    }
    if (sorted.size() > top) {
      double rest = sorted.subList(top, sorted.size()).stream().mapToDouble(Layer::mean_ms).sum();
      lines.add(
          String.format(
              Locale.ROOT,
              "  %9.4f ms %6.1f%% %6s   (%d more layers)",
              rest,
              total_ms > 0 ? 100 * rest / total_ms : 0,
              "",
              sorted.size() - top));
    }
    return lines;
  }
}
