package dev.msnexport.common;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * One writer per output directory: a hidden lock file {@code DIR/.msn-export.lock} held with an
 * operating-system lock ({@link FileChannel#tryLock}, released by the kernel when the process dies,
 * SIGKILL included) and naming its holder ({@code PID@HOST}). A second writer is refused with a
 * {@link BadInputException} naming the directory and the holder; a lock file left by a dead process
 * holds no lock and is taken over.
 *
 * <p>The holder deletes the file when it is done (and the shutdown hook of {@link AtomicFiles} does
 * on SIGINT/SIGTERM). Since a file can be deleted while another process has it open, a process that
 * got the lock checks that the path still names the file it locked (same device and inode before
 * the open and after the lock) and otherwise tries again. The holder never opens the file a second
 * time: closing any descriptor of it would drop a POSIX lock.
 */
public final class OutputLock implements AutoCloseable {
  public static final String FILE = ".msn-export.lock";

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private OutputLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Locks {@code dir} (which must exist) for writing; {@code what} names it in messages ("output
   * directory").
   */
  public static OutputLock acquire(Path dir, String what) {
    Path file = dir.toAbsolutePath().resolve(FILE);
    for (int attempt = 0; attempt < 100; attempt++) {
      Object before = fileKey(file);
      FileChannel ch;
      try {
        ch =
            FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      } catch (IOException e) {
        throw AtomicFiles.writeFailed(file, e);
      }
      boolean keep = false;
      try {
        FileLock l;
        try {
          l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          l = null; // held by this JVM
        }
        if (l == null) {
          throw new BadInputException(
              what
                  + " "
                  + dir
                  + " is in use by another msn-export run ("
                  + holder(file)
                  + ", lock file "
                  + file
                  + "): wait for it to finish or choose another directory");
        }
        // The path named the same file before we opened it and after we locked it: the file we
        // hold is the one at the path (a holder deletes it only while holding it). Else retry.
        if (before != null && before.equals(fileKey(file))) {
          ch.truncate(0);
          ch.write(ByteBuffer.wrap((AtomicFiles.OWNER + "\n").getBytes(StandardCharsets.UTF_8)), 0);
          AtomicFiles.remember(file);
          keep = true;
          return new OutputLock(file, ch, l);
        }
      } catch (IOException e) {
        throw AtomicFiles.writeFailed(file, e);
      } finally {
        if (!keep) {
          try {
            ch.close();
          } catch (IOException ignored) {
            // closing releases the lock
          }
        }
      }
    }
    throw new BadInputException(
        "cannot lock " + what + " " + dir + ": its lock file " + file + " keeps changing");
  }

  /**
   * The file's identity (device and inode) from its attributes, or null if it does not exist. Never
   * opens the file: a POSIX lock is dropped when its process closes any descriptor of the file.
   */
  private static Object fileKey(Path file) {
    try {
      return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  /** "pid N on HOST" as the lock file says, or "pid unknown". */
  private static String holder(Path file) {
    try {
      String s = Files.readString(file).strip();
      int at = s.indexOf('@');
      if (at > 0) {
        return "pid " + s.substring(0, at) + " on " + s.substring(at + 1);
      }
    } catch (IOException | RuntimeException ignored) {
      // the holder may not have written its name yet
    }
    return "pid unknown";
  }

  public Path file() {
    return file;
  }

  /** Deletes the lock file (while still holding the lock), then releases it. */
  @Override
  public void close() {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // a leftover lock file holds no lock: the next writer takes it over
    }
    AtomicFiles.forget(file);
    try {
      lock.release();
      channel.close();
    } catch (IOException ignored) {
      // the kernel releases the lock when the process ends
    }
  }
}
