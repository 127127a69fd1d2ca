package dev.msnexport.common;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes files so that a reader (or an interrupted run) sees either the old file or the complete
 * new one, never a partial file: the content goes to a hidden temporary sibling that is renamed
 * over the target only after it was written and flushed. Several files that belong together (an
 * ONNX model and its external data) are committed together by {@link Batch}.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Body that writes the complete content to the given temporary path. */
  @FunctionalInterface
  public interface Writer {
    void write(Path tmp) throws IOException;
  }

  /** Writes {@code target} atomically: the body writes to a temporary sibling that is renamed at the end. */
  public static void write(Path target, Writer body) {
    try (Batch batch = new Batch()) {
      body.write(batch.tempFor(target));
      batch.commit();
    } catch (IOException e) {
      throw writeFailed(target, e);
    }
  }

  /** A clear error for a failed write (full disk, read-only file system), naming the file. */
  public static BadInputException writeFailed(Path target, IOException e) {
    String why = e instanceof FileSystemException fse ? reason(fse) : e.getMessage();
    return new BadInputException("cannot write " + target + ": " + why, e);
  }

  public static void writeString(Path target, String content) {
    write(target, tmp -> Files.writeString(tmp, content));
  }

  /** Creates {@code dir} (and parents) or fails with a message naming it. */
  public static void ensureWritableDirectory(Path dir, String what) {
    try {
      Files.createDirectories(dir);
    } catch (FileSystemException e) {
      throw new BadInputException(what + " " + dir + " cannot be created: " + reason(e), e);
    } catch (IOException e) {
      throw new BadInputException(what + " " + dir + " cannot be created: " + e.getMessage(), e);
    }
    if (!Files.isDirectory(dir)) {
      throw new BadInputException(what + " " + dir + " is not a directory");
    }
    if (!Files.isWritable(dir)) {
      throw new BadInputException(what + " " + dir + " is not writable");
    }
  }

  private static String reason(FileSystemException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    return e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
  }

  /**
   * A group of files written to temporary siblings and renamed into place together on {@link
   * #commit()}; closing an uncommitted batch deletes every temporary file.
   */
  public static final class Batch implements AutoCloseable {
    private final Map<Path, Path> tempToTarget = new LinkedHashMap<>();
    private boolean committed;

    /** A fresh temporary sibling of {@code target}; the directory must exist and be writable. */
    public Path tempFor(Path target) {
      Path abs = target.toAbsolutePath();
      Path dir = abs.getParent();
      ensureWritableDirectory(dir, "output directory");
      try {
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        tempToTarget.put(tmp, abs);
        return tmp;
      } catch (IOException e) {
        throw new BadInputException("cannot create a temporary file next to " + abs + ": " + e.getMessage(), e);
      }
    }

    /** Renames every temporary file over its target, in the order they were created. */
    public void commit() {
      List<Path> done = new ArrayList<>();
      for (Map.Entry<Path, Path> e : tempToTarget.entrySet()) {
        try {
          try {
            Files.move(e.getKey(), e.getValue(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          } catch (AtomicMoveNotSupportedException notAtomic) {
            Files.move(e.getKey(), e.getValue(), StandardCopyOption.REPLACE_EXISTING);
          }
          done.add(e.getKey());
        } catch (IOException ex) {
          throw new UncheckedIOException("cannot move " + e.getKey() + " to " + e.getValue(), ex);
        }
      }
      committed = true;
      tempToTarget.keySet().removeAll(done);
    }

    @Override
    public void close() {
      if (!committed) {
        for (Path tmp : tempToTarget.keySet()) {
          try {
            Files.deleteIfExists(tmp);
          } catch (IOException ignored) {
            // best effort: the file is hidden and named *.tmp
          }
        }
      }
    }
  }
}
