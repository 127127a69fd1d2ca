package dev.msnexport.cli;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.TrtSettings;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchRequest;
import dev.msnexport.verifier.latency.BenchRun;
import dev.msnexport.verifier.latency.FloorRow;
import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.latency.PlanEngines;
import dev.msnexport.verifier.report.ReportWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
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

  @Mixin BenchTimingOptions timing;

  @Mixin SeedOption seed;

  @Option(
      names = "--report-dir",
      paramLabel = "DIR",
      description = "Write report.json, report.md, junit.xml and report.html into DIR.")
  Path reportDir;

  @Mixin BenchGateOptions gates;

  @Option(
      names = "--engine",
      paramLabel = "PLAN",
      description =
          "Also time this engine plan (repeatable; any precision or graph, built earlier by 'build'), checked "
              + "through its sidecar against the export that holds it, else --model's; with --engine, --backends "
              + "defaults to none.")
  List<Path> engines = new ArrayList<>();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    BenchGateOptions g = gates;
    if (g.updateBaseline && g.baseline == null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--update-baseline needs --baseline FILE");
    }
    BackendOptions o = backendOptions;
    if (!engines.isEmpty() && !spec.commandLine().getParseResult().hasMatchedOption("--backends")) {
      o.backends = new ArrayList<>(); // plans only
    }
    try {
      PlanEngines.labels(engines);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    o.inputs(o.open())
        .input("--baseline", g.updateBaseline ? null : g.baseline)
        .outputDir("--report-dir", reportDir, OutputAliasing.REPORT_FILES)
        .output("--baseline", g.updateBaseline ? g.baseline : null)
        .check(spec.commandLine());
    BenchReport report =
        BenchRun.run(
            new BenchRequest(
                o.model(),
                o.profile,
                o.backends,
                engines,
                o.openOptions(TrtSettings.DEFAULTS, List.of()),
                batches,
                allowBatchOutsideProfile,
                timing.plan(),
                seed.value(),
                !timing.noCudaGraph,
                timing.layerProfile ? timing.layerProfileRuns : 0,
                !g.noConfirm,
                g.limits(seed.value()),
                g.baseline,
                g.updateBaseline),
            System.out,
            System.err);
    print(report);
    if (reportDir != null) {
      VerifySummary.warnChartsSkipped(ReportWriter.writeBench(reportDir, report));
      System.out.println(
          "reports: "
              + reportDir.resolve(ReportWriter.HTML)
              + " (and report.json, report.md, junit.xml)");
    }
    if (g.updateBaseline) {
      AtomicFiles.writeString(g.baseline, Profiles.toJson(report) + "\n");
      System.out.println("baseline written: " + g.baseline);
    }
    System.out.println("bench: " + (report.pass() ? "PASS" : "FAIL (latency gate)"));
    return report.pass() ? ExitCodes.OK : ExitCodes.LATENCY_GATE;
  }

  static void print(BenchReport report) {
    FloorRow.table(report.floors()).forEach(System.out::println);
    if (report.layer_profiles() != null) {
      report.layer_profiles().forEach(lp -> lp.table(15).forEach(System.out::println));
    }
    for (GateResult g : report.gates()) {
      System.out.printf(
          Locale.ROOT,
          "  gate %-44s %-7s %s%n",
          g.name(),
          g.verdict().toUpperCase(Locale.ROOT),
          g.message());
    }
  }
}
