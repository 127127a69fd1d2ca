package dev.msnexport.exporter.progress;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar of bytes written: {@code label [#####.....] 3.2/13.0 GB 25% 410 MB/s},
 * redrawn in place ({@code \r}) at most every {@link #REDRAW_NANOS}. {@link #onStderr} draws only
 * when standard error is a terminal, so logs and pipes stay clean; {@link #NONE} draws nothing.
 * Several threads may report to one bar.
 */
public class Progress implements AutoCloseable {
  /** Draws nothing (not a terminal, {@code --quiet}, tests). */
  public static final Progress NONE = new Progress(null, "", 1, System::nanoTime);

  static final long REDRAW_NANOS = 200_000_000L;
  private static final int WIDTH = 30;

  private final PrintStream out;
  private final String label;
  private final long total;
  private final LongSupplier clock;
  private final long start;
  private long done;
  private long lastDraw = Long.MIN_VALUE;

  Progress(PrintStream out, String label, long total, LongSupplier clock) {
    this.out = out;
    this.label = label;
    this.total = Math.max(1, total);
    this.clock = clock;
    this.start = clock.getAsLong();
  }

  /**
   * A bar on standard error for {@code totalBytes}, or {@link #NONE} when {@code quiet} or when
   * standard error is not a terminal.
   */
  public static Progress onStderr(String label, long totalBytes, boolean quiet) {
    if (quiet || !stderrIsTerminal()) {
      return NONE;
    }
    return new Progress(System.err, label, totalBytes, System::nanoTime);
  }

  /**
   * Whether file descriptor 2 is a terminal: on Linux, where {@code /proc/self/fd/2} points (a
   * pseudo-terminal or a tty device); elsewhere, whether the JVM has a console (stdin and stdout
   * both terminals), the nearest test Java 17 offers.
   */
  static boolean stderrIsTerminal() {
    Path fd2 = Path.of("/proc/self/fd/2");
    try {
      if (Files.isSymbolicLink(fd2)) {
        String target = Files.readSymbolicLink(fd2).toString();
        return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
      }
    } catch (java.io.IOException | SecurityException e) {
      // fall through to the console test
    }
    return System.console() != null;
  }

  /** Records {@code bytes} more done and redraws when the last drawing is old enough. */
  public synchronized void advance(long bytes) {
    if (out == null) {
      return;
    }
    done += bytes;
    long now = clock.getAsLong();
    if (now - lastDraw >= REDRAW_NANOS || done >= total) {
      lastDraw = now;
      out.print("\r" + line(now));
      out.flush();
    }
  }

  /** The bar as it would be drawn at {@code now} (nanoseconds of this bar's clock). */
  String line(long now) {
    double frac = Math.min(1.0, (double) done / total);
    int filled = (int) Math.round(frac * WIDTH);
    double seconds = Math.max((now - start) / 1e9, 1e-9);
    return String.format(
        Locale.ROOT,
        "%s [%s%s] %.1f/%.1f GB %3.0f%% %.0f MB/s",
        label,
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        done / 1e9,
        total / 1e9,
        100 * frac,
        done / 1e6 / seconds);
  }

  /** Draws the final state and ends the line. */
  @Override
  public synchronized void close() {
    if (out != null) {
      out.print("\r" + line(clock.getAsLong()) + System.lineSeparator());
      out.flush();
    }
  }
}
