package dev.msnexport.verifier.report;

import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchResult;
import java.util.List;

/**
 * The plots of one report.html, drawn by a {@link Source} (XChart and AWT by default). Where AWT is
 * missing or fails (a Java runtime without java.desktop, a headless machine without fonts), the
 * first failure turns every later plot off and {@link #skipped()} says why: the report loses its
 * pictures, never the run.
 */
public final class Plots {
  /** Draws plots as PNG data URIs; a seam, so that a failing AWT can be simulated. */
  public interface Source {
    String errorHistogram(VerifyReport.Comparison c);

    String latencyCdf(List<BenchResult> atBatch, int batch, double fromPercent);
  }

  /** XChart on AWT ({@link Charts}), loaded only when the first plot is drawn. */
  public static final Source XCHART =
      new Source() {
        @Override
        public String errorHistogram(VerifyReport.Comparison c) {
          return Charts.dataUri(Charts.errorHistogram(c));
        }

        @Override
        public String latencyCdf(List<BenchResult> atBatch, int batch, double fromPercent) {
          return Charts.dataUri(Charts.latencyCdf(atBatch, batch, fromPercent));
        }
      };

  private final Source source;
  private String skipped;

  public Plots(Source source) {
    this.source = source;
  }

  /**
   * The data URI {@code draw} makes from the source, or null once plots are skipped. Any failure
   * but running out of memory or stack (class not found, AWT or font errors) skips the plots.
   */
  String draw(java.util.function.Function<Source, String> draw) {
    if (skipped != null) {
      return null;
    }
    try {
      return draw.apply(source);
    } catch (OutOfMemoryError | StackOverflowError e) {
      throw e;
    } catch (
        Throwable
            t) { // NoClassDefFoundError: java/awt/Color, AWTError, InternalError from the font
      // manager, ...
      skipped =
          (t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage()))
              .replaceAll("\\s*\\R\\s*", " ");
      return null;
    }
  }

  /** Null when every plot was drawn; else why they were skipped (one line). */
  public String skipped() {
    return skipped;
  }

  /** The sentence for the console: plots skipped and why. */
  public static String skippedLine(String why) {
    return "charts skipped (Java's java.desktop/AWT cannot draw here: "
        + why
        + "); every other report file and table was written";
  }
}
