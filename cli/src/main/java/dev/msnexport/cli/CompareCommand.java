package dev.msnexport.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchGates;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.latency.LatencyGate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description =
        "Compare two saved results of the same kind: bench (p50/p99 per backend and batch, and the regression gate of B "
            + "against A on the medians of block minima: exit 3 on a regression) or verify (parity figures side by side: exit 1 when B fails).")
final class CompareCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "A",
      description = "The earlier result (baseline): a bench or verify report.json.")
  Path a;

  @Parameters(
      index = "1",
      paramLabel = "B",
      description = "The later result (candidate), of the same kind.")
  Path b;

  @Option(
      names = "--no-drift-correction",
      description =
          "Gate B against A as measured, without scaling A by the machine's drift "
              + "seen on B's other backends (see bench --no-drift-correction).")
  boolean noDriftCorrection;

  @Range(min = 0, max = OptionRanges.MAX_RATIO)
  @Option(
      names = "--max-p99-regression",
      paramLabel = "R",
      description =
          "Bench: fail when B's median of block minima exceeds A's by more than R (default: B's profile's, else 0.10).")
  Double maxP99Regression;

  @Range(min = 1, max = OptionRanges.MAX_RESAMPLES)
  @Option(
      names = "--resamples",
      defaultValue = "2000",
      description = "Bootstrap resamples per gate (default: ${DEFAULT-VALUE}).")
  int resamples;

  @Range(min = 0, max = 1, minExclusive = true, maxExclusive = true)
  @Option(
      names = "--confidence",
      defaultValue = "0.95",
      description = "Confidence of the bootstrap interval (default: ${DEFAULT-VALUE}).")
  double confidence;

  @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of the bootstrap (default: ${DEFAULT-VALUE}).")
  long seed;

  /**
   * Reports may hold NaN (a cosine of non-finite outputs): read them leniently, never write with
   * this.
   */
  private static final ObjectMapper LENIENT =
      Profiles.JSON.copy().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS.mappedFeature());

  @Override
  public Integer call() {
    String sa = schemaOf(a);
    String sb = schemaOf(b);
    if (!sa.equals(sb)
        && !(VerifyReport.READABLE.contains(sa) && VerifyReport.READABLE.contains(sb))) {
      throw new BadInputException(
          "cannot compare "
              + a
              + " ("
              + sa
              + ") with "
              + b
              + " ("
              + sb
              + "): not the same kind of result");
    }
    if (sa.equals(BenchReport.SCHEMA)) {
      return compareBench(BenchReport.read(a), BenchReport.read(b));
    }
    if (VerifyReport.READABLE.contains(sa)) {
      return compareVerify(readVerify(a, sa), readVerify(b, sb));
    }
    throw new BadInputException(
        a
            + ": schema '"
            + sa
            + "' is neither "
            + BenchReport.SCHEMA
            + " nor "
            + VerifyReport.SCHEMA);
  }

  int compareBench(BenchReport ra, BenchReport rb) {
    double regression =
        maxP99Regression != null ? maxP99Regression : profileRegression(rb.profile());
    LatencyGate.Settings gs = new LatencyGate.Settings(resamples, confidence, seed);
    System.out.printf(
        Locale.ROOT,
        "compare bench %s -> %s (limit: median of block minima +%.0f%%, %.0f%% bootstrap interval)%n",
        a,
        b,
        regression * 100,
        confidence * 100);
    System.out.printf(
        Locale.ROOT,
        "  %-14s %6s %11s %11s %8s %11s %11s %8s  %s%n",
        "backend",
        "batch",
        "p50 A",
        "p50 B",
        "delta",
        "p99 A",
        "p99 B",
        "delta",
        "gate");
    List<GateResult> gates = new ArrayList<>();
    // the same rule as bench --baseline: B against A, drift-corrected by B's other backends unless
    // told not to
    List<GateResult> byResult =
        BenchGates.baselineGates(rb.results(), ra, regression, gs, !noDriftCorrection);
    for (int i = 0; i < rb.results().size(); i++) {
      BenchResult y = rb.results().get(i);
      BenchResult x = ra.result(y.backend(), y.batch());
      if (x == null) {
        System.out.printf(Locale.ROOT, "  %-14s %6d  (not in A)%n", y.backend(), y.batch());
        continue;
      }
      GateResult g = byResult.get(i);
      gates.add(g);
      System.out.printf(
          Locale.ROOT,
          "  %-14s %6d %11.4f %11.4f %+7.1f%% %11.4f %11.4f %+7.1f%%  %s [%.3f, %.3f]%n",
          y.backend(),
          y.batch(),
          x.host_ms().p50(),
          y.host_ms().p50(),
          pct(y.host_ms().p50(), x.host_ms().p50()),
          x.host_ms().p99(),
          y.host_ms().p99(),
          pct(y.host_ms().p99(), x.host_ms().p99()),
          g.verdict().toUpperCase(Locale.ROOT),
          g.ci_low(),
          g.ci_high());
    }
    for (BenchResult x : ra.results()) {
      if (rb.result(x.backend(), x.batch()) == null) {
        System.out.printf(Locale.ROOT, "  %-14s %6d  (not in B)%n", x.backend(), x.batch());
      }
    }
    boolean pass = gates.stream().allMatch(GateResult::pass);
    System.out.println("compare: " + (pass ? "PASS" : "FAIL (latency regression)"));
    return pass ? ExitCodes.OK : ExitCodes.LATENCY_GATE;
  }

  int compareVerify(VerifyReport ra, VerifyReport rb) {
    System.out.printf(
        Locale.ROOT,
        "compare verify %s (%s) -> %s (%s)%n",
        a,
        ra.pass() ? "PASS" : "FAIL",
        b,
        rb.pass() ? "PASS" : "FAIL");
    for (VerifyReport.Comparison cb : rb.comparisons()) {
      VerifyReport.Comparison ca =
          ra.comparisons().stream()
              .filter(
                  c -> c.candidate().equals(cb.candidate()) && c.reference().equals(cb.reference()))
              .findFirst()
              .orElse(null);
      System.out.printf(
          Locale.ROOT,
          "  %s vs %s: %s -> %s%n",
          cb.candidate(),
          cb.reference(),
          ca == null ? "(not in A)" : ca.pass() ? "pass" : "FAIL",
          cb.pass() ? "pass" : "FAIL");
      if (cb.output_set() != null) { // null in reports older than verify/3
        cb.output_set()
            .forEach(
                x -> System.out.println("    B: " + x.message(cb.candidate(), cb.reference())));
      }
      for (OutputComparison ob : cb.outputs()) {
        OutputComparison oa =
            ca == null
                ? null
                : ca.outputs().stream()
                    .filter(o -> o.name().equals(ob.name()))
                    .findFirst()
                    .orElse(null);
        System.out.printf(
            Locale.ROOT,
            "    %-22s max_abs %s -> %.2e   cosine %s -> %.9f%n",
            ob.name(),
            oa == null ? "-" : String.format(Locale.ROOT, "%.2e", oa.max_abs()),
            ob.max_abs(),
            oa == null ? "-" : String.format(Locale.ROOT, "%.9f", oa.cosine()),
            ob.cosine());
      }
      for (RetrievalComparison rcb : cb.retrieval()) {
        RetrievalComparison rca =
            ca == null
                ? null
                : ca.retrieval().stream()
                    .filter(r -> r.layer() == rcb.layer())
                    .findFirst()
                    .orElse(null);
        System.out.printf(
            Locale.ROOT,
            "    retrieval layer %d       identical %s -> %.4f, mismatched queries %s -> %d%n",
            rcb.layer(),
            rca == null ? "-" : String.format(Locale.ROOT, "%.4f", rca.identical_fraction()),
            rcb.identical_fraction(),
            rca == null ? "-" : Integer.toString(rca.mismatched_queries()),
            rcb.mismatched_queries());
      }
    }
    System.out.println("compare: " + (rb.pass() ? "PASS" : "FAIL (B fails parity)"));
    return rb.pass() ? ExitCodes.OK : ExitCodes.PARITY_FAILURE;
  }

  private static double pct(double now, double before) {
    return before == 0 ? 0 : (now / before - 1) * 100;
  }

  private static double profileRegression(String profile) {
    try {
      var p = Profiles.load(profile);
      return p.latency() != null && p.latency().maxP99Regression() > 0
          ? p.latency().maxP99Regression()
          : 0.10;
    } catch (BadInputException e) {
      return 0.10; // a profile file that is not here any more
    }
  }

  private static String schemaOf(Path p) {
    JsonNode n = readTree(p);
    JsonNode s = n.get("schema");
    if (s == null || !s.isTextual()) {
      throw new BadInputException(p + ": field 'schema' is missing: not an msn-export report.json");
    }
    return s.asText();
  }

  private static JsonNode readTree(Path p) {
    try {
      JsonNode n = LENIENT.readTree(readResult(p));
      if (n == null || !n.isObject()) {
        throw new BadInputException(p + ": not a JSON object");
      }
      return n;
    } catch (JacksonException e) {
      throw new BadInputException(
          p + ": malformed JSON: " + e.getOriginalMessage().replace('\n', ' '), e);
    } catch (IOException e) {
      throw new BadInputException(p + " cannot be read: " + e.getMessage(), e);
    }
  }

  private static String readResult(Path p) {
    return InputFiles.readText(p, "result file", InputFiles.MAX_DATA_BYTES);
  }

  /** verify/1 reports lack the keys /2 added: read those as zeros there, and only there. */
  private static final ObjectMapper LENIENT_V1 =
      LENIENT.copy().disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  private static VerifyReport readVerify(Path p, String schema) {
    VerifyReport r =
        read(p, VerifyReport.class, schema.equals("msn-export.verify/1") ? LENIENT_V1 : LENIENT);
    String where = p + ": field ";
    if (r.comparisons() == null) {
      throw new BadInputException(
          where + "'comparisons' is missing or null: not a complete verify report");
    }
    for (int i = 0; i < r.comparisons().size(); i++) {
      VerifyReport.Comparison c = r.comparisons().get(i);
      String at = "'comparisons[" + i + "]";
      if (c == null) {
        throw new BadInputException(where + at + "' is null");
      }
      for (String[] f :
          new String[][] {{"candidate", c.candidate()}, {"reference", c.reference()}}) {
        if (f[1] == null) {
          throw new BadInputException(where + at + "." + f[0] + "' is missing or null");
        }
      }
      requireElements(where + at + ".outputs", c.outputs());
      requireElements(where + at + ".retrieval", c.retrieval());
      for (int j = 0; j < c.outputs().size(); j++) {
        if (c.outputs().get(j).name() == null) {
          throw new BadInputException(where + at + ".outputs[" + j + "].name' is missing or null");
        }
      }
    }
    return r;
  }

  /** A list field that is present and holds no null. */
  private static void requireElements(String field, List<?> list) {
    if (list == null) {
      throw new BadInputException(field + "' is missing or null");
    }
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i) == null) {
        throw new BadInputException(field + "[" + i + "]' is null");
      }
    }
  }

  private static <T> T read(Path p, Class<T> type, ObjectMapper mapper) {
    try {
      return mapper.readValue(readResult(p), type);
    } catch (JacksonException e) {
      throw new BadInputException(p + ": " + e.getOriginalMessage().replace('\n', ' '), e);
    } catch (IOException e) {
      throw new BadInputException(p + " cannot be read: " + e.getMessage(), e);
    }
  }
}
