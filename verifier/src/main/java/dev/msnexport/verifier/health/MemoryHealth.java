package dev.msnexport.verifier.health;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.golden.GoldenModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Memory health: how a checkpoint's memory layers spread their retrieval over the slots. Over a
 * batch of seeded random inputs ({@code tokens ~ N(0, 1)}, {@link Inputs#random}) the golden model
 * is run and, per MSN layer, every retrieved slot is counted ({@code samples * T * k} draws):
 *
 * <ul>
 *   <li><b>fraction used</b>: slots selected at least once, over {@code n = S*S}; beside it, the
 *       fraction that {@code draws} uniform draws would cover, {@code 1 - (1 - 1/n)^draws};
 *   <li><b>entropy</b> of the slot-usage distribution, in nats and normalised by {@code log n} (1:
 *       uniform over all slots; 0: one slot);
 *   <li><b>top-1% share</b>: the share of all selections taken by the most used {@code ceil(n/100)}
 *       slots (uniform use gives about 1%).
 * </ul>
 *
 * <p>Retrieval looks <b>collapsed</b> (a warning) when any of these holds:
 *
 * <ol>
 *   <li>fewer slots are used than 1% of what uniform sampling would cover ({@link
 *       #MIN_USED_VS_UNIFORM}): most of the table is dead weight;
 *   <li>the top 1% of slots take more than half of all selections ({@link #MAX_TOP1_SHARE}): a few
 *       hub slots answer almost every query;
 *   <li>only {@code k} distinct slots are ever used: every query retrieves the same set (identical
 *       keys or a constant query do this), which rule 1 cannot see on tiny tables.
 * </ol>
 *
 * Healthy trained PKM memories sit far from both thresholds (the trained {@code small} fixture:
 * nearly every slot used, normalised entropy above 0.9, top-1% share a few percent), and a
 * collapsed one far past them (identical keys: k slots, top-1% share 100%), so the thresholds are
 * deliberately loose: the check is for deployments that are broken, not for tuning. Random inputs
 * are not the production distribution: a memory that specialises to it can look less even here,
 * which is why only gross collapse warns.
 */
public final class MemoryHealth {
  public static final int DEFAULT_SAMPLES = 256;
  public static final long DEFAULT_SEED = 0;

  /** Warn when fraction used < this times the fraction uniform sampling of as many draws covers. */
  public static final double MIN_USED_VS_UNIFORM = 0.01;

  /** Warn when the top 1% of slots take more than this share of all selections. */
  public static final double MAX_TOP1_SHARE = 0.5;

  private static final int CHUNK = 32;

  private MemoryHealth() {}

  /**
   * One MSN layer's figures; {@code warnings} is empty when the layer looks healthy. {@code method}
   * is "exact" (every slot counted) or "sampled" ({@code slots_counted} of the slots, a uniform
   * random sample: {@link SlotUsage}, {@link UsageFigures}); {@code fraction_used_low/high} is the
   * 95% interval of the fraction used (both equal to it when exact). In JSON (verify's {@code
   * memory_health.layers[]}) the keys are the components in snake_case, then {@code collapsed}
   * (derived: written, ignored when read back).
   */
  @JsonIgnoreProperties(value = "collapsed", allowGetters = true)
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonPropertyOrder({
    "layer",
    "slots",
    "draws",
    "slots_used",
    "fraction_used",
    "uniform_fraction_used",
    "entropy_nats",
    "entropy_normalized",
    "top1_percent_slots",
    "top1_percent_share",
    "warnings",
    "method",
    "slots_counted",
    "fraction_used_low",
    "fraction_used_high",
    "collapsed"
  })
  public record Layer(
      int layer,
      long slots,
      long draws,
      long slotsUsed,
      double fractionUsed,
      double uniformFractionUsed,
      double entropyNats,
      double entropyNormalized,
      int top1PercentSlots,
      double top1PercentShare,
      List<String> warnings,
      String method,
      long slotsCounted,
      double fractionUsedLow,
      double fractionUsedHigh) {
    @JsonProperty("collapsed")
    public boolean collapsed() {
      return !warnings.isEmpty();
    }
  }

  /**
   * All MSN layers of one checkpoint (JSON: {@code samples}, {@code seed}, {@code collapsed},
   * {@code layers[]}).
   */
  @JsonIgnoreProperties(value = "collapsed", allowGetters = true)
  @JsonPropertyOrder({"samples", "seed", "collapsed", "layers"})
  public record Report(int samples, long seed, List<Layer> layers) {
    @JsonProperty("collapsed")
    public boolean collapsed() {
      return layers.stream().anyMatch(Layer::collapsed);
    }

    /** Lines for a terminal: one per layer, then each warning. */
    public List<String> lines() {
      List<String> out = new ArrayList<>();
      out.add(
          String.format(
              Locale.ROOT,
              "memory health (%d random samples, seed %d; tokens ~ N(0,1)):",
              samples,
              seed));
      for (Layer l : layers) {
        out.add(
            String.format(
                Locale.ROOT,
                "  layer %d: slots used %s%,d of %,d (%.1f%%%s; uniform draws would cover %.1f%%), entropy %.3f nats (%.3f of log n), "
                    + "top 1%% (%d slots) take %.1f%% of %,d selections%s",
                l.layer(),
                "exact".equals(l.method()) ? "" : "~",
                l.slotsUsed(),
                l.slots(),
                100 * l.fractionUsed(),
                "exact".equals(l.method())
                    ? ""
                    : String.format(
                        Locale.ROOT,
                        ", 95%% interval %.2f..%.2f%%, estimated from %,d sampled slots",
                        100 * l.fractionUsedLow(),
                        100 * l.fractionUsedHigh(),
                        l.slotsCounted()),
                100 * l.uniformFractionUsed(),
                l.entropyNats(),
                l.entropyNormalized(),
                l.top1PercentSlots(),
                100 * l.top1PercentShare(),
                l.draws(),
                l.collapsed() ? "  WARNING" : ""));
        for (String w : l.warnings()) {
          out.add("  WARNING: layer " + l.layer() + ": " + w);
        }
      }
      if (layers.isEmpty()) {
        out.add("  (no MSN layers)");
      }
      return out;
    }
  }

  public static Report compute(Checkpoint ckpt) {
    return compute(ckpt, DEFAULT_SAMPLES, DEFAULT_SEED);
  }

  /**
   * As {@link #compute(Checkpoint, int, long)}; null when {@code samples} is 0 (skipped) or the
   * model has no MSN layer.
   */
  public static Report computeUnlessSkipped(Checkpoint ckpt, int samples, long seed) {
    return samples > 0 && !ckpt.config().msnLayers().isEmpty()
        ? compute(ckpt, samples, seed)
        : null;
  }

  /**
   * Runs the golden model on {@code samples} seeded random inputs and summarises each MSN layer's
   * slot usage.
   */
  public static Report compute(Checkpoint ckpt, int samples, long seed) {
    if (samples < 1) {
      throw new IllegalArgumentException("samples must be at least 1, got " + samples);
    }
    ModelConfig c = ckpt.config();
    GoldenModel model = new GoldenModel(ckpt);
    float[] all = Inputs.random(c, samples, seed).get(MsnOnnxExporter.INPUT).toFloatArray();
    int per = c.T() * c.D();
    Map<Integer, SlotUsage> usage = new LinkedHashMap<>();
    for (int l : c.msnLayers().stream().sorted().toList()) {
      usage.put(l, SlotUsage.forSlots(c.slots(), c.k(), seed + l));
    }
    for (int b = 0; b < samples; b += CHUNK) {
      int n = Math.min(CHUNK, samples - b);
      float[] chunk = Arrays.copyOfRange(all, b * per, (b + n) * per);
      GoldenModel.Result r = model.forward(chunk, n);
      for (GoldenModel.LayerRetrieval lr : r.retrieval().values()) {
        SlotUsage u = usage.get(lr.layer());
        for (long s : lr.slots()) {
          u.add(s);
        }
      }
    }
    List<Layer> layers = new ArrayList<>();
    usage.forEach((l, u) -> layers.add(u.summarize(l)));
    return new Report(samples, seed, layers);
  }

  /**
   * The figures and warnings for one layer's slot counts ({@code k}: slots retrieved per query).
   */
  public static Layer fromCounts(int layer, long[] counts, int k) {
    return UsageFigures.exact(layer, counts, k);
  }
}
