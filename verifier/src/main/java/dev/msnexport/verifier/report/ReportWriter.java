package dev.msnexport.verifier.report;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the four report files of {@code --report-dir}: report.json (the schema'd result),
 * report.md, junit.xml and report.html. All four are rendered first and then renamed into place
 * together, so the directory never holds a mix of an old and a new run.
 */
public final class ReportWriter {
  public static final String JSON = "report.json";
  public static final String MARKDOWN = "report.md";
  public static final String JUNIT = "junit.xml";
  public static final String HTML = "report.html";

  private ReportWriter() {}

  /**
   * Writes the four files; returns null, or why report.html has no plots ({@link Plots#skipped()}).
   */
  public static String writeVerify(Path dir, VerifyReport r) {
    return writeVerify(dir, r, new Plots(Plots.XCHART));
  }

  /** As {@link #writeVerify(Path, VerifyReport)}, the plots drawn by {@code plots}. */
  public static String writeVerify(Path dir, VerifyReport r, Plots plots) {
    return write(
        dir, r, MarkdownReport.verify(r), JunitXml.verify(r), HtmlReport.verify(r, plots), plots);
  }

  /**
   * Writes the four files; returns null, or why report.html has no plots ({@link Plots#skipped()}).
   */
  public static String writeBench(Path dir, BenchReport r) {
    return writeBench(dir, r, new Plots(Plots.XCHART));
  }

  /** As {@link #writeBench(Path, BenchReport)}, the plots drawn by {@code plots}. */
  public static String writeBench(Path dir, BenchReport r, Plots plots) {
    return write(
        dir, r, MarkdownReport.bench(r), JunitXml.bench(r), HtmlReport.bench(r, plots), plots);
  }

  /** Writes the report as JSON beside its three renderings; returns {@link Plots#skipped()}. */
  private static String write(
      Path dir, Object report, String markdown, String junit, String html, Plots plots) {
    Map<String, String> files = new LinkedHashMap<>();
    files.put(JSON, Profiles.toJson(report) + "\n");
    files.put(MARKDOWN, markdown);
    files.put(JUNIT, junit);
    files.put(HTML, html);
    write(dir, files);
    return plots.skipped();
  }

  private static void write(Path dir, Map<String, String> files) {
    AtomicFiles.ensureWritableDirectory(dir, "report directory");
    try (AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
      for (Map.Entry<String, String> e : files.entrySet()) {
        Files.writeString(
            batch.tempFor(dir.resolve(e.getKey())), e.getValue(), AtomicFiles.existingTemp());
      }
      batch.commit();
    } catch (IOException e) {
      throw AtomicFiles.writeFailed(dir, e);
    }
  }
}
