package dev.msnexport.cli;

import dev.msnexport.exporter.names.NameMap;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code --name-map FILE}, declared once for every command that opens a checkpoint (export,
 * inspect, verify, bench, pipeline): a picocli mixin around {@link NameMap}.
 */
final class NameMapOption {
  @Option(
      names = "--name-map",
      paramLabel = "FILE",
      description =
          "JSON map from the checkpoint's tensor names to the contract's: "
              + "{\"from\": \"to\", ...} (null drops a tensor) or {\"rules\": [{\"pattern\": REGEX, \"replacement\": ...}, ...]} "
              + "(applied in order; {\"pattern\": REGEX, \"drop\": true} drops). Fails naming the tensors when two map to one name or one "
              + "is left outside the contract.")
  Path file;

  /**
   * The map in FILE, or null without the option (the checkpoint's names are the contract's
   * already).
   */
  NameMap read() {
    return file == null ? null : NameMap.read(file);
  }

  /**
   * Refuses the option without a checkpoint (pipeline's synthetic one has the contract's names).
   */
  void requireCheckpoint(CommandLine cl, Path checkpoint) {
    if (file != null && checkpoint == null) {
      throw new ParameterException(
          cl,
          "--name-map needs --checkpoint: the synthetic checkpoint has the contract's "
              + "names already");
    }
  }
}
