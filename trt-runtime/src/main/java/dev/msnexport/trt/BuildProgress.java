package dev.msnexport.trt;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A line every few seconds while TensorRT builds (the bindings expose no progress-monitor
 * callback).
 */
final class BuildProgress implements AutoCloseable {
  private final Thread thread;

  /**
   * @param everySeconds interval of the line; 0: none
   */
  BuildProgress(PrintStream log, int everySeconds, String what) {
    long t0 = System.nanoTime();
    thread =
        new Thread(
            () -> {
              try {
                while (true) {
                  Thread.sleep(everySeconds * 1000L);
                  log.printf(
                      Locale.ROOT,
                      "build: %s: building, %.0f s elapsed%n",
                      what,
                      (System.nanoTime() - t0) / 1e9);
                }
              } catch (InterruptedException e) {
                // done
              }
            },
            "trt-build-progress");
    thread.setDaemon(true);
    if (everySeconds > 0) {
      thread.start();
    }
  }

  @Override
  public void close() {
    thread.interrupt();
  }
}
