package dev.msnexport.common;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Copies a native library out of a jar onto disk, where a native loader (ONNX Runtime's custom-op
 * registration, TensorRT's plugin registry) can open it by path.
 *
 * <p>Each extraction gets a fresh private directory ({@link Files#createTempDirectory}: owner-only
 * on POSIX), so two processes, or two extractions in one process, never share, overwrite or load
 * each other's file. The bytes go to a temporary name in that directory and are renamed onto {@code
 * fileName} only once complete (and, when a SHA-256 is expected, only when it matches), so the
 * returned path never names a partial or wrong library. The file and its directory are deleted when
 * the JVM exits. Callers extract once per process and keep the path.
 */
public final class NativeLibraryExtractor {
  private static final String PREFIX = "msn-native-";

  private NativeLibraryExtractor() {}

  /**
   * Writes {@code in} to {@code DIR/fileName} in a new private temporary directory and returns that
   * path. Does not close {@code in}.
   *
   * @param expectedSha256 lower-case hex SHA-256 the bytes must have, or null for no check
   * @throws IllegalStateException when the bytes do not have {@code expectedSha256} (nothing is
   *     left behind)
   * @throws IOException when the temporary directory or file cannot be written
   */
  public static Path extract(InputStream in, String fileName, String expectedSha256)
      throws IOException {
    return extract(in, fileName, expectedSha256, null);
  }

  /**
   * As {@link #extract(InputStream, String, String)}, the private directory made in {@code tmpRoot}
   * (null: the JVM's temp dir).
   */
  static Path extract(InputStream in, String fileName, String expectedSha256, Path tmpRoot)
      throws IOException {
    if (fileName.isEmpty() || fileName.contains("/")) {
      throw new IllegalArgumentException("not a plain file name: '" + fileName + "'");
    }
    Path dir =
        tmpRoot == null
            ? Files.createTempDirectory(PREFIX)
            : Files.createTempDirectory(tmpRoot, PREFIX);
    // deleteOnExit runs in reverse order of registration: the file (registered last) goes before
    // its directory.
    dir.toFile().deleteOnExit();
    Path file = dir.resolve(fileName);
    Path partial = dir.resolve("." + fileName + ".partial");
    try {
      MessageDigest md = Sha256.digest();
      try (OutputStream out = Files.newOutputStream(partial)) {
        new DigestInputStream(in, md).transferTo(out);
      }
      String sha = HexFormat.of().formatHex(md.digest());
      if (expectedSha256 != null && !sha.equals(expectedSha256)) {
        throw new IllegalStateException(
            "extracted " + fileName + " has SHA-256 " + sha + ", expected " + expectedSha256);
      }
      file.toFile().deleteOnExit();
      Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
      return file;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(partial);
      Files.deleteIfExists(dir);
      throw e;
    }
  }
}
