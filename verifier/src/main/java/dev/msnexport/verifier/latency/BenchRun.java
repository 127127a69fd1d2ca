package dev.msnexport.verifier.latency;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profile;
import dev.msnexport.verifier.Defaults;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.BackendSpec;
import dev.msnexport.verifier.backend.Backends;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.TrtBackend;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Runs a {@link BenchRequest}: times the backends interleaved ({@link LatencyBenchmark}), adds the
 * floors and layer profiles, gates ({@link BenchGates}) and confirms failed gates by a second run.
 * Progress lines go to {@code out}, warnings to {@code warn}.
 */
public final class BenchRun {
  private BenchRun() {}

  /** Runs it; {@code err} gets warnings and notes. */
  public static BenchReport run(BenchRequest q, PrintStream out, PrintStream err) {
    Consumer<String> warn = w -> err.println("msn-export: warning: " + w);
    ExportedModel m = ExportedModel.open(q.model());
    Profile p = Defaults.profile(q.profile(), m, warn);
    List<Integer> sizes = q.batches() != null ? q.batches() : defaultBatches(p);
    checkBatches(sizes, p, q.allowBatchOutsideProfile());
    double regression = Defaults.maxP99Regression(q.gates().maxRegression(), p);
    double ratio = Defaults.maxP99Ratio(q.gates().maxRatio(), p);
    BenchReport old =
        q.baseline() == null || q.updateBaseline() ? null : readBaseline(q.baseline(), warn);
    BenchGates gating =
        new BenchGates(ratio, old, regression, q.gates().driftCorrection(), q.gates().settings());
    LatencyBenchmark.Plan plan = q.plan();
    out.printf(
        Locale.ROOT,
        "bench %s (profile %s, values %s): %s, batches %s, %s per backend and batch, warm-up %.0f"
            + " ms%n",
        q.model(),
        p.name(),
        m.valuesDtype(),
        names(q),
        sizes,
        plan.iterations() > 0 ? plan.iterations() + " runs" : plan.durationS() + " s",
        plan.warmupMs());
    IntFunction<Map<String, HostTensor>> inputs = b -> Inputs.random(m.config(), b, q.seed());
    List<BenchResult> results;
    List<GateResult> gates;
    List<FloorRow> floors;
    List<LayerProfile> profiles = new ArrayList<>();
    List<BucketRow> buckets;
    try (Backends.Opened opened = Backends.open(q.backends(), m, p, q.open());
        PlanEngines planned = PlanEngines.open(m, p, q.engines(), out)) {
      List<Backend> backends = new ArrayList<>(opened.backends());
      backends.addAll(planned.backends());
      backends.forEach(
          b -> {
            if (b instanceof TrtBackend t) {
              t.replayCudaGraph(q.cudaGraph());
            }
          });
      results =
          LatencyBenchmark.run(
              backends, sizes, inputs, plan, LatencyBenchmark.Clock.SYSTEM, out::println);
      backends.forEach(
          b -> {
            if (b instanceof TrtBackend t) {
              out.println("  " + t.name() + ": " + t.runMode());
            }
          });
      buckets = BucketRow.of(backends, sizes);
      buckets.forEach(row -> out.println("  " + row.line()));
      Map<String, Backend> byName = new LinkedHashMap<>();
      backends.forEach(b -> byName.put(b.name(), b));
      floors =
          FloorRow.of(
              m.config(),
              m.valuesDtype(),
              results,
              byName,
              line -> err.println("msn-export: " + line));
      if (q.layerProfileRuns() > 0) {
        profiles = layerProfiles(backends, sizes, inputs, q.layerProfileRuns(), out);
      }
      gates = gating.of(results, sizes);
      List<Integer> failed =
          gates.stream().filter(g -> !g.pass()).map(GateResult::batch).distinct().sorted().toList();
      if (q.confirm() && !failed.isEmpty()) {
        out.println(
            "gates failed at batch "
                + failed
                + ": timing every backend there once more, to confirm (--no-confirm: "
                + "decide on the first run)");
        List<BenchResult> again =
            LatencyBenchmark.run(
                backends, failed, inputs, plan, LatencyBenchmark.Clock.SYSTEM, out::println);
        gates = LatencyGate.confirmed(gates, gating.of(again, failed));
      }
    } catch (BackendException e) {
      throw new BadInputException(e.getMessage(), e);
    }
    return new BenchReport(
        BenchReport.SCHEMA,
        MsnOnnxExporter.toolVersion(),
        q.model().toString(),
        p.name(),
        m.valuesDtype(),
        Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
        BenchReport.Host.current(),
        settings(q, sizes, ratio, regression),
        gates.stream().allMatch(GateResult::pass),
        results,
        gates,
        floors,
        q.layerProfileRuns() > 0 ? profiles : null,
        buckets.isEmpty() ? null : buckets);
  }

  private static BenchReport.Settings settings(
      BenchRequest q, List<Integer> sizes, double ratio, double regression) {
    LatencyBenchmark.Plan plan = q.plan();
    boolean byCount = plan.iterations() > 0;
    return new BenchReport.Settings(
        names(q),
        List.copyOf(sizes),
        plan.warmupMs(),
        byCount ? plan.iterations() : null,
        byCount ? null : plan.durationS(),
        plan.rounds(),
        q.open().threads(),
        q.seed(),
        "trtexec",
        q.gates().settings().resamples(),
        q.gates().settings().confidence(),
        ratio > 0 ? ratio : null,
        regression,
        q.baseline() == null ? null : q.baseline().toString());
  }

  /** What the run times, by name: the backends' specs, then the plans' labels. */
  static List<String> names(BenchRequest q) {
    List<String> names = new ArrayList<>(q.backends().stream().map(BackendSpec::format).toList());
    names.addAll(PlanEngines.labels(q.engines()));
    return List.copyOf(names);
  }

  /** The baseline to gate against (it must exist); warns when it was measured on other CPUs. */
  static BenchReport readBaseline(Path baseline, Consumer<String> warn) {
    if (!Files.exists(baseline)) {
      throw new BadInputException(
          "baseline " + baseline + " does not exist (write one on purpose with --update-baseline)");
    }
    BenchReport old = BenchReport.read(baseline);
    if (old.host() != null && old.host().cpus() != BenchReport.Host.current().cpus()) {
      warn.accept(
          String.format(
              Locale.ROOT,
              "baseline %s was measured with %d CPUs, this machine has %d",
              baseline,
              old.host().cpus(),
              BenchReport.Host.current().cpus()));
    }
    return old;
  }

  /**
   * The per-layer times of every backend that has a runtime profiler, at every batch; one note per
   * backend without.
   */
  static List<LayerProfile> layerProfiles(
      List<Backend> backends,
      List<Integer> sizes,
      IntFunction<Map<String, HostTensor>> inputs,
      int runs,
      PrintStream out) {
    List<LayerProfile> profiles = new ArrayList<>();
    List<BucketRow> buckets;
    Set<String> without = new LinkedHashSet<>();
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
          profiles.add(LayerProfile.of(b.name(), batch, runs, layers));
        }
      }
    }
    without.forEach(
        n -> out.println("layer profile: " + n + " has none (only TensorRT backends do)"));
    return profiles;
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
        new TreeSet<>(List.of(p.batch().min(), p.batch().opt(), p.batch().max())));
  }
}
