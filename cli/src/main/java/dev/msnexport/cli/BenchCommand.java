package dev.msnexport.cli;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.latency.LatencyBenchmark;
import dev.msnexport.verifier.latency.LatencyGate;
import dev.msnexport.verifier.report.ReportWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measure host latency (and GPU time where a backend reports it) of backends on the same seeded inputs, "
        + "interleaved round robin per batch size; gate the ratio of the medians of block minima (the fastest of each 5 consecutive "
        + "runs; p99 reported beside it) against the reference graph (profile's "
        + "max_p99_ratio) and against a saved baseline (--baseline): a ratio above the limit fails. Exit 0 when every gate passes, 3 "
        + "when one fails.")
final class BenchCommand implements Callable<Integer> {
  static final double DEFAULT_DURATION_S = 2.0;

  @Mixin
  BackendOptions backendOptions = new BackendOptions("ort-reference,ort-custom");

  @Option(names = "--batch", split = ",", paramLabel = "N",
      description = "Batch sizes, within the profile's batch range min..max (default: the profile's min, opt and max batch).")
  List<Integer> batches;

  @Option(names = "--allow-batch-outside-profile",
      description = "Time --batch sizes outside the profile's batch range too (a TensorRT engine of the profile refuses them; "
          + "without this they are bad input, exit 4).")
  boolean allowBatchOutsideProfile;

  @Option(names = "--warmup-ms", defaultValue = "500", description = "Warm-up per backend and batch size (default: ${DEFAULT-VALUE}).")
  double warmupMs;

  static final class Amount {
    @Option(names = "--iterations", paramLabel = "N", description = "Timed runs per backend and batch size.")
    Integer iterations;

    @Option(names = "--duration-s", paramLabel = "S", description = "Timed seconds per backend and batch size (default: 2).")
    Double durationS;
  }

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  Amount amount;

  @Option(names = "--rounds", defaultValue = "20",
      description = "Round-robin rounds the timed runs are split into, so that drift hits every backend alike (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the inputs and of the bootstrap (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--report-dir", paramLabel = "DIR", description = "Write report.json, report.md, junit.xml and report.html into DIR.")
  Path reportDir;

  @Option(names = "--baseline", paramLabel = "FILE", description = "Saved bench result (a report.json) to gate p99 regressions against.")
  Path baseline;

  @Option(names = "--update-baseline", description = "Write this run's result to --baseline FILE (instead of gating against it).")
  boolean updateBaseline;

  @Option(names = "--max-p99-regression", paramLabel = "R",
      description = "Fail when the median of block minima grew by more than R against the baseline (default: the profile's, else 0.10).")
  Double maxP99Regression;

  @Option(names = "--max-p99-ratio", paramLabel = "R", description = "Fail when the ratio candidate/reference graph of the medians of "
      + "block minima exceeds R (default: the profile's max_p99_ratio; 0 turns the gate off).")
  Double maxP99Ratio;

  @Option(names = "--resamples", defaultValue = "2000", description = "Bootstrap resamples per gate (default: ${DEFAULT-VALUE}).")
  int resamples;

  @Option(names = "--confidence", defaultValue = "0.95", description = "Confidence of the bootstrap interval (default: ${DEFAULT-VALUE}).")
  double confidence;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (updateBaseline && baseline == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--update-baseline needs --baseline FILE");
    }
    if (resamples < 1 || !(confidence > 0 && confidence < 1) || rounds < 1 || warmupMs < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "need --resamples >= 1, 0 < --confidence < 1, --rounds >= 1 and --warmup-ms >= 0");
    }
    Integer iterations = amount == null ? null : amount.iterations;
    Double durationS = iterations != null ? null : amount != null && amount.durationS != null ? amount.durationS : DEFAULT_DURATION_S;
    if ((iterations != null && iterations < 1) || (durationS != null && !(durationS > 0))) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--iterations and --duration-s must be positive");
    }
    ExportedModel m = backendOptions.open();
    Profile p = Profiles.load(backendOptions.profileName(m));
    List<Integer> sizes = batches != null ? batches : defaultBatches(p);
    checkBatches(sizes, p, allowBatchOutsideProfile);
    double regression = maxP99Regression != null ? maxP99Regression
        : p.latency() != null && p.latency().maxP99Regression() > 0 ? p.latency().maxP99Regression() : 0.10;
    double ratio = maxP99Ratio != null ? maxP99Ratio : p.latency() != null ? p.latency().maxP99Ratio() : 0;
    if (regression < 0 || ratio < 0) {
      throw new BadInputException("--max-p99-regression and --max-p99-ratio must not be negative");
    }
    BenchReport old = null;
    if (baseline != null && !updateBaseline) {
      if (!Files.isRegularFile(baseline)) {
        throw new BadInputException("baseline " + baseline + " does not exist (write one on purpose with --update-baseline)");
      }
      old = BenchReport.read(baseline);
    }

    BackendOptions o = backendOptions;
    System.out.printf(Locale.ROOT, "bench %s (profile %s, values %s): %s, batches %s, %s per backend and batch, warm-up %.0f ms%n",
        o.model, p.name(), m.valuesDtype(), o.backends, sizes, iterations != null ? iterations + " runs" : durationS + " s", warmupMs);
    List<BenchResult> results;
    LatencyBenchmark.Plan plan = new LatencyBenchmark.Plan(warmupMs, iterations == null ? 0 : iterations,
        durationS == null ? 0 : durationS, rounds);
    try (VerifyCommand.OpenedBackends opened = o.openBackends(m, BuildCommand.TrtSettings.DEFAULTS)) {
      results = LatencyBenchmark.run(opened.backends(), sizes, b -> Inputs.random(m.config(), b, seed), plan,
          LatencyBenchmark.Clock.SYSTEM, System.out::println);
    } catch (BackendException e) {
      throw new BadInputException(e.getMessage(), e);
    }

    LatencyGate.Settings gs = new LatencyGate.Settings(resamples, confidence, seed);
    List<GateResult> gates = new ArrayList<>();
    if (ratio > 0) {
      gates.addAll(ratioGates(results, sizes, ratio, gs));
    }
    if (old != null) {
      gates.addAll(baselineGates(results, old, regression, gs));
      if (old.host() != null && old.host().cpus() != BenchReport.Host.current().cpus()) {
        System.err.printf(Locale.ROOT, "msn-export: warning: baseline %s was measured with %d CPUs, this machine has %d%n", baseline,
            old.host().cpus(), BenchReport.Host.current().cpus());
      }
    }
    boolean pass = gates.stream().allMatch(GateResult::pass);
    BenchReport report = new BenchReport(BenchReport.SCHEMA, MsnOnnxExporter.toolVersion(), o.model.toString(), p.name(), m.valuesDtype(),
        Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), BenchReport.Host.current(),
        new BenchReport.Settings(List.copyOf(o.backends), List.copyOf(sizes), warmupMs, iterations, durationS, rounds, o.threads, seed,
            "trtexec", resamples, confidence, ratio > 0 ? ratio : null, regression, baseline == null ? null : baseline.toString()),
        pass, results, gates);

    for (GateResult g : gates) {
      System.out.printf(Locale.ROOT, "  gate %-44s %-7s %s%n", g.name(), g.verdict().toUpperCase(Locale.ROOT), g.message());
    }
    if (reportDir != null) {
      ReportWriter.writeBench(reportDir, report);
      System.out.println("reports: " + reportDir.resolve(ReportWriter.HTML) + " (and report.json, report.md, junit.xml)");
    }
    if (updateBaseline) {
      AtomicFiles.writeString(baseline, Profiles.toJson(report) + "\n");
      System.out.println("baseline written: " + baseline);
    }
    System.out.println("bench: " + (pass ? "PASS" : "FAIL (latency gate)"));
    return pass ? ExitCodes.OK : ExitCodes.LATENCY_GATE;
  }

  /** Every size at least 1 and, unless {@code allowOutside}, within the profile's batch range (the shapes it is served with). */
  static void checkBatches(List<Integer> sizes, Profile p, boolean allowOutside) {
    Profile.BatchShapes range = p.batch();
    for (int b : sizes) {
      if (b < 1) {
        throw new BadInputException("--batch: batch sizes must be at least 1, got " + b);
      }
      if (!allowOutside && (b < range.min() || b > range.max())) {
        throw new BadInputException("--batch " + b + " is outside the batch range " + range.min() + ".." + range.max() + " of profile '"
            + p.name() + "' (pass --allow-batch-outside-profile to time it anyway)");
      }
    }
  }

  static List<Integer> defaultBatches(Profile p) {
    return new ArrayList<>(new java.util.TreeSet<>(List.of(p.batch().min(), p.batch().opt(), p.batch().max())));
  }

  /** Each candidate against its reference graph, measured in this run ({@link LatencyGate#referenceOf}). */
  static List<GateResult> ratioGates(List<BenchResult> results, List<Integer> sizes, double maxRatio, LatencyGate.Settings gs) {
    List<GateResult> gates = new ArrayList<>();
    for (int batch : sizes) {
      for (BenchResult cand : results) {
        String refName = LatencyGate.referenceOf(cand.backend());
        if (cand.batch() != batch || refName == null) {
          continue;
        }
        results.stream().filter(r -> r.batch() == batch && r.backend().equals(refName)).findFirst().ifPresent(ref -> gates.add(
            LatencyGate.ratio(cand.backend(), refName, batch, cand.samples_ns(), ref.samples_ns(), maxRatio, gs)));
      }
    }
    return gates;
  }

  /** Every backend and batch of this run against the same in the baseline; missing pairs are skipped gates. */
  static List<GateResult> baselineGates(List<BenchResult> results, BenchReport old, double maxRegression, LatencyGate.Settings gs) {
    List<GateResult> gates = new ArrayList<>();
    for (BenchResult r : results) {
      BenchResult b = old.result(r.backend(), r.batch());
      if (b == null) {
        gates.add(GateResult.skipped(String.format(Locale.ROOT, "p99 regression %s batch %d", r.backend(), r.batch()),
            GateResult.BASELINE_REGRESSION, r.backend(), "baseline:" + r.backend(), r.batch(), 1 + maxRegression,
            "the baseline has no result for " + r.backend() + " at batch " + r.batch()));
      } else {
        gates.add(LatencyGate.regression(r.backend(), r.batch(), r.samples_ns(), b.samples_ns(), maxRegression, gs));
      }
    }
    return gates;
  }
}
