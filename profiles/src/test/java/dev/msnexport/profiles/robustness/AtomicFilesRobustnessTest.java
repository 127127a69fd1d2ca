package dev.msnexport.profiles.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * AtomicFiles under the failures docs/robustness.md lists: leftovers of killed runs, a failing
 * write (full disk), a target that is a directory, a path under a regular file, and the permissions
 * of what it writes. The kill -9 of a real export is cli's AtomicOutputsTest.
 */
class AtomicFilesRobustnessTest {
  @TempDir Path tmp;

  /** The write fails as bad input whose message names {@code named}. */
  static BadInputException refusedNaming(Path named, Executable write) {
    BadInputException e = assertThrows(BadInputException.class, write);
    assertTrue(e.getMessage().contains(named.toString()), e.getMessage());
    return e;
  }

  static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** PID@HOST as this JVM writes it, read back from a temporary file name. */
  String owner() {
    try (AtomicFiles.Batch b = new AtomicFiles.Batch()) {
      String f =
          b.tempFor(tmp.resolve("probe")).getFileName().toString(); // .probe.PID@HOST.RANDOM.tmp
      String middle = f.substring(".probe.".length(), f.length() - ".tmp".length());
      return middle.substring(0, middle.lastIndexOf('.'));
    }
  }

  @Test
  void leftoversOfDeadProcessesOnThisHostAreDeletedByTheNextWrite() throws Exception {
    String owner = owner();
    String host = owner.substring(owner.indexOf('@'));
    Process done = new ProcessBuilder("true").start();
    assertTrue(done.waitFor(30, TimeUnit.SECONDS));
    Process alive = new ProcessBuilder("sleep", "60").start();
    try {
      Path dead =
          Files.writeString(tmp.resolve(".out.json." + done.pid() + host + ".123.tmp"), "partial");
      Path live =
          Files.writeString(
              tmp.resolve(".out.json." + alive.pid() + host + ".456.tmp"), "being written");
      Path otherHost =
          Files.writeString(
              tmp.resolve(".out.json." + done.pid() + "@elsewhere.789.tmp"), "another host's");
      Path otherTarget =
          Files.writeString(
              tmp.resolve(".other.json." + done.pid() + host + ".1.tmp"), "not this target");
      AtomicFiles.writeString(tmp.resolve("out.json"), "{}");
      assertEquals("{}", Files.readString(tmp.resolve("out.json")));
      assertFalse(Files.exists(dead), "a dead process's leftover is deleted");
      assertTrue(Files.exists(live), "a live writer's temporary file is kept");
      assertTrue(Files.exists(otherHost), "another host's temporary file is kept");
      assertTrue(
          Files.exists(otherTarget), "only leftovers of the target being written are touched");
    } finally {
      alive.destroyForcibly();
    }
  }

  @Test
  void writtenFilesGetThePermissionsOfAPlainNewFile() throws IOException {
    assumeTrue(
        tmp.getFileSystem().supportedFileAttributeViews().contains("posix"),
        "POSIX permissions only");
    Path plain = Files.writeString(tmp.resolve("plain"), "x");
    Path atomic = tmp.resolve("atomic");
    AtomicFiles.writeString(atomic, "x");
    assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(atomic));
  }

  @Test
  void aFailingWriteIsABadInputNamingTheTargetAndKeepsTheOldFile() throws IOException {
    Path target = Files.writeString(tmp.resolve("report.json"), "old");
    BadInputException e =
        refusedNaming(
            target,
            () ->
                AtomicFiles.write(
                    target,
                    t -> {
                      Files.writeString(t, "half");
                      throw new FileSystemException(t.toString(), null, "No space left on device");
                    }));
    assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
    assertEquals("old", Files.readString(target));
    assertEquals(List.of("report.json"), names(tmp), "no temporary file left");
  }

  @Test
  void aTargetThatIsADirectoryIsABadInputNotAnInternalError() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("report.json"));
    Files.writeString(dir.resolve("inside"), "keep");
    refusedNaming(dir, () -> AtomicFiles.writeString(dir, "{}"));
    assertEquals(List.of("report.json"), names(tmp), "no temporary file left");
    assertEquals("keep", Files.readString(dir.resolve("inside")));
  }

  @Test
  void aPathUnderARegularFileIsABadInputNamingIt() throws IOException {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    refusedNaming(file, () -> AtomicFiles.writeString(file.resolve("sub/out.json"), "{}"));
    assertEquals("x", Files.readString(file));
  }

  /**
   * A real full disk: a 1 MiB tmpfs (needs root and CAP_SYS_ADMIN; skipped where mounting is not
   * permitted).
   */
  @Test
  void aFullDiskIsABadInputAndLeavesTheOldFile() throws Exception {
    Path mnt = Files.createDirectories(tmp.resolve("full"));
    assumeTrue(
        Tmpfs.mount(mnt, "1m"),
        "mounting a 1 MiB tmpfs is not permitted here (needs root with CAP_SYS_ADMIN)");
    try {
      Path target = Files.writeString(mnt.resolve("model.bin"), "old");
      byte[] big = new byte[2 << 20];
      BadInputException e =
          refusedNaming(target, () -> AtomicFiles.write(target, t -> Files.write(t, big)));
      assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
      assertEquals("old", Files.readString(target));
      assertEquals(List.of("model.bin"), names(mnt), "no temporary file left");
    } finally {
      Tmpfs.unmount(mnt);
    }
  }

  /** mount/umount through the command line, as root. */
  static final class Tmpfs {
    static boolean mount(Path dir, String size) throws InterruptedException {
      try {
        Process p =
            new ProcessBuilder(
                    "mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
                .redirectErrorStream(true)
                .start();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
      } catch (IOException e) {
        return false; // no mount(8)
      }
    }

    static void unmount(Path dir) throws IOException, InterruptedException {
      new ProcessBuilder("umount", dir.toString())
          .redirectErrorStream(true)
          .start()
          .waitFor(30, TimeUnit.SECONDS);
    }
  }
}
