package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * {@code msn-export} in a child JVM (a heap of its own; killed or signalled in the middle of a
 * write), the polling of the directory it writes, and other commands run as child processes.
 */
public final class ChildJvm {
  private ChildJvm() {}

  /**
   * Runs {@code msn-export ARGS} in a child JVM with the heap option {@code heap} ({@code -Xmx1g}),
   * stdout and stderr into {@code log}, and asserts that it ends within {@code minutes}.
   */
  public static Ended runWithHeap(Path log, String heap, long minutes, String... args)
      throws Exception {
    Process p = start(log, heap, null, args);
    assertTrue(p.waitFor(minutes, TimeUnit.MINUTES), "child timed out: " + String.join(" ", args));
    return new Ended(String.join(" ", args), p.exitValue(), Files.readString(log));
  }

  /** The exit code and the output (stdout and stderr) of a child that ran to its end. */
  public record Ended(String command, int code, String out) {
    /** Asserts exit code 0 (the message holds the output): the output. */
    public String ok() {
      assertEquals(0, code, command + " failed:\n" + out);
      return out;
    }
  }

  /**
   * Starts {@code msn-export} (a {@link CliRun#args} template) with a 512 MiB heap, stdout and
   * stderr into {@code log}. With {@code signalToReset}, that signal's default action is restored
   * first: a JVM started with SIGINT ignored (a background job of a script or of Maven) keeps it
   * ignored.
   */
  public static Process start(Path log, String signalToReset, String template, Object... values)
      throws IOException {
    return start(log, "-Xmx512m", signalToReset, CliRun.args(template, values));
  }

  private static Process start(Path log, String heap, String signalToReset, String[] args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    if (signalToReset != null) {
      cmd.addAll(List.of("env", "--default-signal=" + signalToReset));
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of(heap, "-cp", System.getProperty("java.class.path")));
    cmd.add(MsnExport.class.getName());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /**
   * Polls {@code dir} until {@code trigger} holds for one of its entries: true; false if the child
   * ended first or five minutes passed.
   */
  public static boolean waitFor(Process p, Path dir, Predicate<Path> trigger) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (p.isAlive() && System.nanoTime() < deadline) {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> s = Files.list(dir)) {
          if (s.anyMatch(trigger)) {
            return true;
          }
        } catch (java.nio.file.NoSuchFileException raced) {
          // a temporary file was renamed while listing
        }
      }
      Thread.sleep(1);
    }
    return false;
  }

  /** A temporary file ({@code .TARGET.*.tmp}) of {@code target} larger than {@code bytes}. */
  public static Predicate<Path> tempLargerThan(String target, long bytes) {
    return p -> {
      String f = p.getFileName().toString();
      try {
        return f.startsWith("." + target + ".") && f.endsWith(".tmp") && Files.size(p) > bytes;
      } catch (IOException e) {
        return false;
      }
    };
  }

  /**
   * Runs a command (a {@link CliRun#args} template) and waits up to 30 seconds: whether it exited
   * with 0; false where it cannot be started.
   */
  public static boolean command(String template, Object... values) throws InterruptedException {
    try {
      Process p =
          new ProcessBuilder(CliRun.args(template, values)).redirectErrorStream(true).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }
}
