package dev.msnexport.exporter.checkpoint;

import dev.msnexport.profiles.ModelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/** The contract's checkpoint tensor names and shapes for a config (docs/model-contract.md). */
public final class TensorLayout {
  private TensorLayout() {}

  /** Every tensor a checkpoint of {@code c} must hold, in a stable order. */
  public static Map<String, long[]> expected(ModelConfig c) {
    Map<String, long[]> m = new LinkedHashMap<>();
    long d = c.D();
    long t = c.T();
    long h = c.ffnHidden();
    for (int l = 0; l < c.L(); l++) {
      String b = "blocks." + l + ".";
      m.put(b + "mix_norm.weight", new long[] {d});
      m.put(b + "mix_norm.bias", new long[] {d});
      if (c.isMsnLayer(l)) {
        String p = b + "msn.";
        m.put(p + "query.weight", new long[] {2L * c.dk(), d});
        m.put(p + "query.bias", new long[] {2L * c.dk()});
        for (String half : new String[] {"row", "col"}) {
          m.put(p + "query_norm_" + half + ".weight", new long[] {c.dk()});
          m.put(p + "query_norm_" + half + ".bias", new long[] {c.dk()});
        }
        for (String half : new String[] {"row", "col"}) {
          m.put(p + "keys_" + half, new long[] {c.S(), c.dk()});
          m.put(p + "theta_" + half, new long[] {c.dk(), c.dk()});
          m.put(p + "key_norm_" + half + ".weight", new long[] {c.dk()});
          m.put(p + "key_norm_" + half + ".bias", new long[] {c.dk()});
        }
        m.put(
            p + "values",
            c.perTokenMemory() ? new long[] {t, c.slots(), d} : new long[] {c.slots(), d});
      }
      m.put(b + "ffn.w1", new long[] {t, h, d});
      m.put(b + "ffn.b1", new long[] {t, h});
      m.put(b + "ffn.w2", new long[] {t, d, h});
      m.put(b + "ffn.b2", new long[] {t, d});
      m.put(b + "ffn_norm.weight", new long[] {d});
      m.put(b + "ffn_norm.bias", new long[] {d});
    }
    for (String task : c.tasks()) {
      String p = "heads." + task + ".";
      m.put(p + "w1", new long[] {c.headHidden(), d});
      m.put(p + "b1", new long[] {c.headHidden()});
      m.put(p + "w2", new long[] {1, c.headHidden()});
      m.put(p + "b2", new long[] {1});
    }
    return m;
  }

  /** Parameters per layer that are memory (value tables) rather than dense weights. */
  public static boolean isMemory(String name) {
    return name.endsWith(".msn.values");
  }
}
