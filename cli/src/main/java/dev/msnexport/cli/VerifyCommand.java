package dev.msnexport.cli;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.OutputSet;
import dev.msnexport.verifier.Verifier;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.HostTensor;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.OrtBackend;
import dev.msnexport.verifier.backend.TrtBackend;
import dev.msnexport.verifier.health.MemoryHealth;
import dev.msnexport.verifier.io.GoldenFile;
import dev.msnexport.verifier.io.GoldenFileBackend;
import dev.msnexport.verifier.io.PolygraphyJson;
import dev.msnexport.verifier.report.MarkdownReport;
import dev.msnexport.verifier.report.ReportWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
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

  static final int DEFAULT_BATCH = 8;

  @Range(min = 1, max = OptionRanges.MAX_BATCH)
  @Option(
      names = "--batch",
      description =
          "Batch size of the random inputs (default: 8; not with --golden, whose inputs fix it).")
  Integer batch;

  @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
  long seed;

  @Mixin MemoryHealthOptions health;

  @Range(min = 0, max = OptionRanges.MAX_TOLERANCE, keyed = true)
  @Option(
      names = "--atol",
      split = ",",
      paramLabel = "[OUTPUT:]VALUE",
      description = "Absolute tolerance, for all outputs or one.")
  List<String> atol = new ArrayList<>();

  @Range(min = 0, max = OptionRanges.MAX_TOLERANCE, keyed = true)
  @Option(
      names = "--rtol",
      split = ",",
      paramLabel = "[OUTPUT:]VALUE",
      description = "Relative tolerance, for all outputs or one.")
  List<String> rtol = new ArrayList<>();

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

  @Option(
      names = "--engine",
      paramLabel = "PLAN",
      description =
          "Backend trt: load this engine plan instead of building one; its "
              + "sidecar PLAN.json must match the export, the plugin library, TensorRT and the GPU (else exit 4).")
  Path engine;

  @Option(
      names = "--precision",
      description =
          "Backend trt: precision of the engine it builds, fp32 or fp16 (default: the "
              + "profile's, else fp32). Comparisons with an fp16 backend use the profile's fp16 tolerances.")
  Choices.Precision precision;

  @Option(
      names = "--trt-graph",
      description =
          "Backend trt: graph it builds, custom (our plugins) or reference (default: custom).")
  Choices.Graph trtGraph;

  @Option(
      names = "--timing-cache",
      paramLabel = "FILE",
      description = "Backend trt: TensorRT timing cache for builds.")
  Path timingCache;

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
    requireComparableBackends(spec.commandLine(), o.backends, golden != null);
    boolean polygraphyIn = golden != null && GoldenFile.isPolygraphyJson(golden);
    boolean polygraphyOut = saveGolden != null && GoldenFile.isPolygraphyJson(saveGolden);
    o.inputs(o.open())
        .input("--golden", golden)
        .input("--golden", polygraphyIn ? PolygraphyJson.inputsPathFor(golden) : null)
        .input("--engine", engine)
        .output("--report", report)
        .outputDir("--report-dir", reportDir, OutputAliasing.REPORT_FILES)
        .output("--save-golden", saveGolden)
        .output("--save-golden", polygraphyOut ? PolygraphyJson.inputsPathFor(saveGolden) : null)
        .check(spec.commandLine());
    VerifyReport r =
        run(
            o.model,
            o.backends,
            batch == null ? DEFAULT_BATCH : batch,
            seed,
            o.profile,
            o.checkpoint,
            o.nameMap.read(),
            atol,
            rtol,
            o.threads,
            golden,
            saveGolden,
            new BuildCommand.TrtSettings(
                engine,
                precision == null ? null : precision.name(),
                trtGraph == null ? null : trtGraph.name(),
                timingCache,
                null),
            health,
            markOutputs);
    if (report != null) {
      AtomicFiles.writeString(report, Profiles.toJson(r) + "\n");
    }
    if (reportDir != null) {
      warnChartsSkipped(ReportWriter.writeVerify(reportDir, r));
    }
    printSummary(r);
    if (reportDir != null) {
      System.out.println(
          "reports: "
              + reportDir.resolve(ReportWriter.HTML)
              + " (and report.json, report.md, junit.xml)");
    }
    return r.pass() ? ExitCodes.OK : ExitCodes.PARITY_FAILURE;
  }

  /**
   * Usage errors of a backend list: a backend listed twice, or fewer than two results to compare
   * ({@code golden}: a golden file adds one).
   */
  static void requireComparableBackends(CommandLine cl, List<String> backendNames, boolean golden) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (String b : backendNames) {
      if (!seen.add(b.trim())) {
        throw new ParameterException(
            cl,
            "--backends: '"
                + b.trim()
                + "' is listed twice; list each backend once (each is compared with "
                + "every other)");
      }
    }
    if (seen.size() + (golden ? 1 : 0) < 2) {
      throw new ParameterException(
          cl,
          "--backends "
              + String.join(",", backendNames)
              + ": nothing to compare; verify needs at least "
              + "two backends"
              + (golden ? " (the golden file counts as one)" : ", or one and --golden FILE"));
    }
  }

  /**
   * Runs the backends and compares them (verify, and pipeline's last step).
   *
   * @param nameMap maps the golden backend's checkpoint tensor names to the contract's; or null
   * @param golden a golden file: its inputs replace the random ones and its outputs are the first
   *     backend ({@value GoldenFileBackend#NAME}); or null
   * @param saveGolden where to save the inputs and the first backend's outputs; or null
   * @param trtSettings how backend specs {@code trt[:...]} build or load their engine
   * @param health how to compute the checkpoint's memory health for the report ({@link
   *     #memoryHealth})
   * @param markOutputs intermediate tensors to output and compare too ({@code --mark-outputs}; may
   *     be empty)
   */
  static VerifyReport run(
      Path modelDir,
      List<String> backendNames,
      int batch,
      long seed,
      String profileArg,
      Path checkpointArg,
      NameMap nameMap,
      List<String> atol,
      List<String> rtol,
      int threads,
      Path golden,
      Path saveGolden,
      BuildCommand.TrtSettings trtSettings,
      MemoryHealthOptions health,
      List<String> markOutputs) {
    health.validate();
    ExportedModel m = ExportedModel.open(modelDir);
    String profileName = BackendOptions.profileName(profileArg, m);
    Profile profile = Profiles.load(profileName);
    BuildCommand.TrtSettings trt = trtSettings.withProfile(profileName);
    List<String> marks = List.copyOf(new java.util.LinkedHashSet<>(markOutputs));
    checkMarkOutputs(m, backendNames, marks, trt);
    Map<String, String> precisions = new HashMap<>();
    for (String b : backendNames) {
      precisions.put(b.trim(), trt.precisionOf(m, b, m.valuesDtype()));
    }
    Verifier.PairTolerances tols =
        Verifier.PairTolerances.byLowerPrecision(
            profile,
            new Verifier.Tolerances(
                profile.tolerance(m.valuesDtype()),
                parseTolerances("--atol", atol),
                parseTolerances("--rtol", rtol)),
            precisions,
            m.valuesDtype());
    if (batch < 1) {
      throw new BadInputException("--batch must be at least 1, got " + batch);
    }
    GoldenFile g = golden == null ? null : GoldenFile.read(golden);
    Map<String, HostTensor> inputs;
    if (g != null) {
      long goldenBatch;
      try {
        goldenBatch = Inputs.tokens(g.inputs(), m.config()).shape()[0];
      } catch (BadInputException e) {
        throw new BadInputException("golden file " + golden + ": " + e.getMessage(), e);
      }
      g =
          new GoldenFile(
              g.inputs(),
              OutputSet.checkGolden(
                  golden,
                  g,
                  m.config(),
                  OutputSet.of(m.config(), m.retrievalOutputs(), goldenBatch),
                  marks,
                  w -> System.err.println("msn-export: warning: " + w)),
              g.producer(),
              g.modelSha256());
      inputs = g.inputs();
      if (g.modelSha256() != null
          && m.checkpointSha256() != null
          && !g.modelSha256().equals(m.checkpointSha256())) {
        System.err.println(
            "msn-export: warning: "
                + golden
                + " was saved for checkpoint "
                + g.modelSha256()
                + ", "
                + modelDir
                + " was exported from "
                + m.checkpointSha256());
      }
    } else {
      inputs = Inputs.random(m.config(), batch, seed);
    }
    long inputBatch = Inputs.tokens(inputs, m.config()).shape()[0];
    if (inputBatch > profile.batch().max()) {
      // the same answer for every backend: a trt engine cannot take it, so no backend is asked
      // (docs/robustness.md)
      throw new BadInputException(
          (g != null ? "golden file " + golden + " holds batch " : "--batch ")
              + inputBatch
              + ", more than batch.max "
              + profile.batch().max()
              + " of profile '"
              + profile.name()
              + "'");
    }
    try (OpenedBackends opened =
        openBackends(m, backendNames, checkpointArg, nameMap, threads, trt, marks)) {
      List<Backend> all = new ArrayList<>();
      if (g != null) {
        all.add(new GoldenFileBackend(g));
      }
      all.addAll(opened.backends());
      if (all.size() < 2) {
        throw new BadInputException(
            "--backends needs at least two backends to compare (or one and --golden), got "
                + backendNames);
      }
      Map<String, Map<String, HostTensor>> outputs = new LinkedHashMap<>();
      VerifyReport r =
          Verifier.run(
              modelDir.toString(),
              profile.name(),
              m.valuesDtype(),
              all,
              inputs,
              seed,
              tols,
              outputs,
              marks);
      if (saveGolden != null) {
        saveGolden(saveGolden, inputs, outputs, g, m.checkpointSha256());
      }
      return r.withMemoryHealth(
              memoryHealth(m, opened.checkpoint(), checkpointArg, nameMap, health))
          .withQuantization(
              QuantizationStep.run(
                  m, opened.backends(), opened.checkpoint(), checkpointArg, nameMap, inputs));
    } catch (BackendException e) {
      throw new BadInputException(e.getMessage(), e);
    }
  }

  /** Opened backends; closing closes every backend, then the golden model's checkpoint. */
  record OpenedBackends(List<Backend> backends, Checkpoint checkpoint) implements AutoCloseable {
    @Override
    public void close() {
      for (Backend b : backends) {
        b.close();
      }
      if (checkpoint != null) {
        checkpoint.close();
      }
    }
  }

  /**
   * Opens the named backends in order (verify and bench share this); on failure closes what it
   * opened. The golden backend reads {@code checkpointArg} (else the export's checkpoint) through
   * {@code nameMap} (or null); {@code trt} opens TensorRT backends ({@link
   * BuildCommand.TrtSettings}). The ONNX Runtime and TensorRT backends also output the tensors
   * {@code markOutputs} (may be empty).
   */
  static OpenedBackends openBackends(
      ExportedModel m,
      List<String> backendNames,
      Path checkpointArg,
      NameMap nameMap,
      int threads,
      BuildCommand.TrtSettings trt,
      List<String> markOutputs) {
    List<Backend> opened = new ArrayList<>();
    Checkpoint ckpt = null;
    try {
      for (String name : backendNames) {
        if (BuildCommand.TrtSettings.isTrtSpec(name)) { // trt, trt:fp16, trt:reference, ...
          opened.add(trt.open(m, name, markOutputs));
          continue;
        }
        switch (name.trim()) {
          case GoldenBackend.NAME -> {
            ckpt = m.openCheckpoint(checkpointArg, nameMap);
            opened.add(
                new GoldenBackend(ckpt, m.retrievalOutputs(), QuantizationStep.valuesDtype(m)));
          }
          case OrtBackend.REFERENCE ->
              opened.add(
                  new OrtBackend(OrtBackend.REFERENCE, m.reference(), false, threads, markOutputs));
          case OrtBackend.CUSTOM ->
              opened.add(new OrtBackend(OrtBackend.CUSTOM, m.custom(), true, threads, markOutputs));
          default ->
              throw new BadInputException(
                  "--backends: unknown backend '"
                      + name
                      + "' (known: "
                      + DEFAULT_BACKENDS
                      + ", "
                      + BuildCommand.TrtSettings.SPECS
                      + ")");
        }
      }
      return new OpenedBackends(opened, ckpt);
    } catch (RuntimeException e) {
      new OpenedBackends(opened, ckpt).close();
      throw e;
    }
  }

  /**
   * Checks {@code --mark-outputs} before anything runs: no {@code --engine} with a TensorRT backend
   * (a prebuilt plan lacks the marked outputs), and every name a node output of every graph a
   * listed backend runs. The two graphs share the names of the token mixing, the FFN, the
   * LayerNorms and the MSN query and scoring, but not all inside {@code blocks.{l}.msn} (their
   * retrieval ops, the gate's Mul): the message says when a name is only in the other graph.
   */
  static void checkMarkOutputs(
      ExportedModel m,
      List<String> backendNames,
      List<String> marks,
      BuildCommand.TrtSettings trt) {
    if (marks.isEmpty()) {
      return;
    }
    Map<Path, List<String>> graphs = new LinkedHashMap<>();
    for (String b : backendNames) {
      Path graph = null;
      if (BuildCommand.TrtSettings.isTrtSpec(b)) {
        if (trt.engine() != null) {
          throw new BadInputException(
              "--engine "
                  + trt.engine()
                  + " cannot be used with --mark-outputs: a prebuilt plan lacks the "
                  + "marked outputs (leave out --engine: "
                  + b.trim()
                  + " then builds a temporary engine that has them)");
        }
        graph = TrtBackend.onnxFor(m, trt.graphOf(m, b));
      } else if (b.trim().equals(OrtBackend.REFERENCE)) {
        graph = m.reference();
      } else if (b.trim().equals(OrtBackend.CUSTOM)) {
        graph = m.custom();
      }
      if (graph != null) {
        graphs.computeIfAbsent(graph, g -> new ArrayList<>()).add(b.trim());
      }
    }
    for (Map.Entry<Path, List<String>> e : graphs.entrySet()) {
      Path file = e.getKey();
      ModelProto model = OnnxTensors.read(file);
      java.util.Set<String> known = new java.util.HashSet<>();
      OnnxTensors.list(model).forEach(t -> known.add(t.name()));
      for (String name : marks) {
        if (!known.contains(name)) {
          Path other = file.equals(m.custom()) ? m.reference() : m.custom();
          boolean inOther =
              java.nio.file.Files.isRegularFile(other)
                  && OnnxTensors.list(OnnxTensors.read(other)).stream()
                      .anyMatch(t -> t.name().equals(name));
          throw new BadInputException(
              "--mark-outputs: tensor '"
                  + name
                  + "' is not a node output of "
                  + file
                  + " (backend "
                  + String.join(", ", e.getValue())
                  + ")"
                  + (inOther
                      ? "; it is one of "
                          + other
                          + " only (inside blocks.{l}.msn the "
                          + "graphs differ: their retrieval ops, and the names of some nodes such as the gate's Mul), so mark it with backends "
                          + "of that graph only"
                      : "")
                  + " ('msn-export inspect "
                  + file
                  + " --tensors' lists them)");
        }
      }
      OnnxTensors.requireMarkable(model, marks, file.toString());
    }
  }

  /**
   * The memory health of the model's checkpoint: the one the golden backend opened, else the
   * export's (or {@code --checkpoint}) opened for it. Null when skipped, or, with a warning on
   * stderr, when that checkpoint cannot be opened (verify itself does not need it without golden).
   */
  static MemoryHealth.Report memoryHealth(
      ExportedModel m,
      Checkpoint opened,
      Path checkpointArg,
      NameMap nameMap,
      MemoryHealthOptions health) {
    if (!health.enabled()) {
      return null;
    }
    if (opened != null) {
      return health.compute(opened);
    }
    try (Checkpoint c = m.openCheckpoint(checkpointArg, nameMap)) {
      return health.compute(c);
    } catch (BadInputException e) {
      System.err.println("msn-export: warning: no memory health: " + e.getMessage());
      return null;
    }
  }

  /**
   * Saves the inputs and the first backend's outputs (a replayed golden file keeps its producer).
   */
  static void saveGolden(
      Path file,
      Map<String, HostTensor> inputs,
      Map<String, Map<String, HostTensor>> outputs,
      GoldenFile loaded,
      String checkpointSha256) {
    if (outputs.isEmpty()) {
      throw new BadInputException("--save-golden " + file + ": no backend ran, nothing to save");
    }
    Map.Entry<String, Map<String, HostTensor>> first = outputs.entrySet().iterator().next();
    boolean replayed = first.getKey().equals(GoldenFileBackend.NAME) && loaded != null;
    String producer = replayed ? loaded.producer() : first.getKey();
    String sha = replayed && loaded.modelSha256() != null ? loaded.modelSha256() : checkpointSha256;
    new GoldenFile(inputs, first.getValue(), producer, sha).write(file);
    System.out.println(
        "golden: inputs and "
            + producer
            + " outputs saved to "
            + file
            + (GoldenFile.isPolygraphyJson(file)
                ? " and " + PolygraphyJson.inputsPathFor(file)
                : ""));
  }

  /**
   * One line on stderr when report.html was written without its plots ({@code why} null: nothing).
   */
  static void warnChartsSkipped(String why) {
    if (why != null) {
      System.err.println(
          "msn-export: warning: " + dev.msnexport.verifier.report.Plots.skippedLine(why));
    }
  }

  /** "1e-4" applies to every output (key ""), "click:1e-4" to one. */
  static Map<String, Double> parseTolerances(String option, List<String> specs) {
    Map<String, Double> m = new HashMap<>();
    for (String s : specs) {
      int colon = s.lastIndexOf(':');
      String key = colon < 0 ? "" : s.substring(0, colon);
      try {
        double v = Double.parseDouble(s.substring(colon + 1));
        if (!(v >= 0) || Double.isInfinite(v)) {
          throw new NumberFormatException();
        }
        m.put(key, v);
      } catch (NumberFormatException e) {
        throw new BadInputException(
            option + ": '" + s + "' is not [OUTPUT:]VALUE with a non-negative number");
      }
    }
    return m;
  }

  static void printSummary(VerifyReport r) {
    System.out.printf(
        Locale.ROOT,
        "verify %s (profile %s, values %s, batch %d, seed %d): %s%n",
        r.model(),
        r.profile(),
        r.values_dtype(),
        r.batch(),
        r.seed(),
        r.pass() ? "PASS" : "FAIL");
    for (VerifyReport.BackendRun b : r.backends()) {
      if (!b.status().equals("ok")) {
        System.out.printf(
            Locale.ROOT,
            "  %-14s %s: %s%n",
            b.name(),
            b.status().toUpperCase(Locale.ROOT),
            b.error());
      }
    }
    for (VerifyReport.Comparison c : r.comparisons()) {
      System.out.printf(
          Locale.ROOT,
          "  %-14s vs %-14s %s%s%n",
          c.candidate(),
          c.reference(),
          c.pass() ? "pass" : "FAIL",
          c.tolerances() == null ? "" : "  (" + c.tolerances().summary() + ")");
      for (VerifyReport.OutputSetMismatch x : c.output_set()) {
        System.out.printf(Locale.ROOT, "    FAIL %s%n", x.message(c.candidate(), c.reference()));
      }
      for (OutputComparison o : c.outputs()) {
        System.out.printf(
            Locale.ROOT,
            "    %-22s max_abs %.2e  max_rel %.2e  cosine %.9f  atol %.1e rtol %.1e%s  %s%s%n",
            o.name(),
            o.max_abs(),
            o.max_rel(),
            o.cosine(),
            o.atol(),
            o.rtol(),
            c.tolerances() == null || c.tolerances().raisedNote(o.name()) == null
                ? ""
                : " (raised: note below)",
            o.pass()
                ? "ok"
                : "FAIL ("
                    + o.failing_elements()
                    + " elements; min atol to pass "
                    + o.min_atol_to_pass()
                    + ")",
            o.tie_exempt_elements() == 0
                ? ""
                : o.tie_exempt_elements() == o.elements()
                    ? String.format(
                        Locale.ROOT,
                        "  (all %d tie-exempt, max_abs %.2e: nothing left to compare)",
                        o.elements(),
                        o.tie_exempt_max_abs())
                    : String.format(
                        Locale.ROOT,
                        "  (%d tie-exempt, max_abs %.2e)",
                        o.tie_exempt_elements(),
                        o.tie_exempt_max_abs()));
      }
      for (RetrievalComparison rc : c.retrieval()) {
        System.out.printf(
            Locale.ROOT,
            "    retrieval layer %d       %d/%d queries identical, %d tie (%d change the set), %d mismatched%s"
                + " (largest gap %.2e, tie_epsilon %.2e, %s)  %s%n",
            rc.layer(),
            rc.identical_queries(),
            rc.queries(),
            rc.tie_queries(),
            rc.set_changing_tie_queries(),
            rc.mismatched_queries(),
            rc.downstream_queries() == 0
                ? ""
                : ", " + rc.downstream_queries() + " downstream of a tie",
            rc.min_tie_epsilon_to_pass(),
            rc.tie_epsilon(),
            rc.score_source(),
            rc.pass() ? "ok" : "FAIL: " + rc.first_mismatch());
      }
    }
    for (String note : MarkdownReport.raisedNotes(r)) {
      System.out.println("  note: " + note);
    }
    printMarkedOutputs(r);
    if (r.quantization() != null) {
      r.quantization().lines().forEach(System.out::println);
    }
    if (r.memory_health() != null) {
      r.memory_health().lines().forEach(System.out::println);
    }
  }

  /** The marked tensors' comparisons (verify --mark-outputs), apart from the verdict. */
  static void printMarkedOutputs(VerifyReport r) {
    if (r.marked_outputs() == null) {
      return;
    }
    System.out.println(
        "  marked outputs (diagnostics at the same atol/rtol; never part of the verdict):");
    for (VerifyReport.MarkedOutput mo : r.marked_outputs()) {
      if (mo.skipped() != null) {
        System.out.printf(
            Locale.ROOT,
            "    %-14s vs %-14s marked output %s: %s, skipped%n",
            mo.candidate(),
            mo.reference(),
            mo.name(),
            mo.skipped());
        continue;
      }
      OutputComparison o = mo.comparison();
      System.out.printf(
          Locale.ROOT,
          "    %-14s vs %-14s %s %s  max_abs %.2e  max_rel %.2e  max_abs at %s (%.9g vs %.9g)  %s%n",
          mo.candidate(),
          mo.reference(),
          o.name(),
          java.util.Arrays.toString(o.shape()),
          o.max_abs(),
          o.max_rel(),
          java.util.Arrays.toString(mo.max_abs_at()),
          mo.candidate_value(),
          mo.reference_value(),
          o.pass()
              ? "within atol/rtol"
              : "beyond atol/rtol in "
                  + o.failing_elements()
                  + " of "
                  + o.elements()
                  + " elements");
    }
  }
}
