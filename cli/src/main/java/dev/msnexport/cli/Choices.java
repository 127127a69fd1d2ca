package dev.msnexport.cli;

import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.BackendSpec;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;

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
    fp16;

    BackendSpec.Precision spec() {
      return BackendSpec.Precision.valueOf(name().toUpperCase(Locale.ROOT));
    }
  }

  /** Which exported graph TensorRT compiles (build, verify's trt backend). */
  enum Graph {
    custom,
    reference;

    BackendSpec.Graph spec() {
      return BackendSpec.Graph.valueOf(name().toUpperCase(Locale.ROOT));
    }
  }

  /**
   * Parses a --backends entry ({@link BackendSpec#parse}): a bad one is a usage error (exit 2) that
   * lists the accepted forms.
   */
  static final class BackendSpecs implements CommandLine.ITypeConverter<BackendSpec> {
    @Override
    public BackendSpec convert(String value) {
      try {
        return BackendSpec.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** Completion candidates of --backends (trt takes :precision and :graph suffixes). */
  static final class BackendNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      BackendSpec.Precision fp16 = BackendSpec.Precision.FP16;
      BackendSpec.Graph reference = BackendSpec.Graph.REFERENCE;
      BackendSpec.Runtime trt = BackendSpec.Runtime.TRT;
      return List.of(
              BackendSpec.GOLDEN,
              BackendSpec.ORT_REFERENCE,
              BackendSpec.ORT_CUSTOM,
              BackendSpec.TRT,
              new BackendSpec(trt, null, fp16),
              new BackendSpec(trt, reference, null),
              new BackendSpec(trt, reference, fp16))
          .stream()
          .map(BackendSpec::format)
          .iterator();
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
