package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.cli.ImportCliTest.Run;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Saved results with fields null or missing ({@code compare}, {@code bench --baseline}) are bad
 * input (exit 4) naming the file and the field, never an internal error.
 */
class ReportInputsTest {
  @TempDir static Path tmp;
  static Path bench;
  static Path verify;
  static Path model;

  @BeforeAll
  static void reports() throws Exception {
    bench = VerifierCliTest.benchFile(tmp, "bench.json", 1.0);
    Path ck = tmp.resolve("ck");
    model = tmp.resolve("model");
    InputFileHygieneTest.tinyExport(ck, model);
    verify = tmp.resolve("verify.json");
    assertEquals(
        ExitCodes.OK,
        ImportCliTest.run(
                "verify",
                "--model",
                model.toString(),
                "--backends",
                "golden,ort-reference",
                "--health-samples",
                "0",
                "--report",
                verify.toString())
            .code());
  }

  /** A copy of {@code from} with {@code edit} applied to its JSON. */
  static Path edited(Path from, String name, Consumer<ObjectNode> edit) throws Exception {
    ObjectNode root = (ObjectNode) Profiles.JSON.readTree(Files.readString(from));
    edit.accept(root);
    Path p = tmp.resolve(name);
    Files.writeString(p, root.toString());
    return p;
  }

  static void badInput(Path file, String field, String... args) {
    Run r = ImportCliTest.run(args);
    assertEquals(ExitCodes.BAD_INPUT, r.code(), String.join(" ", args) + ": " + r.err());
    assertTrue(
        r.err().contains(file.toString()) && r.err().contains("field '" + field + "'"),
        file + " and " + field + " in: " + r.err());
  }

  @Test
  void benchResultsWithNullOrMissingFieldsAreBadInput() throws Exception {
    Path nullResults = edited(bench, "null-results.json", n -> n.putNull("results"));
    Path noResults = edited(bench, "no-results.json", n -> n.remove("results"));
    Path nullBackend =
        edited(
            bench,
            "null-backend.json",
            n -> ((ObjectNode) n.get("results").get(0)).putNull("backend"));
    Path nullEntry =
        edited(bench, "null-entry.json", n -> ((ArrayNode) n.get("results")).insertNull(0));
    Path noStats =
        edited(
            bench, "no-stats.json", n -> ((ObjectNode) n.get("results").get(0)).remove("host_ms"));
    badInput(nullResults, "results", "compare", bench.toString(), nullResults.toString());
    badInput(noResults, "results", "compare", noResults.toString(), bench.toString());
    badInput(
        nullBackend, "results[0].backend", "compare", bench.toString(), nullBackend.toString());
    badInput(nullEntry, "results[0]", "compare", bench.toString(), nullEntry.toString());
    badInput(noStats, "results[0].host_ms", "compare", bench.toString(), noStats.toString());
    // bench --baseline reads the baseline before anything runs
    badInput(
        nullResults,
        "results",
        "bench",
        "--model",
        model.toString(),
        "--baseline",
        nullResults.toString(),
        "--iterations",
        "1");
    badInput(
        nullBackend,
        "results[0].backend",
        "bench",
        "--model",
        model.toString(),
        "--baseline",
        nullBackend.toString(),
        "--iterations",
        "1");
  }

  @Test
  void verifyReportsWithoutComparisonsAreBadInput() throws Exception {
    Path none = edited(verify, "no-comparisons.json", n -> n.remove("comparisons"));
    Path nulled = edited(verify, "null-comparisons.json", n -> n.putNull("comparisons"));
    Path nullOutputs =
        edited(
            verify,
            "null-outputs.json",
            n -> ((ObjectNode) n.get("comparisons").get(0)).putNull("outputs"));
    Path noCandidate =
        edited(
            verify,
            "no-candidate.json",
            n -> ((ObjectNode) n.get("comparisons").get(0)).remove("candidate"));
    Path nullRetrieval =
        edited(
            verify,
            "null-retrieval.json",
            n -> ((ArrayNode) n.get("comparisons").get(0).get("retrieval")).insertNull(0));
    badInput(none, "comparisons", "compare", verify.toString(), none.toString());
    badInput(nulled, "comparisons", "compare", nulled.toString(), verify.toString());
    badInput(
        nullOutputs,
        "comparisons[0].outputs",
        "compare",
        verify.toString(),
        nullOutputs.toString());
    badInput(
        noCandidate,
        "comparisons[0].candidate",
        "compare",
        verify.toString(),
        noCandidate.toString());
    badInput(
        nullRetrieval,
        "comparisons[0].retrieval[0]",
        "compare",
        verify.toString(),
        nullRetrieval.toString());
    assertEquals(
        ExitCodes.OK,
        ImportCliTest.run("compare", verify.toString(), verify.toString()).code(),
        "the intact report compares");
  }
}
