package dev.msnexport.cli;

import picocli.CommandLine.Option;

/**
 * {@code --seed} of init, pipeline, verify, bench and compare (a picocli mixin): declared once;
 * what it seeds differs by command, so its help text is the command's entry in {@link HelpTexts}.
 */
final class SeedOption {
  @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
  @Option(names = "--seed", defaultValue = "0", descriptionKey = "seed")
  long seed;

  long value() {
    return seed;
  }
}
