package dev.msnexport.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The baseline-regression gate's limit, drift correction and bootstrap (a picocli mixin): bench
 * gates a run against {@code --baseline}, compare gates B against A. Declared once; their help
 * texts name each command's operands, so they are the commands' entries in {@link HelpTexts}.
 */
final class RegressionGateOptions {
  @Range(min = 0, max = OptionRanges.MAX_RATIO)
  @Option(names = "--max-p99-regression", paramLabel = "R", descriptionKey = "max-p99-regression")
  Double maxP99Regression;

  @Option(names = "--no-drift-correction", descriptionKey = "no-drift-correction")
  boolean noDriftCorrection;

  @Mixin BootstrapOptions bootstrap;
}
