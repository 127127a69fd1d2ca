package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cat;
import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.LatencyStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/** verify's golden files and report directory, bench, and compare, as a user runs them. */
class VerifierCliTest {
  @TempDir Path tmp;
  Path model;

  @BeforeEach
  void tinyModel() {
    model = CliRun.tinyExport(tmp.resolve("ck"), tmp.resolve("m"), "--seed 3", "");
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
    CliRun r =
        cli(
            "verify --model {} --backends golden,ort-reference --batch 5 --save-golden {}",
            model,
            st);
    assertEquals(0, r.code(), r.err());

    Path reports = tmp.resolve("reports");
    r =
        cli(
            "verify --model {} --golden {} --backends ort-reference,ort-custom --report-dir {}",
            model,
            st,
            reports);
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
        cli(
            "verify --model {} --golden {} --backends ort-reference --save-golden {}",
            model,
            st,
            pj);
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.isRegularFile(tmp.resolve("poly.inputs.json")));
    assertEquals(
        "golden", json(pj).get("lst").get(0).get(0).asText(), "a replayed file keeps its producer");
    r = cli("verify --model {} --golden {} --backends ort-custom", model, pj);
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
        0, cli("export --checkpoint {} --out {} --profile small", fixture, trained).code());
    CliRun r =
        cli(
            "verify --model {} --golden {} --backends ort-custom --report {}",
            trained,
            fixture.resolve("golden.safetensors"),
            tmp.resolve("t.json"));
    assertEquals(0, r.code(), r.err());
    JsonNode j = json(tmp.resolve("t.json"));
    assertEquals("golden-file", j.get("comparisons").get(0).get("reference").asText());
    assertEquals(16, j.get("batch").asInt());
    assertEquals(2, j.get("comparisons").get(0).get("retrieval").size());
  }

  @Test
  void goldenFileOfAnotherModelIsBadInput() {
    Path small =
        CliRun.initAndExport("small", tmp.resolve("ck-small"), tmp.resolve("m-small"), "", "");
    Path g = tmp.resolve("small.safetensors");
    assertEquals(
        0,
        cli(
                "verify --model {} --backends golden,ort-reference --batch 2 --save-golden {}",
                small,
                g)
            .code());
    CliRun r = cli("verify --model {} --golden {} --backends ort-reference", model, g);
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("tokens") && r.err().contains("shape"), r.err());
  }

  @Test
  void benchWritesReportsAndBaselineOnPurposeOnly() throws Exception {
    Path base = tmp.resolve("baseline.json");
    Path reports = tmp.resolve("bench");
    String[] common =
        CliRun.args(
            "bench --model {} --batch 1,4 --iterations 30 --warmup-ms 0 --rounds 3 --resamples 200 --threads 1",
            model);
    // no baseline yet: an error, and nothing is written implicitly
    CliRun r = run(cat(common, "--baseline {}", base));
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("--update-baseline"), r.err());
    assertTrue(Files.notExists(base));

    // timing gates on this shared machine are not what this test checks: turn the ratio gate off
    r =
        run(
            cat(
                common,
                "--max-p99-ratio 0 --baseline {} --update-baseline --report-dir {}",
                base,
                reports));
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
                "--max-p99-ratio 0 --baseline {} --max-p99-regression 1000 --report-dir {}",
                base,
                reports));
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
    assertEquals(ExitCodes.USAGE, cli("bench --model {} --update-baseline", model).code());
    assertEquals(
        ExitCodes.USAGE, cli("bench --model {} --iterations 5 --duration-s 1", model).code());
    // an unknown backend is a usage error since --backends is parsed into backend specs
    assertEquals(
        ExitCodes.USAGE, cli("bench --model {} --backends nope --iterations 1", model).code());
  }

  @Test
  void benchRefusesBatchesOutsideTheProfileUnlessAllowed() {
    // tiny serves batch 1..64
    CliRun over = cli("bench --model {} --batch 8,65 --iterations 1 --warmup-ms 0", model);
    assertEquals(ExitCodes.BAD_INPUT, over.code(), over.err());
    assertTrue(
        over.err().contains("--batch 65 is outside the batch range 1..64 of profile 'tiny'"),
        over.err());
    assertTrue(over.err().contains("--allow-batch-outside-profile"), over.err());
    CliRun small = cli("bench --model {} --profile small --batch 513 --iterations 1", model);
    assertEquals(ExitCodes.BAD_INPUT, small.code(), small.err());
    assertTrue(small.err().contains("1..512 of profile 'small'"), small.err());
    CliRun zero =
        cli("bench --model {} --batch 0 --iterations 1 --allow-batch-outside-profile", model);
    assertEquals(
        ExitCodes.USAGE,
        zero.code(),
        "never a batch below 1 (range-checked at parse time): " + zero.err());

    Path reports = tmp.resolve("outside");
    CliRun allowed =
        cli(
            "bench --model {} --backends ort-reference --batch 65 --iterations 3 --warmup-ms 0 --rounds 1 --allow-batch-outside-profile --report-dir {}",
            model,
            reports);
    assertEquals(ExitCodes.OK, allowed.code(), allowed.err());
    assertTrue(Files.isRegularFile(reports.resolve("report.json")));
  }

  static Path benchFile(Path dir, String name, double scale) throws Exception {
    SplittableRandom r = new SplittableRandom(name.hashCode());
    long[] s = new long[3000];
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.round(100_000 * scale * Math.exp(0.3 * r.nextGaussian()));
    }
    LatencyStats st = LatencyStats.ofNanos(s);
    // ort-custom at batch 8, iterations 3000, rounds 20, resamples 2000, confidence 0.95, limit 0.1
    List<String> backends = List.of("ort-custom");
    BenchReport.Settings settings =
        new BenchReport.Settings(
            backends, List.of(8), 0, 3000, null, 20, 0, 0, "trtexec", 2000, 0.95, null, 0.1, null);
    List<BenchResult> results =
        List.of(
            new BenchResult(
                backends.get(0), 8, true, s.length, 0, 8000 / st.mean(), st, null, s, null, ""));
    BenchReport.Host host = BenchReport.Host.current();
    String at = "2026-01-01T00:00:00Z";
    BenchReport b =
        new BenchReport(
            BenchReport.SCHEMA,
            "test",
            "m",
            "tiny",
            "fp32",
            at,
            host,
            settings,
            true,
            results,
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
    assertEquals(0, cli("compare {} {}", a, same).code());
    assertEquals(ExitCodes.LATENCY_GATE, cli("compare {} {}", a, slow).code());
    assertEquals(0, cli("compare {} {} --max-p99-regression 2", a, slow).code());
  }

  @Test
  void compareVerifyResultsAndKinds() throws Exception {
    Path good = tmp.resolve("good.json");
    Path bad = tmp.resolve("bad.json");
    assertEquals(
        0,
        cli("verify --model {} --backends golden,ort-reference --report {}", model, good).code());
    assertEquals(
        ExitCodes.PARITY_FAILURE,
        cli(
                "verify --model {} --backends golden,ort-reference --atol 0 --rtol 0 --report {}",
                model,
                bad)
            .code());
    assertEquals(0, cli("compare {} {}", bad, good).code());
    assertEquals(ExitCodes.PARITY_FAILURE, cli("compare {} {}", good, bad).code());
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
    assertEquals(0, cli("compare {} {}", old, good).code());
    CliRun r = cli("compare {} {}", good, benchFile(tmp, "x.json", 1));
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("not the same kind"), r.err());
  }
}
