package dev.msnexport.verifier.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.health.MemoryHealth;
import dev.msnexport.verifier.latency.BenchFixtures;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.latency.LatencyGate;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The four report kinds: schemas and key order, JUnit XML structure, Markdown text, self-contained
 * HTML.
 */
class ReportsTest {
  @TempDir Path tmp;

  /** An output of shape [3, 1] compared with the reference 0.5, 0.25, 0.125. */
  static OutputComparison output(String name, double... candidate) {
    return OutputComparison.of(
        name, new long[] {3, 1}, candidate, new double[] {0.5, 0.25, 0.125}, 1e-5, 1e-5);
  }

  /** Retrieval layer 0, k = 2, against the reference slots 1 and 2 weighted 0.5 each. */
  static RetrievalComparison layer0(long[] slots, double... weights) {
    return RetrievalComparison.of(
        0, 2, slots, weights, new long[] {1, 2}, new double[] {0.5, 0.5}, null, 1e-4, null, null);
  }

  /**
   * Two comparisons: one passes, one has a failing output and a mismatched retrieval layer; one
   * backend errored.
   */
  static VerifyReport verifyReport() {
    OutputComparison ok = output("click", 0.5, 0.25, 0.125);
    OutputComparison bad = output("finish <&\"'>", 0.5, 0.3, 0.125);
    RetrievalComparison same = layer0(new long[] {1, 2}, 0.5, 0.5);
    RetrievalComparison diff = layer0(new long[] {1, 3}, 0.9, 0.1);
    return new VerifyReport(
        VerifyReport.SCHEMA,
        "test",
        "m",
        "tiny",
        "fp32",
        3,
        0,
        false,
        List.of(
            new VerifyReport.BackendRun("golden", "ok", 0.1, null),
            new VerifyReport.BackendRun("ort-reference", "ok", 0.2, null),
            new VerifyReport.BackendRun("ort-custom", "error", 0.0, "cannot load \u0001 library")),
        List.of(
            new VerifyReport.Comparison(
                "ort-reference", "golden", true, List.of(ok), List.of(same)),
            new VerifyReport.Comparison(
                "ort-custom", "golden", false, List.of(ok, bad), List.of(diff))),
        null,
        null,
        null);
  }

  static long[] samples(long seed, int n, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] s = new long[n];
    for (int i = 0; i < n; i++) {
      s[i] = Math.round(100_000 * scale * Math.exp(0.3 * r.nextGaussian()));
    }
    return s;
  }

  static BenchReport benchReport() {
    List<BenchResult> results = new ArrayList<>();
    List<GateResult> gates = new ArrayList<>();
    LatencyGate.Settings gs = new LatencyGate.Settings(500, 0.95, 0);
    for (int batch : new int[] {1, 64}) {
      BenchResult ref = BenchFixtures.result("ort-reference", batch, samples(batch, 1000, 1));
      BenchResult cand =
          BenchFixtures.result("ort-custom", batch, samples(batch + 7, 1000, batch == 64 ? 2 : 1));
      results.add(ref);
      results.add(cand);
      gates.add(
          LatencyGate.ratio(
              "ort-custom", "ort-reference", batch, cand.samples_ns(), ref.samples_ns(), 1.0, gs));
    }
    gates.add(
        GateResult.skipped(
            "p99 regression ort-custom batch 512",
            GateResult.BASELINE_REGRESSION,
            "ort-custom",
            "baseline:ort-custom",
            512,
            1.1,
            "the baseline has no result for ort-custom at batch 512"));
    boolean pass = gates.stream().allMatch(GateResult::pass);
    return BenchFixtures.report(
        BenchFixtures.settings(
            List.of("ort-reference", "ort-custom"), List.of(1, 64), 500, null, 2.0, 1.0),
        pass,
        results,
        gates);
  }

  static Document parseXml(String xml) throws Exception {
    return DocumentBuilderFactory.newInstance()
        .newDocumentBuilder()
        .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
  }

  /** Counts in the attributes agree with the elements, at every level. */
  static void assertConsistentJunit(Document d) {
    Element root = d.getDocumentElement();
    assertEquals("testsuites", root.getTagName());
    int tests = 0;
    int failures = 0;
    int errors = 0;
    int skipped = 0;
    NodeList suites = root.getElementsByTagName("testsuite");
    for (int i = 0; i < suites.getLength(); i++) {
      Element s = (Element) suites.item(i);
      NodeList cases = s.getElementsByTagName("testcase");
      int f = s.getElementsByTagName("failure").getLength();
      int e = s.getElementsByTagName("error").getLength();
      int sk = s.getElementsByTagName("skipped").getLength();
      assertEquals(
          cases.getLength(), Integer.parseInt(s.getAttribute("tests")), s.getAttribute("name"));
      assertEquals(f, Integer.parseInt(s.getAttribute("failures")));
      assertEquals(e, Integer.parseInt(s.getAttribute("errors")));
      assertEquals(sk, Integer.parseInt(s.getAttribute("skipped")));
      Double.parseDouble(s.getAttribute("time"));
      for (int c = 0; c < cases.getLength(); c++) {
        Element tc = (Element) cases.item(c);
        assertFalse(tc.getAttribute("name").isEmpty());
        assertFalse(tc.getAttribute("classname").isEmpty());
        Double.parseDouble(tc.getAttribute("time"));
      }
      tests += cases.getLength();
      failures += f;
      errors += e;
      skipped += sk;
    }
    assertEquals(tests, Integer.parseInt(root.getAttribute("tests")));
    assertEquals(failures, Integer.parseInt(root.getAttribute("failures")));
    assertEquals(errors, Integer.parseInt(root.getAttribute("errors")));
    assertEquals(skipped, Integer.parseInt(root.getAttribute("skipped")));
    NodeList fl = root.getElementsByTagName("failure");
    for (int i = 0; i < fl.getLength(); i++) {
      assertFalse(
          ((Element) fl.item(i)).getAttribute("message").isEmpty(),
          "a failure carries its message");
    }
  }

  @Test
  void tieExemptNoteSaysWhenNothingWasLeftToCompare() {
    double[] ref = {0.5, 0.25};
    double[] cand = {0.6, 0.25};
    OutputComparison some =
        OutputComparison.of(
            "click", new long[] {2, 1}, cand, ref, 1e-5, 0, new boolean[] {true, false});
    assertTrue(some.pass());
    assertEquals("; 1 tie-exempt (max abs 1.00e-01)", MarkdownReport.tieExempt(some));
    OutputComparison all =
        OutputComparison.of(
            "click", new long[] {2, 1}, cand, ref, 1e-5, 0, new boolean[] {true, true});
    assertTrue(
        MarkdownReport.tieExempt(all).contains("all 2 tie-exempt")
            && MarkdownReport.tieExempt(all).contains("nothing left"),
        MarkdownReport.tieExempt(all));
    assertEquals(
        "",
        MarkdownReport.tieExempt(
            OutputComparison.of("click", new long[] {2, 1}, ref, ref, 1e-5, 0, null)));
  }

  @Test
  void verifyJunitHasOneCasePerOutputAndRetrievalLayer() throws Exception {
    Document d = parseXml(JunitXml.verify(verifyReport()));
    assertConsistentJunit(d);
    Element root = d.getDocumentElement();
    // 3 backend runs + (1 output + 1 layer) + (2 outputs + 1 layer)
    assertEquals(8, Integer.parseInt(root.getAttribute("tests")));
    assertEquals(2, Integer.parseInt(root.getAttribute("failures")));
    assertEquals(1, Integer.parseInt(root.getAttribute("errors")));
    NodeList failures = root.getElementsByTagName("failure");
    String messages =
        ((Element) failures.item(0)).getAttribute("message")
            + ((Element) failures.item(1)).getAttribute("message");
    assertTrue(messages.contains("finish <&\"'>") && messages.contains("1 of 3"), messages);
    assertTrue(
        messages.contains("layer 0") && messages.contains("slots [1, 3] instead of [1, 2]"),
        messages);
  }

  @Test
  void benchJunitHasOneCasePerGate() throws Exception {
    BenchReport r = benchReport();
    Document d = parseXml(JunitXml.bench(r));
    assertConsistentJunit(d);
    Element gates = (Element) d.getDocumentElement().getElementsByTagName("testsuite").item(0);
    assertEquals("latency gates", gates.getAttribute("name"));
    assertEquals(3, gates.getElementsByTagName("testcase").getLength());
    assertEquals(1, gates.getElementsByTagName("failure").getLength(), "batch 64 is twice as slow");
    assertEquals(1, gates.getElementsByTagName("skipped").getLength());
    assertFalse(r.pass());
  }

  @Test
  void markdownSummaries() {
    String v = MarkdownReport.verify(verifyReport());
    assertTrue(v.startsWith("# msn-export verify: FAIL"));
    assertTrue(v.contains("| ort-custom | golden | finish <&\"'> |"), v);
    assertTrue(v.contains("**FAIL** (1/3)"));
    // the histogram as text: exact matches and the 0.05 error, bars scaled to the largest bin
    assertTrue(
        v.contains(
            "finish <&\"'> (3 elements)\n  0                       2 "
                + "#".repeat(MarkdownReport.BAR)
                + "\n"),
        v);
    assertTrue(
        v.contains("  (1e-02, 1e-01]          1 " + "#".repeat(MarkdownReport.BAR / 2) + "\n"), v);
    String b = MarkdownReport.bench(benchReport());
    assertTrue(b.startsWith("# msn-export bench: FAIL (1 gate)"), b);
    assertTrue(
        b.contains("| p99 ratio ort-custom/ort-reference batch 64 |") && b.contains("**FAIL**"), b);
    assertTrue(b.contains("| ort-reference | 1 | 1000 |"), b);
  }

  static List<byte[]> pngs(String html) {
    List<byte[]> out = new ArrayList<>();
    Matcher m = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
    while (m.find()) {
      out.add(Base64.getDecoder().decode(m.group(1)));
    }
    return out;
  }

  @Test
  void htmlIsSelfContainedWithPlots() {
    String v = HtmlReport.verify(verifyReport());
    List<byte[]> vp = pngs(v);
    assertEquals(2, vp.size(), "one error histogram per comparison");
    String b = HtmlReport.bench(benchReport());
    List<byte[]> bp = pngs(b);
    assertEquals(4, bp.size(), "CDF and tail per batch size");
    for (byte[] png : Stream.concat(vp.stream(), bp.stream()).toList()) {
      assertEquals((byte) 0x89, png[0]);
      assertEquals("PNG", new String(png, 1, 3, StandardCharsets.US_ASCII));
    }
    for (String html : List.of(v, b)) {
      assertFalse(
          html.contains("http://") || html.contains("https://") || html.contains("<script"),
          "no external resource");
    }
    assertTrue(v.contains("finish &lt;&amp;&quot;&#39;&gt;"), "names are escaped");
  }

  static List<String> keys(JsonNode n) {
    return ReportKeys.of(n);
  }

  @Test
  void benchJsonSchemaHasStableKeys() throws Exception {
    JsonNode j = Profiles.JSON.readTree(Profiles.toJson(benchReport()));
    assertEquals(ReportKeys.pinned("bench"), keys(j));
    assertEquals("msn-export.bench/1", j.get("schema").asText());
    assertEquals(ReportKeys.pinned("bench.host"), keys(j.get("host")));
    assertEquals(ReportKeys.pinned("bench.settings"), keys(j.get("settings")));
    assertEquals(ReportKeys.pinned("bench.results"), keys(j.get("results").get(0)));
    assertEquals(
        ReportKeys.pinned("bench.results.host_ms"), keys(j.get("results").get(0).get("host_ms")));
    assertEquals(ReportKeys.pinned("bench.gates"), keys(j.get("gates").get(0)));
    // and it reads back strictly (the baseline path)
    Path f = tmp.resolve("b.json");
    Files.writeString(f, Profiles.toJson(benchReport()));
    BenchReport back = BenchReport.read(f);
    assertEquals(4, back.results().size());
    assertEquals(1000, back.result("ort-custom", 64).samples_ns().length);
  }

  @Test
  void verifyJsonSchemaHasStableKeys() throws Exception {
    JsonNode j = Profiles.JSON.readTree(Profiles.toJson(verifyReport()));
    assertEquals(ReportKeys.pinned("verify"), keys(j));
    assertEquals(ReportKeys.pinned("verify.comparisons"), keys(j.get("comparisons").get(0)));
    assertEquals(
        ReportKeys.pinned("verify.outputs"),
        keys(j.get("comparisons").get(0).get("outputs").get(0)));
    assertEquals(
        ReportKeys.pinned("verify.retrieval"),
        keys(j.get("comparisons").get(0).get("retrieval").get(0)));
  }

  @Test
  void verifyJsonHasMemoryHealthLastWhenComputed() throws Exception {
    MemoryHealth.Layer collapsed = MemoryHealth.fromCounts(0, new long[] {90, 10, 0, 0}, 1);
    JsonNode j =
        Profiles.JSON.readTree(
            Profiles.toJson(
                verifyReport()
                    .withMemoryHealth(new MemoryHealth.Report(100, 7, List.of(collapsed)))));
    assertEquals(ReportKeys.pinned("verify", "memory_health"), keys(j));
    JsonNode h = j.get("memory_health");
    assertEquals(ReportKeys.pinned("verify.memory_health"), keys(h));
    assertEquals(100, h.get("samples").asInt());
    assertTrue(h.get("collapsed").asBoolean());
    JsonNode l = h.get("layers").get(0);
    assertEquals(ReportKeys.pinned("verify.memory_health.layers"), keys(l));
    assertEquals(2, l.get("slots_used").asInt());
    assertEquals(0.9, l.get("top1_percent_share").asDouble(), 1e-12);
    assertTrue(
        l.get("warnings").get(0).asText().contains("retrieval looks collapsed"), l.toString());
    // and it reads back strictly (compare reads verify reports)
    VerifyReport back = Profiles.JSON.readValue(j.toString(), VerifyReport.class);
    assertEquals(collapsed, back.memory_health().layers().get(0));
    assertTrue(back.memory_health().collapsed());
    assertEquals(
        null,
        Profiles.JSON
            .readValue(Profiles.toJson(verifyReport()), VerifyReport.class)
            .memory_health());
  }

  @Test
  void writerPutsAllFourFilesAndNoTemporaries() throws Exception {
    Path dir = tmp.resolve("reports/verify");
    ReportWriter.writeVerify(dir, verifyReport());
    ReportWriter.writeBench(tmp.resolve("reports/bench"), benchReport());
    for (Path d : List.of(dir, tmp.resolve("reports/bench"))) {
      try (Stream<Path> files = Files.list(d)) {
        assertEquals(
            List.of("junit.xml", "report.html", "report.json", "report.md"),
            files.map(p -> p.getFileName().toString()).sorted().toList());
      }
      assertConsistentJunit(parseXml(Files.readString(d.resolve("junit.xml"))));
    }
    assertEquals(
        "msn-export.verify/3",
        Profiles.JSON
            .readTree(Files.readString(dir.resolve("report.json")))
            .get("schema")
            .asText());
  }
}
