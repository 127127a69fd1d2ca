package dev.msnexport.common;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;

/**
 * The one gate every input file passes before it is opened: it must be a regular file (after
 * symbolic links). A FIFO, a socket or a device would block a reader forever or stream without end,
 * and a directory cannot be read, so each is refused as bad input naming the file. JSON and other
 * text inputs are also held to a size cap, so a huge or endless file is refused before it fills the
 * heap.
 */
public final class InputFiles {
  /** Cap of small JSON inputs: config.json, manifest.json, profiles, name maps, engine sidecars. */
  public static final long MAX_CONFIG_BYTES = 16L << 20;

  /** Cap of JSON data inputs: bench and verify reports, Polygraphy golden files. */
  public static final long MAX_DATA_BYTES = 512L << 20;

  private InputFiles() {}

  /**
   * Returns {@code file} when it is a regular file; else bad input naming it ({@code what}, e.g.
   * "config file") and what it is instead: missing, a directory, a FIFO or device.
   */
  public static Path requireRegularFile(Path file, String what) {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new BadInputException(what + " " + file + " does not exist");
    } catch (IOException e) {
      throw new BadInputException(what + " " + file + " cannot be read: " + e.getMessage(), e);
    }
    if (!a.isRegularFile()) {
      throw new BadInputException(
          what + " " + file + " is " + kind(file, a) + ", not a regular file");
    }
    return file;
  }

  private static String kind(Path file, BasicFileAttributes a) {
    if (a.isDirectory()) {
      return "a directory";
    }
    try {
      Object mode = Files.getAttribute(file, "unix:mode");
      int type = ((Integer) mode) & 0170000;
      return switch (type) {
        case 0010000 -> "a FIFO (named pipe)";
        case 0020000 -> "a character device";
        case 0060000 -> "a block device";
        case 0140000 -> "a socket";
        default -> "a special file";
      };
    } catch (IOException
        | UnsupportedOperationException
        | IllegalArgumentException
        | ClassCastException e) {
      return "a special file (FIFO, device or socket)";
    }
  }

  /**
   * The UTF-8 text of a regular file of at most {@code maxBytes} bytes; else bad input naming it.
   * The size is checked while reading too, so a file that grows cannot get past the cap.
   */
  public static String readText(Path file, String what, long maxBytes) {
    requireRegularFile(file, what);
    byte[] bytes = load(file, what, () -> readCapped(file, what, maxBytes));
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new BadInputException(what + " " + file + " is not UTF-8 text");
    }
  }

  private static byte[] readCapped(Path file, String what, long maxBytes) {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      long size = Files.size(file);
      if (size > maxBytes) {
        throw tooLarge(file, what, size, maxBytes);
      }
      bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
      if (bytes.length > maxBytes) {
        throw tooLarge(file, what, bytes.length, maxBytes);
      }
    } catch (IOException e) {
      throw new BadInputException(what + " " + file + " cannot be read: " + e.getMessage(), e);
    }
    return bytes;
  }

  /**
   * Runs {@code load} (which reads {@code file}); an {@link OutOfMemoryError} there means the input
   * is too large for this heap: bad input naming the file, with the heap hint {@link #heapHint()}.
   */
  public static <T> T load(Path file, String what, java.util.function.Supplier<T> load) {
    try {
      return load.get();
    } catch (OutOfMemoryError e) {
      throw new BadInputException(
          what
              + " "
              + file
              + " is too large to load into the Java heap (at most "
              + (Runtime.getRuntime().maxMemory() >> 20)
              + " MiB): give the JVM more, e.g. "
              + heapHint(),
          e);
    }
  }

  /**
   * How a user gives the command more heap: {@code MSN_EXPORT_JAVA_OPTS=-Xmx...}, twice this JVM's
   * heap, at least 1 GiB.
   */
  public static String heapHint() {
    long mib = Math.max(1024, 2 * (Runtime.getRuntime().maxMemory() >> 20));
    return "MSN_EXPORT_JAVA_OPTS=-Xmx" + (mib % 1024 == 0 ? (mib / 1024) + "g" : mib + "m");
  }

  private static BadInputException tooLarge(Path file, String what, long size, long maxBytes) {
    return new BadInputException(
        String.format(
            Locale.ROOT,
            "%s %s has %,d bytes, more than the %,d bytes (%d MiB) such a file may have",
            what,
            file,
            size,
            maxBytes,
            maxBytes >> 20));
  }
}
