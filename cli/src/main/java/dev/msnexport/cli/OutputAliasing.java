package dev.msnexport.cli;

import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.verifier.report.ReportWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * Refuses a command line whose outputs would overwrite its own inputs ({@code verify --report
 * EXPORT/manifest.json}, {@code --save-golden CKPT/model.safetensors}, {@code export --out CKPT}, a
 * report directory inside an export): a usage error (exit 2) naming both options, before anything
 * is read or written. Paths are compared as real paths: existing ones through {@link
 * Path#toRealPath} (symbolic links, {@code ..}), not yet existing ones as their nearest existing
 * parent's real path plus the rest, normalized.
 */
final class OutputAliasing {
  /** What export writes into its --out. */
  static final String[] EXPORT_FILES = {
    MsnOnnxExporter.CUSTOM_FILE,
    MsnOnnxExporter.REFERENCE_FILE,
    MsnOnnxExporter.DATA_FILE,
    MsnOnnxExporter.MANIFEST_FILE
  };

  /** What --report-dir receives. */
  static final String[] REPORT_FILES = {
    ReportWriter.JSON, ReportWriter.MARKDOWN, ReportWriter.JUNIT, ReportWriter.HTML
  };

  private record Entry(String option, Path path, List<String> files) {}

  private final List<Entry> inputs = new ArrayList<>();
  private final List<Entry> outputs = new ArrayList<>();

  /** An input file or directory (a directory's whole content is input); null is ignored. */
  OutputAliasing input(String option, Path path) {
    if (path != null) {
      inputs.add(new Entry(option, real(path), List.of()));
    }
    return this;
  }

  /** {@code --profile} when it names a profile file (not a built-in name); null is ignored. */
  OutputAliasing profile(String option, String nameOrPath) {
    return nameOrPath != null && Files.isRegularFile(Path.of(nameOrPath))
        ? input(option, Path.of(nameOrPath))
        : this;
  }

  /** An output file; null is ignored. */
  OutputAliasing output(String option, Path file) {
    if (file != null) {
      outputs.add(new Entry(option, real(file), List.of()));
    }
    return this;
  }

  /**
   * An output directory into which the command writes {@code files} (names in it); null is ignored.
   */
  OutputAliasing outputDir(String option, Path dir, String... files) {
    if (dir != null) {
      outputs.add(new Entry(option, real(dir), List.of(files)));
    }
    return this;
  }

  /** Throws a usage error naming both options when an output is, holds or lies inside an input. */
  void check(CommandLine cl) {
    for (Entry out : outputs) {
      for (Entry in : inputs) {
        String why = conflict(out, in);
        if (why != null) {
          throw new CommandLine.ParameterException(
              cl,
              out.option()
                  + " "
                  + out.path()
                  + " "
                  + why
                  + " "
                  + in.option()
                  + " "
                  + in.path()
                  + ": an output must not overwrite an input; choose another path");
        }
      }
    }
  }

  private static String conflict(Entry out, Entry in) {
    if (out.path().equals(in.path())) {
      return "is the same path as";
    }
    if (out.path().startsWith(in.path())) {
      return "lies inside";
    }
    if (in.path().startsWith(out.path())) {
      if (out.files().isEmpty()) {
        return "would replace the directory that holds"; // a file written onto a directory of
        // inputs
      }
      for (String f : out.files()) {
        if (in.path().startsWith(out.path().resolve(f))) {
          return "would write " + f + " over";
        }
      }
    }
    return null;
  }

  /**
   * The real path of {@code p}, or of its nearest existing parent with the rest appended
   * (normalized).
   */
  static Path real(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    Path existing = abs;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return abs;
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
    } catch (IOException e) {
      return abs;
    }
  }
}
