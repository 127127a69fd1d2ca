package dev.msnexport.cli;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.Defaults;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.VerifyRequest;
import dev.msnexport.verifier.VerifyRun;
import dev.msnexport.verifier.io.GoldenFile;
import dev.msnexport.verifier.io.PolygraphyJson;
import dev.msnexport.verifier.report.ReportWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description =
        "Run backends on the same seeded inputs and compare every output and the retrieved slots. Exit 0 when all "
            + "comparisons pass, 1 otherwise.")
final class VerifyCommand implements Callable<Integer> {
  static final String DEFAULT_BACKENDS = "golden,ort-reference,ort-custom";

  @Mixin BackendOptions backendOptions = new BackendOptions(DEFAULT_BACKENDS);

  @Range(min = 1, max = OptionRanges.MAX_BATCH)
  @Option(
      names = "--batch",
      description =
          "Batch size of the random inputs (default: 8; not with --golden, whose inputs fix it).")
  Integer batch;

  @Mixin SeedOption seed;

  @Mixin MemoryHealthOptions health;

  @Mixin ToleranceOptions tolerances;

  @Option(
      names = "--report",
      description = "Write the JSON report (schema msn-export.verify/3) here.")
  Path report;

  @Option(
      names = "--report-dir",
      paramLabel = "DIR",
      description = "Write report.json, report.md, junit.xml and report.html (plots) into DIR.")
  Path reportDir;

  @Option(
      names = "--golden",
      paramLabel = "FILE",
      description =
          "Use the inputs saved in FILE and compare with its outputs (backend "
              + "golden-file, the reference): our safetensors golden file, or Polygraphy's RunResults JSON (*.json, inputs in *.inputs.json).")
  Path golden;

  @Option(
      names = "--save-golden",
      paramLabel = "FILE",
      description =
          "Save the inputs and the first backend's outputs to FILE: "
              + "safetensors, or Polygraphy's RunResults JSON when FILE ends in .json (inputs in *.inputs.json).")
  Path saveGolden;

  @Mixin TrtOptions trt;

  @Option(
      names = "--mark-outputs",
      split = ",",
      paramLabel = "TENSOR",
      description =
          "Also output these intermediate tensors (ONNX "
              + "node output names: 'inspect MODEL --tensors' lists them) from ort-reference, ort-custom and trt (an engine built for this "
              + "run only; not with --engine) and compare them between the backends that produce them (golden does not). Diagnostics: "
              + "printed and reported as marked_outputs, never part of the verdict.")
  List<String> markOutputs = new ArrayList<>();

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    BackendOptions o = backendOptions;
    if (golden != null && batch != null) {
      throw new ParameterException(
          spec.commandLine(),
          "--batch "
              + batch
              + " cannot be used with --golden: the golden file's inputs "
              + "fix the batch (leave out --batch)");
    }
    o.requireComparable(spec.commandLine(), golden != null);
    boolean polygraphyIn = golden != null && GoldenFile.isPolygraphyJson(golden);
    boolean polygraphyOut = saveGolden != null && GoldenFile.isPolygraphyJson(saveGolden);
    o.inputs(o.open())
        .input("--golden", golden)
        .input("--golden", polygraphyIn ? PolygraphyJson.inputsPathFor(golden) : null)
        .input("--engine", trt.engine)
        .output("--report", report)
        .outputDir("--report-dir", reportDir, OutputAliasing.REPORT_FILES)
        .output("--save-golden", saveGolden)
        .output("--save-golden", polygraphyOut ? PolygraphyJson.inputsPathFor(saveGolden) : null)
        .check(spec.commandLine());
    health.validate();
    VerifyRequest q =
        VerifyRequest.of(o.model(), o.backends)
            .withProfile(o.profile)
            .withInputs(batch == null ? Defaults.VERIFY_BATCH : batch, seed.value())
            .withOpen(o.openOptions(trt.settings(), markOutputs))
            .withTolerances(tolerances.atol(), tolerances.rtol())
            .withGolden(golden, saveGolden)
            .withHealth(health.samples, health.seed);
    VerifyReport r = VerifyRun.run(q, Errors::warn);
    if (report != null) {
      AtomicFiles.writeString(report, Profiles.toJson(r) + "\n");
    }
    if (reportDir != null) {
      VerifySummary.warnChartsSkipped(ReportWriter.writeVerify(reportDir, r));
    }
    VerifySummary.printSummary(r);
    if (reportDir != null) {
      System.out.println(
          "reports: "
              + reportDir.resolve(ReportWriter.HTML)
              + " (and report.json, report.md, junit.xml)");
    }
    return r.pass() ? ExitCodes.OK : ExitCodes.PARITY_FAILURE;
  }
}
