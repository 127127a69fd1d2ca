package dev.msnexport.verifier.latency;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.profiles.ModelConfig;

/**
 * The fastest any implementation of one inference could run on a machine: the roofline floor of
 * docs/performance.md ("Floor model"). The work of one batch is counted from the model config
 * alone: the fewest bytes that must cross device memory (every weight read once, the input read and
 * the outputs written once, and the value rows the retrieval picks) and the arithmetic (a
 * multiply-add counts 2). Dividing by the machine's measured copy bandwidth and arithmetic peak
 * gives two times; the larger is the floor. Nothing here depends on how a backend computes.
 *
 * <p>Value rows are counted two ways: without reuse (every query reads its k rows: {@code
 * msn_layers * N * k * D}, N = B*T queries) and with perfect reuse (a row read by several queries
 * crosses memory once, so at most the whole table per layer). Real engines lie in between; the
 * no-reuse floor is the one targets are set against.
 */
public final class FloorModel {
  private FloorModel() {}

  /**
   * The model a backend runs and the dtype of its value tables, when they are not {@code bench
   * --model}'s: an engine of another export timed beside it ({@code --engine}) has its own floor.
   */
  public record Subject(ModelConfig config, String valuesDtype) {}

  /** Bytes of one element of the weights and of the value table, for the engine's precision. */
  public record DataBytes(int weight, int value) {
    public static DataBytes of(String precision, String valuesDtype) {
      int w = "fp16".equals(precision) || "bf16".equals(precision) ? 2 : 4;
      int v =
          switch (valuesDtype == null ? "fp32" : valuesDtype) {
            case "fp16", "bf16" -> 2;
            case "int8", "fp8" -> 1;
            default -> 4;
          };
      // an fp16 engine never reads a float32 table: the exporter stores it in fp16 for that engine
      return new DataBytes(w, Math.min(v, w));
    }
  }

  /**
   * The work of one inference of a batch.
   *
   * @param weight_bytes every parameter once (FFN, query projection, folded keys, norms, heads)
   * @param value_bytes value rows without reuse
   * @param value_bytes_reuse value rows with perfect reuse (at most each table once)
   * @param activation_bytes the float32 input tokens read and the outputs written
   * @param flops arithmetic, a multiply-add counted as 2
   */
  @JsonPropertyOrder({
    "weight_bytes",
    "value_bytes",
    "value_bytes_reuse",
    "activation_bytes",
    "flops"
  })
  public record Work(
      long weight_bytes,
      long value_bytes,
      long value_bytes_reuse,
      long activation_bytes,
      double flops) {
    public long bytes() {
      return weight_bytes + value_bytes + activation_bytes;
    }

    public long bytesWithReuse() {
      return weight_bytes + value_bytes_reuse + activation_bytes;
    }
  }

  /** Parameters of one block's and the heads' weights, as the contract lists them. */
  static long parameters(ModelConfig m) {
    long d = m.D();
    long h = m.ffnHidden();
    long perBlock =
        2 * d /* mix_norm */
            + m.T() * (h * d + h + d * h + d) /* per-token FFN */
            + 2 * d /* ffn_norm */;
    long qk = 2L * m.dk();
    long perMsn =
        qk * d
            + qk /* W_q, b_q */
            + 2 * 2L * m.dk() /* query norms */
            + 2L * m.S() * m.dk() /* folded K'_row, K'_col */;
    long heads =
        (long) m.tasks().size() * (m.headHidden() * d + m.headHidden() + m.headHidden() + 1);
    return m.L() * perBlock + m.msnLayers().size() * perMsn + heads;
  }

  /** Arithmetic of one token through every block (a multiply-add counts 2). */
  static double flopsPerToken(ModelConfig m) {
    double d = m.D();
    double h = m.ffnHidden();
    double perBlock = 4 * d * h; // two products of the per-token FFN
    double perMsn =
        2 * d * 2 * m.dk() /* query projection */
            + 2 * 2.0 * m.S() * m.dk() /* row and column scores */
            + 2.0 * m.k() * d /* weighted gather */;
    return m.L() * perBlock + m.msnLayers().size() * perMsn;
  }

  /** Arithmetic of the heads for one sample. */
  static double flopsPerSample(ModelConfig m) {
    return m.tasks().size() * (2.0 * m.D() * m.headHidden() + 2.0 * m.headHidden());
  }

  public static Work work(ModelConfig m, int batch, DataBytes b) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be positive, got " + batch);
    }
    long queries = (long) batch * m.T();
    long layers = m.msnLayers().size();
    long rowBytes = (long) m.D() * b.value();
    long values = layers * queries * m.k() * rowBytes;
    long reuse = layers * Math.min(queries * m.k(), m.valueRows()) * rowBytes;
    long activations = queries * m.D() * 4L + (long) batch * m.tasks().size() * 4L;
    double flops = queries * flopsPerToken(m) + batch * flopsPerSample(m);
    return new Work(parameters(m) * b.weight(), values, reuse, activations, flops);
  }

  /**
   * What a machine was measured to do.
   *
   * @param copy_bytes_per_s a large copy's bytes read plus bytes written, per second
   * @param flops_per_s arithmetic peak at the engine's precision
   * @param source how both were obtained (device name and measurement)
   */
  @JsonPropertyOrder({"copy_bytes_per_s", "flops_per_s", "source"})
  public record Ceilings(double copy_bytes_per_s, double flops_per_s, String source) {
    public Ceilings {
      if (!(copy_bytes_per_s > 0)
          || !(flops_per_s > 0)
          || Double.isInfinite(copy_bytes_per_s)
          || Double.isInfinite(flops_per_s)) {
        throw new IllegalArgumentException(
            "ceilings must be positive and finite: "
                + copy_bytes_per_s
                + " B/s, "
                + flops_per_s
                + " FLOP/s");
      }
    }
  }

  /**
   * The floor of one batch on one machine, in microseconds.
   *
   * @param bytes_us all bytes (no reuse) over the copy bandwidth
   * @param bytes_reuse_us the same with perfect value-row reuse
   * @param flops_us the arithmetic over the peak
   * @param floor_us {@code max(bytes_us, flops_us)}: the target's floor
   * @param floor_reuse_us {@code max(bytes_reuse_us, flops_us)}
   */
  @JsonPropertyOrder({
    "batch",
    "work",
    "ceilings",
    "bytes_us",
    "bytes_reuse_us",
    "flops_us",
    "floor_us",
    "floor_reuse_us"
  })
  public record Floor(
      int batch,
      Work work,
      Ceilings ceilings,
      double bytes_us,
      double bytes_reuse_us,
      double flops_us,
      double floor_us,
      double floor_reuse_us) {
    /** A measured time as a multiple of the (no-reuse) floor. */
    public double multiple(double measuredUs) {
      return measuredUs / floor_us;
    }
  }

  public static Floor floor(ModelConfig m, int batch, DataBytes b, Ceilings c) {
    Work w = work(m, batch, b);
    double bytesUs = w.bytes() / c.copy_bytes_per_s() * 1e6;
    double reuseUs = w.bytesWithReuse() / c.copy_bytes_per_s() * 1e6;
    double flopsUs = w.flops() / c.flops_per_s() * 1e6;
    return new Floor(
        batch,
        w,
        c,
        bytesUs,
        reuseUs,
        flopsUs,
        Math.max(bytesUs, flopsUs),
        Math.max(reuseUs, flopsUs));
  }
}
