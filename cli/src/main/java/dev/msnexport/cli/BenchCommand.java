package dev.msnexport.cli;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.TrtBackend;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.FloorRow;
import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.latency.LatencyBenchmark;
import dev.msnexport.verifier.latency.LatencyGate;
import dev.msnexport.verifier.latency.LayerProfile;
import dev.msnexport.verifier.latency.PlanEngines;
import dev.msnexport.verifier.report.ReportWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Measure host latency (and GPU time where a backend reports it) of backends on the same seeded inputs, "
            + "interleaved round robin per batch size; gate the ratio of the medians of block minima (the fastest of each 5 consecutive "
            + "runs; p99 reported beside it) against the reference graph (profile's "
            + "max_p99_ratio) and against a saved baseline (--baseline): a ratio above the limit fails. Exit 0 when every gate passes, 3 "
            + "when one fails.")
final class BenchCommand implements Callable<Integer> {
  static final double DEFAULT_DURATION_S = 2.0;

  @Mixin BackendOptions backendOptions = new BackendOptions("ort-reference,ort-custom");

  @Range(min = 1, max = OptionRanges.MAX_BATCH)
  @Option(
      names = "--batch",
      split = ",",
      paramLabel = "N",
      description =
          "Batch sizes, within the profile's batch range min..max (default: the profile's min, opt and max batch).")
  List<Integer> batches;

  @Option(
      names = "--allow-batch-outside-profile",
      description =
          "Time --batch sizes outside the profile's batch range too (a TensorRT engine of the profile refuses them; "
              + "without this they are bad input, exit 4).")
  boolean allowBatchOutsideProfile;

  @Range(min = 0, max = 3_600_000)
  @Option(
      names = "--warmup-ms",
      defaultValue = "500",
      description = "Warm-up per backend and batch size (default: ${DEFAULT-VALUE}).")
  double warmupMs;

  static final class Amount {
    @Range(min = 1, max = OptionRanges.MAX_ITERATIONS)
    @Option(
        names = "--iterations",
        paramLabel = "N",
        description = "Timed runs per backend and batch size.")
    Integer iterations;

    @Range(min = 0, max = 86_400, minExclusive = true)
    @Option(
        names = "--duration-s",
        paramLabel = "S",
        description = "Timed seconds per backend and batch size (default: 2).")
    Double durationS;
  }

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  Amount amount;

  @Range(min = 1, max = 1_000_000)
  @Option(
      names = "--rounds",
      defaultValue = "20",
      description =
          "Round-robin rounds the timed runs are split into, so that drift hits every backend alike (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of the inputs and of the bootstrap (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--report-dir",
      paramLabel = "DIR",
      description = "Write report.json, report.md, junit.xml and report.html into DIR.")
  Path reportDir;

  @Option(
      names = "--baseline",
      paramLabel = "FILE",
      description = "Saved bench result (a report.json) to gate p99 regressions against.")
  Path baseline;

  @Option(
      names = "--update-baseline",
      description = "Write this run's result to --baseline FILE (instead of gating against it).")
  boolean updateBaseline;

  @Range(min = 0, max = OptionRanges.MAX_RATIO)
  @Option(
      names = "--max-p99-regression",
      paramLabel = "R",
      description =
          "Fail when the median of block minima grew by more than R against the baseline (default: the profile's, else 0.10).")
  Double maxP99Regression;

  @Range(min = 0, max = OptionRanges.MAX_RATIO)
  @Option(
      names = "--max-p99-ratio",
      paramLabel = "R",
      description =
          "Fail when the ratio candidate/reference graph of the medians of "
              + "block minima exceeds R (default: the profile's max_p99_ratio; 0 turns the gate off).")
  Double maxP99Ratio;

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

  @Option(
      names = "--no-confirm",
      description =
          "Decide every gate on the first run. By default a gate that fails is confirmed by a second interleaved run of "
              + "every backend at that batch: it fails only if it fails again, else it is suspect (flagged, exit 0).")
  boolean noConfirm;

  @Option(
      names = "--no-drift-correction",
      description =
          "Gate against --baseline as measured. By default each backend's baseline is first scaled by how much slower "
              + "the run's other backends ran than in the baseline (the machine's drift), so a machine that is slower as a whole "
              + "raises no alarm; a regression of every backend alike then goes unseen, which this option catches.")
  boolean noDriftCorrection;

  @Option(
      names = "--no-cuda-graph",
      negatable = false,
      description =
          "Time TensorRT backends by plain launches instead of replaying each prepared launch as a CUDA graph (the default, "
              + "as trtexec's --useCudaGraph; GPU time comes from CUDA events around each run either way).")
  boolean noCudaGraph;

  @Option(
      names = "--layer-profile",
      description =
          "After timing, also run each TensorRT backend --layer-profile-runs times per batch "
              + "with TensorRT's profiler and print every layer's time and share, longest first (like trtexec's --dumpProfile "
              + "--separateProfileRun); report.json gets layer_profiles.")
  boolean layerProfile;

  @Option(
      names = "--engine",
      paramLabel = "PLAN",
      description =
          "Also time this engine plan (repeatable; any precision or graph, built earlier by 'build'), checked "
              + "through its sidecar against the export that holds it, else --model's; with --engine, --backends "
              + "defaults to none.")
  List<Path> engines = new ArrayList<>();

  @Range(min = 1, max = 100_000)
  @Option(
      names = "--layer-profile-runs",
      defaultValue = "20",
      paramLabel = "N",
      description =
          "Profiled runs per backend and batch for --layer-profile (default: ${DEFAULT-VALUE}).")
  int layerProfileRuns;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (updateBaseline && baseline == null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--update-baseline needs --baseline FILE");
    }
    // every number is in its range already (OptionRanges)
    Integer iterations = amount == null ? null : amount.iterations;
    Double durationS =
        iterations != null
            ? null
            : amount != null && amount.durationS != null ? amount.durationS : DEFAULT_DURATION_S;
    ExportedModel m = backendOptions.open();
    backendOptions
        .inputs(m)
        .input("--baseline", updateBaseline ? null : baseline)
        .outputDir("--report-dir", reportDir, OutputAliasing.REPORT_FILES)
        .output("--baseline", updateBaseline ? baseline : null)
        .check(spec.commandLine());
    Profile p = Profiles.load(backendOptions.profileName(m));
    List<Integer> sizes = batches != null ? batches : defaultBatches(p);
    checkBatches(sizes, p, allowBatchOutsideProfile);
    double regression =
        maxP99Regression != null
            ? maxP99Regression
            : p.latency() != null && p.latency().maxP99Regression() > 0
                ? p.latency().maxP99Regression()
                : 0.10;
    double ratio =
        maxP99Ratio != null ? maxP99Ratio : p.latency() != null ? p.latency().maxP99Ratio() : 0;
    BenchReport old = null;
    if (baseline != null && !updateBaseline) {
      if (!Files.exists(baseline)) {
        throw new BadInputException(
            "baseline "
                + baseline
                + " does not exist (write one on purpose with --update-baseline)");
      }
      old = BenchReport.read(baseline);
    }

    BackendOptions o = backendOptions;
    List<String> names = timedNames(o);
    System.out.printf(
        Locale.ROOT,
        "bench %s (profile %s, values %s): %s, batches %s, %s per backend and batch, warm-up %.0f ms%n",
        o.model,
        p.name(),
        m.valuesDtype(),
        names,
        sizes,
        iterations != null ? iterations + " runs" : durationS + " s",
        warmupMs);
    List<BenchResult> results;
    List<GateResult> gates;
    LatencyGate.Settings gs = new LatencyGate.Settings(resamples, confidence, seed);
    List<FloorRow> floors;
    List<LayerProfile> profiles = new ArrayList<>();
    LatencyBenchmark.Plan plan =
        new LatencyBenchmark.Plan(
            warmupMs,
            iterations == null ? 0 : iterations,
            durationS == null ? 0 : durationS,
            rounds);
    try (VerifyCommand.OpenedBackends opened =
            o.openBackends(m, BuildCommand.TrtSettings.DEFAULTS);
        PlanEngines planned = PlanEngines.open(m, p, engines, System.out)) {
      List<Backend> all = new ArrayList<>(opened.backends());
      all.addAll(planned.backends());
      all.forEach(
          b -> {
            if (b instanceof TrtBackend t) {
              t.replayCudaGraph(!noCudaGraph);
            }
          });
      results =
          LatencyBenchmark.run(
              all,
              sizes,
              b -> Inputs.random(m.config(), b, seed),
              plan,
              LatencyBenchmark.Clock.SYSTEM,
              System.out::println);
      all.forEach(
          b -> {
            if (b instanceof TrtBackend t) {
              System.out.println("  " + t.name() + ": " + t.runMode());
            }
          });
      Map<String, Backend> byName = new LinkedHashMap<>();
      all.forEach(b -> byName.put(b.name(), b));
      floors =
          FloorRow.of(
              m.config(),
              m.valuesDtype(),
              results,
              byName,
              line -> System.err.println("msn-export: " + line));
      if (layerProfile) {
        profiles =
            layerProfiles(all, sizes, b -> Inputs.random(m.config(), b, seed), layerProfileRuns);
      }
      BenchReport base = old;
      java.util.function.BiFunction<List<BenchResult>, List<Integer>, List<GateResult>> gatesOf =
          (res, at) -> {
            List<GateResult> g = new ArrayList<>();
            if (ratio > 0) {
              g.addAll(ratioGates(res, at, ratio, gs));
            }
            if (base != null) {
              g.addAll(baselineGates(res, base, regression, gs, !noDriftCorrection));
            }
            return g;
          };
      gates = gatesOf.apply(results, sizes);
      List<Integer> failed =
          gates.stream().filter(g -> !g.pass()).map(GateResult::batch).distinct().sorted().toList();
      if (!noConfirm && !failed.isEmpty()) {
        System.out.println(
            "gates failed at batch "
                + failed
                + ": timing every backend there once more, to confirm (--no-confirm: "
                + "decide on the first run)");
        List<BenchResult> again =
            LatencyBenchmark.run(
                all,
                failed,
                b -> Inputs.random(m.config(), b, seed),
                plan,
                LatencyBenchmark.Clock.SYSTEM,
                System.out::println);
        gates = LatencyGate.confirmed(gates, gatesOf.apply(again, failed));
      }
    } catch (BackendException e) {
      throw new BadInputException(e.getMessage(), e);
    }

    if (old != null) {
      if (old.host() != null && old.host().cpus() != BenchReport.Host.current().cpus()) {
        System.err.printf(
            Locale.ROOT,
            "msn-export: warning: baseline %s was measured with %d CPUs, this machine has %d%n",
            baseline,
            old.host().cpus(),
            BenchReport.Host.current().cpus());
      }
    }
    boolean pass = gates.stream().allMatch(GateResult::pass);
    BenchReport report =
        new BenchReport(
            BenchReport.SCHEMA,
            MsnOnnxExporter.toolVersion(),
            o.model.toString(),
            p.name(),
            m.valuesDtype(),
            Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
            BenchReport.Host.current(),
            new BenchReport.Settings(
                names,
                List.copyOf(sizes),
                warmupMs,
                iterations,
                durationS,
                rounds,
                o.threads,
                seed,
                "trtexec",
                resamples,
                confidence,
                ratio > 0 ? ratio : null,
                regression,
                baseline == null ? null : baseline.toString()),
            pass,
            results,
            gates,
            floors,
            layerProfile ? profiles : null);

    FloorRow.table(floors).forEach(System.out::println);
    profiles.forEach(lp -> lp.table(15).forEach(System.out::println));
    for (GateResult g : gates) {
      System.out.printf(
          Locale.ROOT,
          "  gate %-44s %-7s %s%n",
          g.name(),
          g.verdict().toUpperCase(Locale.ROOT),
          g.message());
    }
    if (reportDir != null) {
      VerifyCommand.warnChartsSkipped(ReportWriter.writeBench(reportDir, report));
      System.out.println(
          "reports: "
              + reportDir.resolve(ReportWriter.HTML)
              + " (and report.json, report.md, junit.xml)");
    }
    if (updateBaseline) {
      AtomicFiles.writeString(baseline, Profiles.toJson(report) + "\n");
      System.out.println("baseline written: " + baseline);
    }
    System.out.println("bench: " + (pass ? "PASS" : "FAIL (latency gate)"));
    return pass ? ExitCodes.OK : ExitCodes.LATENCY_GATE;
  }

  /**
   * The names of what this run times: the backends, then the {@code --engine} plans; with plans and
   * no {@code --backends} given, the plans only.
   */
  private List<String> timedNames(BackendOptions o) {
    if (!engines.isEmpty() && !spec.commandLine().getParseResult().hasMatchedOption("--backends")) {
      o.backends = new ArrayList<>();
    }
    List<String> names = new ArrayList<>(o.backends);
    try {
      names.addAll(PlanEngines.labels(engines));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    return List.copyOf(names);
  }

  /**
   * The per-layer times of every backend that has a runtime profiler, at every batch; one note per
   * backend without.
   */
  static List<LayerProfile> layerProfiles(
      List<Backend> backends,
      List<Integer> sizes,
      java.util.function.IntFunction<Map<String, dev.msnexport.common.HostTensor>> inputs,
      int runs) {
    List<LayerProfile> out = new ArrayList<>();
    java.util.Set<String> without = new java.util.LinkedHashSet<>();
    for (int batch : sizes) {
      for (Backend b : backends) {
        if (without.contains(b.name())) {
          continue;
        }
        List<LayerProfile.Layer> layers =
            b.prepare(inputs.apply(batch)) ? b.layerProfile(runs) : null;
        if (layers == null) {
          without.add(b.name());
        } else {
          out.add(LayerProfile.of(b.name(), batch, runs, layers));
        }
      }
    }
    without.forEach(
        n -> System.out.println("layer profile: " + n + " has none (only TensorRT backends do)"));
    return out;
  }

  /**
   * Every size at least 1 and, unless {@code allowOutside}, within the profile's batch range (the
   * shapes it is served with).
   */
  static void checkBatches(List<Integer> sizes, Profile p, boolean allowOutside) {
    Profile.BatchShapes range = p.batch();
    for (int b : sizes) {
      if (b < 1) {
        throw new BadInputException("--batch: batch sizes must be at least 1, got " + b);
      }
      if (!allowOutside && (b < range.min() || b > range.max())) {
        throw new BadInputException(
            "--batch "
                + b
                + " is outside the batch range "
                + range.min()
                + ".."
                + range.max()
                + " of profile '"
                + p.name()
                + "' (pass --allow-batch-outside-profile to time it anyway)");
      }
    }
  }

  static List<Integer> defaultBatches(Profile p) {
    return new ArrayList<>(
        new java.util.TreeSet<>(List.of(p.batch().min(), p.batch().opt(), p.batch().max())));
  }

  /**
   * Each candidate against its reference graph, measured in this run ({@link
   * LatencyGate#referenceOf}).
   */
  static List<GateResult> ratioGates(
      List<BenchResult> results, List<Integer> sizes, double maxRatio, LatencyGate.Settings gs) {
    List<GateResult> gates = new ArrayList<>();
    for (int batch : sizes) {
      for (BenchResult cand : results) {
        String refName = LatencyGate.referenceOf(cand.backend());
        if (cand.batch() != batch || refName == null) {
          continue;
        }
        results.stream()
            .filter(r -> r.batch() == batch && r.backend().equals(refName))
            .findFirst()
            .ifPresent(
                ref ->
                    gates.add(
                        LatencyGate.ratio(
                            cand.backend(),
                            refName,
                            batch,
                            cand.samples_ns(),
                            ref.samples_ns(),
                            maxRatio,
                            gs)));
      }
    }
    return gates;
  }

  /**
   * As {@link #baselineGates(List, BenchReport, double, LatencyGate.Settings, boolean)},
   * drift-corrected.
   */
  static List<GateResult> baselineGates(
      List<BenchResult> results, BenchReport old, double maxRegression, LatencyGate.Settings gs) {
    return baselineGates(results, old, maxRegression, gs, true);
  }

  /**
   * Every backend and batch of this run against the same in the baseline; missing pairs are skipped
   * gates. With {@code driftCorrection}, each baseline is first scaled by the machine's drift seen
   * on the run's other backends at that batch ({@link LatencyGate#drift}).
   */
  static List<GateResult> baselineGates(
      List<BenchResult> results,
      BenchReport old,
      double maxRegression,
      LatencyGate.Settings gs,
      boolean driftCorrection) {
    List<GateResult> gates = new ArrayList<>();
    for (BenchResult r : results) {
      BenchResult b = old.result(r.backend(), r.batch());
      if (b == null) {
        gates.add(
            GateResult.skipped(
                String.format(Locale.ROOT, "p99 regression %s batch %d", r.backend(), r.batch()),
                GateResult.BASELINE_REGRESSION,
                r.backend(),
                "baseline:" + r.backend(),
                r.batch(),
                1 + maxRegression,
                "the baseline has no result for " + r.backend() + " at batch " + r.batch()));
      } else {
        List<String> names = new ArrayList<>();
        List<long[][]> others = new ArrayList<>();
        for (BenchResult o : results) {
          BenchResult ob =
              o.batch() == r.batch() && !o.backend().equals(r.backend())
                  ? old.result(o.backend(), o.batch())
                  : null;
          if (driftCorrection && ob != null) {
            names.add(o.backend());
            others.add(new long[][] {o.samples_ns(), ob.samples_ns()});
          }
        }
        double drift = LatencyGate.drift(others);
        String note =
            !driftCorrection
                ? null
                : others.isEmpty()
                    ? "no drift correction: no other backend of this run is in the baseline at this batch"
                    : String.format(
                        Locale.ROOT,
                        "baseline scaled by the machine's drift %.3f (seen on %s)",
                        drift,
                        String.join(", ", names));
        gates.add(
            LatencyGate.regression(
                r.backend(),
                r.batch(),
                r.samples_ns(),
                b.samples_ns(),
                maxRegression,
                drift,
                note,
                gs));
      }
    }
    return gates;
  }
}
