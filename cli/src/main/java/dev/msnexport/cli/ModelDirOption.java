package dev.msnexport.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The export directory {@code --model} of the commands that read an export (a picocli mixin). */
final class ModelDirOption {
  @Option(
      names = "--model",
      required = true,
      description = "Export directory (the --out of 'export').")
  Path model;
}
