package dev.msnexport.cli;

import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.TrtBackend;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The fixed choices of command-line options. Picocli converts an enum-typed option itself: a value
 * outside the choices is a usage error (exit 2) that lists them, and shell completion offers them.
 * The constants are spelled as the user types them (lower case), so help, errors and completion all
 * show the real spelling; {@link MsnExport#commandLine()} also accepts other cases.
 */
final class Choices {
  private Choices() {}

  /**
   * Storage type of the value tables (export, pipeline); int8 and fp8 (E4M3FN) are quantized per
   * row with float32 scales (docs/model-contract.md).
   */
  enum ValuesDtype {
    fp32,
    fp16,
    bf16,
    int8,
    fp8
  }

  /** Whether weights go to a separate model.data file (export). */
  enum ExternalData {
    auto,
    always,
    never
  }

  /** TensorRT engine precision (build, verify's trt backend). */
  enum Precision {
    fp32,
    fp16
  }

  /** Which exported graph TensorRT compiles (build, verify's trt backend). */
  enum Graph {
    custom,
    reference
  }

  /**
   * Completion candidates of --backends (parsed as free text: trt takes :precision and :graph
   * suffixes).
   */
  static final class BackendNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      List<String> names = new ArrayList<>(List.of(VerifyCommand.DEFAULT_BACKENDS.split(",")));
      for (String suffix : new String[] {"", ":fp16", ":reference", ":fp16:reference"}) {
        names.add(TrtBackend.NAME + suffix);
      }
      return names.iterator();
    }
  }

  /** Completion candidates of --profile: the built-in profiles (a profile file is accepted too). */
  static final class ProfileNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Profiles.BUILT_IN.iterator();
    }
  }
}
