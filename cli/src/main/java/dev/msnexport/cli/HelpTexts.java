package dev.msnexport.cli;

import java.util.ListResourceBundle;

/**
 * The help texts of options declared once but meaning something per command ({@link SeedOption},
 * {@link RegressionGateOptions}): the root command's resource bundle, whose keys picocli looks up
 * as {@code <qualified command name>.<descriptionKey>}. An option with a description of its own in
 * its {@code @Option} never reads this.
 */
public final class HelpTexts extends ListResourceBundle {
  private static final String DEFAULT = " (default: ${DEFAULT-VALUE}).";

  @Override
  protected Object[][] getContents() {
    return new Object[][] {
      {"msn-export.init.seed", "Random seed" + DEFAULT},
      {"msn-export.pipeline.seed", "Seed of the synthetic checkpoint and the inputs" + DEFAULT},
      {"msn-export.verify.seed", "Seed of the random inputs" + DEFAULT},
      {"msn-export.bench.seed", "Seed of the inputs and of the bootstrap" + DEFAULT},
      {"msn-export.compare.seed", "Seed of the bootstrap" + DEFAULT},
      {
        "msn-export.bench.max-p99-regression",
        "Fail when the median of block minima grew by more than R against the baseline (default: the"
            + " profile's, else 0.10)."
      },
      {
        "msn-export.compare.max-p99-regression",
        "Bench: fail when B's median of block minima exceeds A's by more than R (default: B's"
            + " profile's, else 0.10)."
      },
      {
        "msn-export.bench.no-drift-correction",
        "Gate against --baseline as measured. By default each backend's baseline is first scaled by"
            + " how much slower the run's other backends ran than in the baseline (the machine's"
            + " drift), so a machine that is slower as a whole raises no alarm; a regression of every"
            + " backend alike then goes unseen, which this option catches."
      },
      {
        "msn-export.compare.no-drift-correction",
        "Gate B against A as measured, without scaling A by the machine's drift seen on B's other"
            + " backends (see bench --no-drift-correction)."
      },
    };
  }
}
