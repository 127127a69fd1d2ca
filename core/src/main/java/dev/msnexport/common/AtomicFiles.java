package dev.msnexport.common;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Writes files so that a reader (or an interrupted run) sees either the old file or the complete
 * new one, never a partial file: the content goes to a hidden temporary sibling that is renamed
 * over the target only after it was written and flushed. Several files that belong together (an
 * ONNX model and its external data) are committed together by {@link Batch}.
 *
 * <p>A temporary sibling is named {@code .NAME.PID@HOST.RANDOM.tmp}. A run killed with SIGKILL
 * cannot delete its own, so the next write of the same target deletes those whose process is gone
 * from this host (docs/robustness.md). Temporary files get the permissions a plain new file would
 * get (0666 less the umask), so a renamed file is readable like any other output.
 *
 * <p>Every temporary file of an unfinished write is registered here while it exists, and a shutdown
 * hook (SIGINT, SIGTERM, {@code System.exit}) deletes those still registered. A commit runs under
 * the same lock, so a signal lands before or after it, never between its renames.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Temporary files of unfinished writes (and held lock files) that the shutdown hook deletes. */
  private static final Set<Path> LIVE = new java.util.LinkedHashSet<>();

  /** Guards {@link #LIVE}, {@link #shuttingDown} and every commit. */
  private static final Object LOCK = new Object();

  private static boolean shuttingDown;
  private static boolean hookInstalled;

  /**
   * Registers a file for deletion at JVM shutdown (until {@link #forget}); refused once the JVM is
   * shutting down, so no new temporary file outlives the hook.
   */
  static void remember(Path file) {
    synchronized (LOCK) {
      if (shuttingDown) {
        throw new BadInputException("interrupted: not creating " + file + " while shutting down");
      }
      if (!hookInstalled) {
        Runtime.getRuntime()
            .addShutdownHook(new Thread(AtomicFiles::deleteLive, "msn-export-temp-cleanup"));
        hookInstalled = true;
      }
      LIVE.add(file);
    }
  }

  static void forget(Path file) {
    synchronized (LOCK) {
      LIVE.remove(file);
    }
  }

  /** The shutdown hook: deletes every registered file (waits for a commit in progress). */
  static void deleteLive() {
    synchronized (LOCK) {
      shuttingDown = true;
      for (Path p : LIVE) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException | RuntimeException ignored) {
          // best effort: the next write of the same target deletes a leftover
        }
      }
      LIVE.clear();
    }
  }

  /**
   * How a temporary file is opened for writing: it exists already ({@link Batch#tempFor} created
   * it), so never with CREATE. A write that opens it after the shutdown hook deleted it then fails
   * instead of creating a file that nothing deletes any more.
   */
  public static OpenOption[] existingTemp() {
    return new OpenOption[] {StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING};
  }

  /**
   * Body that writes the complete content to the given temporary path (opened with {@link
   * #existingTemp()}).
   */
  @FunctionalInterface
  public interface Writer {
    void write(Path tmp) throws IOException;
  }

  /**
   * Writes {@code target} atomically: the body writes to a temporary sibling that is renamed at the
   * end.
   */
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
    write(target, tmp -> Files.writeString(tmp, content, existingTemp()));
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

  /**
   * Refuses (before anything is written) a write of {@code bytes} into {@code dir} when its file
   * system has less usable space; {@code what} says what needs it ("the checkpoint (fields S, D
   * ...)"). Temporary files need the full size while the old files still exist.
   */
  public static void requireFreeSpace(Path dir, long bytes, String what) {
    long free;
    try {
      free = Files.getFileStore(dir).getUsableSpace();
    } catch (IOException e) {
      return; // unknown: the write itself fails clearly on a full disk
    }
    if (free < bytes) {
      throw new BadInputException(
          "cannot write "
              + dir
              + ": No space left on device ("
              + what
              + " needs "
              + bytes
              + " bytes, "
              + free
              + " bytes are free); nothing was written");
    }
  }

  private static final boolean POSIX =
      FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

  /**
   * rw-rw-rw- before the umask: what Files.newOutputStream would create (createTempFile alone gives
   * rw-------).
   */
  private static final FileAttribute<Set<PosixFilePermission>> PLAIN_FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-"));

  /** PID@HOST of this JVM: who owns a temporary file (HOST reduced to letters, digits and '-'). */
  static final String OWNER = ProcessHandle.current().pid() + "@" + host();

  /** The host name without a DNS lookup (InetAddress.getLocalHost may stall for seconds). */
  private static String host() {
    String h = null;
    try {
      h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip(); // Linux
    } catch (IOException | RuntimeException e) {
      h =
          System.getenv("HOSTNAME") != null
              ? System.getenv("HOSTNAME")
              : System.getenv("COMPUTERNAME");
    }
    h = h == null ? "" : h.replaceAll("[^A-Za-z0-9-]", "-");
    return h.isEmpty() ? "unknown" : h;
  }

  /**
   * Deletes the temporary siblings of {@code dir/name} that a killed run left behind: those owned
   * by a process of this host that is no longer alive (or whose PID now belongs to a process
   * started after the file was written). Temporary files of live processes and of other hosts are
   * kept.
   */
  static void deleteStaleTemps(Path dir, String name) {
    String prefix = "." + name + ".";
    String hostSuffix = OWNER.substring(OWNER.indexOf('@'));
    try (DirectoryStream<Path> temps =
        Files.newDirectoryStream(
            dir,
            p -> {
              String f = p.getFileName().toString();
              return f.startsWith(prefix) && f.endsWith(".tmp");
            })) {
      for (Path tmp : temps) {
        String middle = tmp.getFileName().toString();
        middle =
            middle.substring(prefix.length(), middle.length() - ".tmp".length()); // PID@HOST.RANDOM
        int dot = middle.lastIndexOf('.');
        int at = middle.indexOf('@');
        if (dot < 0 || at <= 0 || at > dot || !middle.substring(at, dot).equals(hostSuffix)) {
          continue; // another host's, or not ours at all
        }
        long pid;
        try {
          pid = Long.parseLong(middle.substring(0, at));
        } catch (NumberFormatException e) {
          continue;
        }
        if (!ownerIsGone(pid, tmp)) {
          continue;
        }
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort: the file is hidden and named *.tmp
        }
      }
    } catch (IOException | java.nio.file.DirectoryIteratorException ignored) {
      // best effort: a listing that fails here fails clearly when the temporary file is created
    }
  }

  private static boolean ownerIsGone(long pid, Path tmp) {
    if (pid == ProcessHandle.current().pid()) {
      return false;
    }
    Optional<ProcessHandle> p = ProcessHandle.of(pid);
    if (p.isEmpty() || !p.get().isAlive()) {
      return true;
    }
    Optional<Instant> started = p.get().info().startInstant();
    try {
      // a PID reused by a process that started after the file was last written
      return started.isPresent()
          && started.get().isAfter(Files.getLastModifiedTime(tmp).toInstant());
    } catch (IOException e) {
      return false;
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
      String name = abs.getFileName().toString();
      deleteStaleTemps(dir, name);
      try {
        String prefix = "." + name + "." + OWNER + ".";
        synchronized (
            LOCK) { // created and registered in one step: the shutdown hook sees every one
          if (shuttingDown) {
            throw new BadInputException("interrupted: not writing " + abs + " while shutting down");
          }
          Path tmp =
              POSIX
                  ? Files.createTempFile(dir, prefix, ".tmp", PLAIN_FILE)
                  : Files.createTempFile(dir, prefix, ".tmp");
          remember(tmp);
          tempToTarget.put(tmp, abs);
          return tmp;
        }
      } catch (IOException e) {
        throw new BadInputException(
            "cannot create a temporary file next to " + abs + ": " + e.getMessage(), e);
      }
    }

    /** Renames every temporary file over its target, in the order they were created. */
    public void commit() {
      commit(null);
    }

    /**
     * Checks that every target can be replaced (none is a directory or another non-file), then
     * deletes {@code invalidateFirst} (null: nothing) and renames every temporary file over its
     * target, in the order they were created. A target that cannot be replaced fails before
     * anything is renamed or deleted, so what was there stays as it was. The whole commit holds the
     * lock of the shutdown hook: SIGINT/SIGTERM land before it or after it.
     */
    public void commit(Path invalidateFirst) {
      synchronized (LOCK) {
        if (shuttingDown) {
          throw new BadInputException(
              "interrupted: not committing " + tempToTarget.values() + " while shutting down");
        }
        for (Path target : tempToTarget.values()) {
          if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)
              && !Files.isRegularFile(target)) {
            throw new BadInputException(
                "cannot write "
                    + target
                    + ": it exists and is "
                    + (Files.isDirectory(target) ? "a directory" : "not a regular file")
                    + " (nothing was replaced)");
          }
        }
        List<Path> done = new ArrayList<>();
        try {
          if (invalidateFirst != null) {
            Files.deleteIfExists(invalidateFirst);
          }
          for (Map.Entry<Path, Path> e : tempToTarget.entrySet()) {
            try {
              try {
                Files.move(
                    e.getKey(),
                    e.getValue(),
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
              } catch (AtomicMoveNotSupportedException notAtomic) {
                Files.move(e.getKey(), e.getValue(), StandardCopyOption.REPLACE_EXISTING);
              }
              done.add(e.getKey());
              LIVE.remove(e.getKey());
            } catch (IOException ex) {
              throw writeFailed(e.getValue(), ex);
            }
          }
        } catch (IOException ex) {
          throw writeFailed(invalidateFirst, ex);
        } finally {
          tempToTarget.keySet().removeAll(done);
        }
        committed = true;
      }
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
          forget(tmp);
        }
      }
    }
  }
}
