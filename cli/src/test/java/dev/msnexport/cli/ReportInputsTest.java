package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
    CliRun.tinyExport(ck, model, "", "--profile tiny");
    verify = tmp.resolve("verify.json");
    assertEquals(
        ExitCodes.OK,
        cli(
                "verify --model {} --backends golden,ort-reference --health-samples 0 --report {}",
                model,
                verify)
            .code());
  }

  /** A copy of {@code from} with {@code edit} applied to its JSON, in NAME.json. */
  static Path edited(Path from, String name, Consumer<ObjectNode> edit) throws Exception {
    ObjectNode root = (ObjectNode) Profiles.JSON.readTree(Files.readString(from));
    edit.accept(root);
    Path p = tmp.resolve(name + ".json");
    Files.writeString(p, root.toString());
    return p;
  }

  /** An edit of element 0 of the array "results". */
  static Consumer<ObjectNode> inResults(Consumer<ObjectNode> edit) {
    return n -> edit.accept((ObjectNode) n.get("results").get(0));
  }

  /** An edit of element 0 of the array "comparisons". */
  static Consumer<ObjectNode> inComparisons(Consumer<ObjectNode> edit) {
    return n -> edit.accept((ObjectNode) n.get("comparisons").get(0));
  }

  /** bench reads the baseline before anything runs. */
  static final String BENCH_BASELINE = "bench --model {} --baseline {} --iterations 1";

  static void badInput(Path file, String field, String command, Object... values) {
    String[] args = CliRun.args(command, values);
    CliRun r = run(args);
    assertEquals(ExitCodes.BAD_INPUT, r.code(), String.join(" ", args) + ": " + r.err());
    assertTrue(
        r.err().contains(file.toString()) && r.err().contains("field '" + field + "'"),
        file + " and " + field + " in: " + r.err());
  }

  @Test
  void benchResultsWithNullOrMissingFieldsAreBadInput() throws Exception {
    Path nullResults = edited(bench, "null-results", n -> n.putNull("results"));
    Path noResults = edited(bench, "no-results", n -> n.remove("results"));
    Path nullBackend = edited(bench, "null-backend", inResults(r -> r.putNull("backend")));
    Path nullEntry = edited(bench, "null-entry", n -> ((ArrayNode) n.get("results")).insertNull(0));
    Path noStats = edited(bench, "no-stats", inResults(r -> r.remove("host_ms")));
    badInput(nullResults, "results", "compare {} {}", bench, nullResults);
    badInput(noResults, "results", "compare {} {}", noResults, bench);
    badInput(nullBackend, "results[0].backend", "compare {} {}", bench, nullBackend);
    badInput(nullEntry, "results[0]", "compare {} {}", bench, nullEntry);
    badInput(noStats, "results[0].host_ms", "compare {} {}", bench, noStats);
    // bench --baseline reads the baseline before anything runs
    badInput(nullResults, "results", BENCH_BASELINE, model, nullResults);
    badInput(nullBackend, "results[0].backend", BENCH_BASELINE, model, nullBackend);
  }

  @Test
  void verifyReportsWithoutComparisonsAreBadInput() throws Exception {
    Path none = edited(verify, "no-comparisons", n -> n.remove("comparisons"));
    Path nulled = edited(verify, "null-comparisons", n -> n.putNull("comparisons"));
    Path nullOutputs = edited(verify, "null-outputs", inComparisons(c -> c.putNull("outputs")));
    Path noCandidate = edited(verify, "no-candidate", inComparisons(c -> c.remove("candidate")));
    Path nullRetrieval =
        edited(
            verify,
            "null-retrieval",
            inComparisons(c -> ((ArrayNode) c.get("retrieval")).insertNull(0)));
    badInput(none, "comparisons", "compare {} {}", verify, none);
    badInput(nulled, "comparisons", "compare {} {}", nulled, verify);
    badInput(nullOutputs, "comparisons[0].outputs", "compare {} {}", verify, nullOutputs);
    badInput(noCandidate, "comparisons[0].candidate", "compare {} {}", verify, noCandidate);
    badInput(nullRetrieval, "comparisons[0].retrieval[0]", "compare {} {}", verify, nullRetrieval);
    assertEquals(
        ExitCodes.OK, cli("compare {} {}", verify, verify).code(), "the intact report compares");
  }
}
