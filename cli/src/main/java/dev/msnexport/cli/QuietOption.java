package dev.msnexport.cli;

import picocli.CommandLine.Option;

/** {@code --quiet} of the commands that draw a progress bar, init and export (a picocli mixin). */
final class QuietOption {
  @Option(
      names = "--quiet",
      description = "No progress bar on standard error (drawn only when it is a terminal).")
  boolean quiet;
}
