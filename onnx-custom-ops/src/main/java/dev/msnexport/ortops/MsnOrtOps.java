package dev.msnexport.ortops;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The msn custom-op library for ONNX Runtime (libmsn_ort_ops.so, packaged in this jar), extracted
 * once per JVM to a private temporary file and registered on session options. Session options
 * must outlive every session created from them; the library stays loaded for the process.
 */
public final class MsnOrtOps {
  static final String RESOURCE = "/native/linux-x86_64/libmsn_ort_ops.so";
  private static Path extracted;

  private MsnOrtOps() {}

  /** Path of the extracted library (extracted on first use, deleted at JVM exit). */
  public static synchronized Path libraryPath() {
    if (extracted == null) {
      try (InputStream in = MsnOrtOps.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("the msn ONNX Runtime op library " + RESOURCE + " is missing from the onnx-custom-ops jar "
              + "(was the native build skipped?)");
        }
        Path dir = Files.createTempDirectory("msn-ort-ops");
        Path lib = dir.resolve("libmsn_ort_ops.so");
        Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
        lib.toFile().deleteOnExit();
        dir.toFile().deleteOnExit();
        extracted = lib;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot extract the msn ONNX Runtime op library", e);
      }
    }
    return extracted;
  }

  /** Registers PKMRetrieval and SparseGather (domain msn) on {@code options}. */
  public static void register(OrtSession.SessionOptions options) throws OrtException {
    options.registerCustomOpLibrary(libraryPath().toString());
  }
}
