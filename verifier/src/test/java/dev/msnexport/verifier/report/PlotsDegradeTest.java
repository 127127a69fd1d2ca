package dev.msnexport.verifier.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Charts degrade: where AWT is missing or fails (a Java runtime without java.desktop: {@code
 * NoClassDefFoundError: java/awt/Color}; a headless machine without fonts), the report directory
 * still gets every file and table, report.html says the plots were skipped and why, and the writer
 * returns that reason for the console's one line.
 */
class PlotsDegradeTest {
  @TempDir Path tmp;

  /** A plot source that fails like a runtime without java.desktop, counting its calls. */
  static final class NoAwt implements Plots.Source {
    final AtomicInteger calls = new AtomicInteger();
    final Throwable failure;

    NoAwt(Throwable failure) {
      this.failure = failure;
    }

    private String fail() {
      calls.incrementAndGet();
      if (failure instanceof Error e) {
        throw e;
      }
      throw (RuntimeException) failure;
    }

    @Override
    public String errorHistogram(VerifyReport.Comparison c) {
      return fail();
    }

    @Override
    public String latencyCdf(List<BenchResult> atBatch, int batch, double fromPercent) {
      return fail();
    }
  }

  @Test
  void aVerifyReportWithoutAwtHasEverythingButThePlots() throws Exception {
    NoAwt src = new NoAwt(new NoClassDefFoundError("java/awt/Color"));
    String why = ReportWriter.writeVerify(tmp, ReportsTest.verifyReport(), new Plots(src));
    assertEquals("NoClassDefFoundError: java/awt/Color", why);
    assertEquals(1, src.calls.get(), "the first failure turns the other plots off");
    for (String f :
        new String[] {
          ReportWriter.JSON, ReportWriter.MARKDOWN, ReportWriter.JUNIT, ReportWriter.HTML
        }) {
      assertTrue(Files.size(tmp.resolve(f)) > 0, f);
    }
    String html = Files.readString(tmp.resolve(ReportWriter.HTML));
    assertTrue(
        html.contains("<h2>Outputs</h2>")
            && html.contains("charts skipped")
            && html.contains("java/awt/Color"),
        html);
    assertFalse(html.contains("data:image/png"), "no plot");
    assertTrue(
        Plots.skippedLine(why).startsWith("charts skipped (")
            && Plots.skippedLine(why).lines().count() == 1);
  }

  @Test
  void aBenchReportWithFailingFontsHasEverythingButThePlots() throws Exception {
    NoAwt src =
        new NoAwt(
            new InternalError(
                "java.lang.reflect.InvocationTargetException\n  at sun.awt.FontConfiguration"));
    String why = ReportWriter.writeBench(tmp, ReportsTest.benchReport(), new Plots(src));
    assertEquals(
        "InternalError: java.lang.reflect.InvocationTargetException at sun.awt.FontConfiguration",
        why,
        "one line");
    String html = Files.readString(tmp.resolve(ReportWriter.HTML));
    assertTrue(
        html.contains("<h2>Host latency (ms)</h2>") && html.contains("charts skipped"), html);
    assertTrue(Files.readString(tmp.resolve(ReportWriter.JSON)).contains("\"results\""));
  }

  @Test
  void plotsThatDrawLeaveNoNoteAndRunningOutOfMemoryIsNoChartProblem() throws Exception {
    assertNull(ReportWriter.writeVerify(tmp, ReportsTest.verifyReport()), "XChart draws here");
    assertTrue(Files.readString(tmp.resolve(ReportWriter.HTML)).contains("data:image/png"));
    assertFalse(Files.readString(tmp.resolve(ReportWriter.HTML)).contains("charts skipped"));
    NoAwt oom = new NoAwt(new OutOfMemoryError("Java heap space"));
    assertThrows(
        OutOfMemoryError.class, () -> HtmlReport.bench(ReportsTest.benchReport(), new Plots(oom)));
  }
}
