package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.LatencyStats;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import picocli.CommandLine;

/** verify's golden files and report directory, bench, and compare, as a user runs them. */
class VerifierCliTest {
  @TempDir Path tmp;
  Path model;

  record Run(int code, String err) {}

  static Run run(String... args) {
    CommandLine cl = MsnExport.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    return new Run(cl.execute(args), err.toString());
  }

  @BeforeEach
  void tinyModel() {
    Path ck = tmp.resolve("ck");
    model = tmp.resolve("m");
    assertEquals(0, run("init", "--profile", "tiny", "--out", ck.toString(), "--seed", "3").code());
    assertEquals(0, run("export", "--checkpoint", ck.toString(), "--out", model.toString()).code());
  }

  static JsonNode json(Path p) throws Exception {
    return Profiles.JSON.readTree(Files.readString(p));
  }

  static Document xml(Path p) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(p.toFile());
  }

  @Test
  void goldenFilesInBothFormatsRoundTripThroughVerify() throws Exception {
    Path st = tmp.resolve("g.safetensors");
    Run r =
        run(
            "verify",
            "--model",
            model.toString(),
            "--backends",
            "golden,ort-reference",
            "--batch",
            "5",
            "--save-golden",
            st.toString());
    assertEquals(0, r.code(), r.err());

    Path reports = tmp.resolve("reports");
    r =
        run(
            "verify",
            "--model",
            model.toString(),
            "--golden",
            st.toString(),
            "--backends",
            "ort-reference,ort-custom",
            "--report-dir",
            reports.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode report = json(reports.resolve("report.json"));
    assertEquals("golden-file", report.get("backends").get(0).get("name").asText());
    assertEquals(5, report.get("batch").asInt(), "the golden file's inputs were used");
    assertEquals(3, report.get("comparisons").size());
    for (String f : List.of("report.md", "junit.xml", "report.html")) {
      assertTrue(Files.size(reports.resolve(f)) > 0, f);
    }
    assertEquals("testsuites", xml(reports.resolve("junit.xml")).getDocumentElement().getTagName());

    // convert to Polygraphy's form by replaying, then compare the custom-op graph with it
    Path pj = tmp.resolve("poly.json");
    r =
        run(
            "verify",
            "--model",
            model.toString(),
            "--golden",
            st.toString(),
            "--backends",
            "ort-reference",
            "--save-golden",
            pj.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.isRegularFile(tmp.resolve("poly.inputs.json")));
    assertEquals(
        "golden", json(pj).get("lst").get(0).get(0).asText(), "a replayed file keeps its producer");
    r =
        run(
            "verify",
            "--model",
            model.toString(),
            "--golden",
            pj.toString(),
            "--backends",
            "ort-custom");
    assertEquals(0, r.code(), r.err());
  }

  /**
   * The golden file PyTorch wrote for the trained fixture (verifier's test resources) replays
   * through verify.
   */
  @Test
  void pytorchGoldenFileOfTheTrainedFixture() throws Exception {
    Path fixture =
        Path.of("../verifier/src/test/resources/fixtures/small-trained")
            .toAbsolutePath()
            .normalize();
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isRegularFile(fixture.resolve("golden.safetensors")), "fixture not in this tree");
    Path trained = tmp.resolve("trained");
    assertEquals(
        0,
        run(
                "export",
                "--checkpoint",
                fixture.toString(),
                "--out",
                trained.toString(),
                "--profile",
                "small")
            .code());
    Run r =
        run(
            "verify",
            "--model",
            trained.toString(),
            "--golden",
            fixture.resolve("golden.safetensors").toString(),
            "--backends",
            "ort-custom",
            "--report",
            tmp.resolve("t.json").toString());
    assertEquals(0, r.code(), r.err());
    JsonNode j = json(tmp.resolve("t.json"));
    assertEquals("golden-file", j.get("comparisons").get(0).get("reference").asText());
    assertEquals(16, j.get("batch").asInt());
    assertEquals(2, j.get("comparisons").get(0).get("retrieval").size());
  }

  @Test
  void goldenFileOfAnotherModelIsBadInput() {
    Path ck = tmp.resolve("ck-small");
    Path small = tmp.resolve("m-small");
    run("init", "--profile", "small", "--out", ck.toString());
    run("export", "--checkpoint", ck.toString(), "--out", small.toString());
    Path g = tmp.resolve("small.safetensors");
    assertEquals(
        0,
        run(
                "verify",
                "--model",
                small.toString(),
                "--backends",
                "golden,ort-reference",
                "--batch",
                "2",
                "--save-golden",
                g.toString())
            .code());
    Run r =
        run(
            "verify",
            "--model",
            model.toString(),
            "--golden",
            g.toString(),
            "--backends",
            "ort-reference");
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("tokens") && r.err().contains("shape"), r.err());
  }

  @Test
  void benchWritesReportsAndBaselineOnPurposeOnly() throws Exception {
    Path base = tmp.resolve("baseline.json");
    Path reports = tmp.resolve("bench");
    String[] common = {
      "bench",
      "--model",
      model.toString(),
      "--batch",
      "1,4",
      "--iterations",
      "30",
      "--warmup-ms",
      "0",
      "--rounds",
      "3",
      "--resamples",
      "200",
      "--threads",
      "1"
    };
    // no baseline yet: an error, and nothing is written implicitly
    Run r = run(cat(common, "--baseline", base.toString()));
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("--update-baseline"), r.err());
    assertTrue(Files.notExists(base));

    // timing gates on this shared machine are not what this test checks: turn the ratio gate off
    r =
        run(
            cat(
                common,
                "--max-p99-ratio",
                "0",
                "--baseline",
                base.toString(),
                "--update-baseline",
                "--report-dir",
                reports.toString()));
    assertEquals(0, r.code(), r.err());
    BenchReport b = BenchReport.read(base);
    assertEquals(4, b.results().size());
    assertTrue(b.results().stream().allMatch(x -> x.samples_ns().length == 30 && x.prepared()));
    assertEquals(0, b.gates().size());
    for (String f : List.of("report.json", "report.md", "junit.xml", "report.html")) {
      assertTrue(Files.size(reports.resolve(f)) > 0, f);
    }

    // against the baseline: one gate per backend and batch (a 1000x regression limit cannot fail
    // here)
    r =
        run(
            cat(
                common,
                "--max-p99-ratio",
                "0",
                "--baseline",
                base.toString(),
                "--max-p99-regression",
                "1000",
                "--report-dir",
                reports.toString()));
    assertEquals(0, r.code(), r.err());
    JsonNode j = json(reports.resolve("report.json"));
    assertEquals(4, j.get("gates").size());
    assertEquals("baseline_regression", j.get("gates").get(0).get("kind").asText());
    Document junit = xml(reports.resolve("junit.xml"));
    assertEquals(
        4 + 4,
        Integer.parseInt(junit.getDocumentElement().getAttribute("tests")),
        "4 gates and 4 measurements");
    assertEquals(
        BenchReport.read(base).created(),
        b.created(),
        "the baseline is untouched without --update-baseline");
  }

  @Test
  void benchUsageErrors() {
    assertEquals(
        ExitCodes.USAGE, run("bench", "--model", model.toString(), "--update-baseline").code());
    assertEquals(
        ExitCodes.USAGE,
        run("bench", "--model", model.toString(), "--iterations", "5", "--duration-s", "1").code());
    // an unknown backend is a usage error since --backends is parsed into backend specs
    assertEquals(
        ExitCodes.USAGE,
        run("bench", "--model", model.toString(), "--backends", "nope", "--iterations", "1")
            .code());
  }

  @Test
  void benchRefusesBatchesOutsideTheProfileUnlessAllowed() {
    // tiny serves batch 1..64
    Run over =
        run(
            "bench",
            "--model",
            model.toString(),
            "--batch",
            "8,65",
            "--iterations",
            "1",
            "--warmup-ms",
            "0");
    assertEquals(ExitCodes.BAD_INPUT, over.code(), over.err());
    assertTrue(
        over.err().contains("--batch 65 is outside the batch range 1..64 of profile 'tiny'"),
        over.err());
    assertTrue(over.err().contains("--allow-batch-outside-profile"), over.err());
    Run small =
        run(
            "bench",
            "--model",
            model.toString(),
            "--profile",
            "small",
            "--batch",
            "513",
            "--iterations",
            "1");
    assertEquals(ExitCodes.BAD_INPUT, small.code(), small.err());
    assertTrue(small.err().contains("1..512 of profile 'small'"), small.err());
    Run zero =
        run(
            "bench",
            "--model",
            model.toString(),
            "--batch",
            "0",
            "--iterations",
            "1",
            "--allow-batch-outside-profile");
    assertEquals(
        ExitCodes.USAGE,
        zero.code(),
        "never a batch below 1 (range-checked at parse time): " + zero.err());

    Path reports = tmp.resolve("outside");
    Run allowed =
        run(
            "bench",
            "--model",
            model.toString(),
            "--backends",
            "ort-reference",
            "--batch",
            "65",
            "--iterations",
            "3",
            "--warmup-ms",
            "0",
            "--rounds",
            "1",
            "--allow-batch-outside-profile",
            "--report-dir",
            reports.toString());
    assertEquals(ExitCodes.OK, allowed.code(), allowed.err());
    assertTrue(Files.isRegularFile(reports.resolve("report.json")));
  }

  static String[] cat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static Path benchFile(Path dir, String name, double scale) throws Exception {
    SplittableRandom r = new SplittableRandom(name.hashCode());
    long[] s = new long[3000];
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.round(100_000 * scale * Math.exp(0.3 * r.nextGaussian()));
    }
    LatencyStats st = LatencyStats.ofNanos(s);
    BenchReport b =
        new BenchReport(
            BenchReport.SCHEMA,
            "test",
            "m",
            "tiny",
            "fp32",
            "2026-01-01T00:00:00Z",
            BenchReport.Host.current(),
            new BenchReport.Settings(
                List.of("ort-custom"),
                List.of(8),
                0,
                3000,
                null,
                20,
                0,
                0,
                "trtexec",
                2000,
                0.95,
                null,
                0.1,
                null),
            true,
            List.of(
                new BenchResult(
                    "ort-custom", 8, true, s.length, 0, 8000 / st.mean(), st, null, s, null, "")),
            List.of(),
            List.of(),
            null,
            null);
    Path p = dir.resolve(name);
    Files.writeString(p, Profiles.toJson(b));
    return p;
  }

  @Test
  void compareBenchResults() throws Exception {
    Path a = benchFile(tmp, "a.json", 1.0);
    Path same = benchFile(tmp, "same.json", 1.0);
    Path slow = benchFile(tmp, "slow.json", 1.5);
    assertEquals(0, run("compare", a.toString(), same.toString()).code());
    assertEquals(ExitCodes.LATENCY_GATE, run("compare", a.toString(), slow.toString()).code());
    assertEquals(
        0, run("compare", a.toString(), slow.toString(), "--max-p99-regression", "2").code());
  }

  @Test
  void compareVerifyResultsAndKinds() throws Exception {
    Path good = tmp.resolve("good.json");
    Path bad = tmp.resolve("bad.json");
    assertEquals(
        0,
        run(
                "verify",
                "--model",
                model.toString(),
                "--backends",
                "golden,ort-reference",
                "--report",
                good.toString())
            .code());
    assertEquals(
        ExitCodes.PARITY_FAILURE,
        run(
                "verify",
                "--model",
                model.toString(),
                "--backends",
                "golden,ort-reference",
                "--atol",
                "0",
                "--rtol",
                "0",
                "--report",
                bad.toString())
            .code());
    assertEquals(0, run("compare", bad.toString(), good.toString()).code());
    assertEquals(ExitCodes.PARITY_FAILURE, run("compare", good.toString(), bad.toString()).code());
    // a verify/1 report (before the tie bookkeeping keys) still compares with a /3 one
    Path old = tmp.resolve("old.json");
    Files.writeString(
        old,
        Files.readString(good)
            .replace("msn-export.verify/3", "msn-export.verify/1")
            .replaceAll(
                "\"(tie_exempt_elements|tie_exempt_max_abs|downstream_queries|set_changing_tie_queries|min_tie_epsilon_to_pass)\""
                    + " *: *[0-9.eE+-]+ *,",
                ""));
    assertTrue(
        Files.readString(old).contains("verify/1")
            && !Files.readString(old).contains("downstream_queries"));
    assertEquals(0, run("compare", old.toString(), good.toString()).code());
    Run r = run("compare", good.toString(), benchFile(tmp, "x.json", 1).toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("not the same kind"), r.err());
  }
}
