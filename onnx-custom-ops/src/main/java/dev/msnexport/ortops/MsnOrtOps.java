package dev.msnexport.ortops;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.msnexport.common.NativeLibraryExtractor;
import dev.msnexport.ops.OpTable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The msn custom operators for ONNX Runtime: {@code msn.PKMRetrieval} and {@code msn.SparseGather}
 * (see docs/model-contract.md and this module's README).
 *
 * <p>The native library {@code libmsn_ort_ops.so} travels inside this jar at {@value #RESOURCE}.
 * The first call to {@link #libraryPath()} copies it, once per JVM, into a private temporary
 * directory ({@link NativeLibraryExtractor}: owner-only, renamed into place once complete, deleted
 * when the JVM exits); ONNX Runtime loads it from there.
 *
 * <p>Ownership: the caller owns the {@link OrtSession.SessionOptions} passed to {@link #register}.
 * The options must stay open for as long as any session created from them is open, because closing
 * the options unloads the library that those sessions call into. Close the sessions first, then the
 * options:
 *
 * <pre>{@code
 * try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
 *   MsnOrtOps.register(options);
 *   try (OrtSession session = env.createSession(modelBytes, options)) {
 *     ...
 *   }
 * }
 * }</pre>
 */
public final class MsnOrtOps {

  /** The custom operator domain of our ops (from the op table, core's ops.json). */
  public static final String DOMAIN = OpTable.standard().domain();

  /** Op type of the retrieval op (inputs row_scores, col_scores; attribute k). */
  public static final String PKM_RETRIEVAL = OpTable.standard().op(OpTable.PKM_RETRIEVAL).name();

  /** Op type of the fused weighted gather (inputs values, indices, weights). */
  public static final String SPARSE_GATHER = OpTable.standard().op(OpTable.SPARSE_GATHER).name();

  /** Op type of the fused memory layer (inputs x, Wq, ..., values; attributes k, gate, ...). */
  public static final String MSN_LAYER = OpTable.standard().op(OpTable.MSN_LAYER).name();

  /**
   * The ONNX Runtime C API version the library asks for (MSN_ORT_API_VERSION in
   * src/main/native/include/msn_ort_abi.h); any ONNX Runtime from 1.17 on serves it.
   */
  public static final int ORT_API_VERSION = 17;

  /** Where the library sits inside the jar. */
  public static final String RESOURCE = "/native/linux-x86_64/libmsn_ort_ops.so";

  /** The extracted library's file name. */
  public static final String FILE_NAME = "libmsn_ort_ops.so";

  private static Path extracted;

  private MsnOrtOps() {}

  /**
   * The extracted library, ready for {@link OrtSession.SessionOptions#registerCustomOpLibrary}.
   * Extracts it on first use; later calls return the same path.
   *
   * @throws UnsupportedOperationException on anything but Linux x86-64
   * @throws IllegalStateException if the library is missing from the jar
   * @throws UncheckedIOException if it cannot be written to the temporary directory
   */
  public static synchronized Path libraryPath() {
    if (extracted == null) {
      extracted = extract();
    }
    return extracted;
  }

  /**
   * Registers the msn domain on {@code options}; sessions created from them can run graphs that use
   * {@code msn.PKMRetrieval} and {@code msn.SparseGather}. Call once per options object.
   *
   * @throws OrtException if ONNX Runtime refuses the library (for example, a runtime older than
   *     1.17, whose C API lacks version {@value #ORT_API_VERSION})
   */
  public static void register(OrtSession.SessionOptions options) throws OrtException {
    if (options == null) {
      throw new NullPointerException("options");
    }
    options.registerCustomOpLibrary(libraryPath().toString());
  }

  private static Path extract() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new UnsupportedOperationException(
          "libmsn_ort_ops is built for linux-x86_64 only; this JVM runs on " + os + "/" + arch);
    }
    try (InputStream in = MsnOrtOps.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "native library "
                + RESOURCE
                + " is missing from the onnx-custom-ops jar on the class path"
                + " (was the module built with its native step, on linux-x86_64?)");
      }
      return NativeLibraryExtractor.extract(in, FILE_NAME, null);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + RESOURCE + " to a temporary file", e);
    }
  }
}
