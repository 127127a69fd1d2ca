package dev.msnexport.cli;

import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.trt.EngineBuilder;
import dev.msnexport.trt.EngineMetadata;
import dev.msnexport.trt.Precision;
import dev.msnexport.trt.TensorRtUnavailableException;
import dev.msnexport.trt.TrtException;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.TrtBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "build",
    mixinStandardHelpOptions = true,
    description = {
      "Compile an exported graph into a TensorRT engine plan with our plugins (PKMRetrieval, SparseGather), for the "
          + "profile's batch range, and write PLAN plus its sidecar PLAN.json (TensorRT version, GPU, precision, graph, batch shapes, "
          + "SHA-256 of the ONNX file and of the plugin library). Plans are loaded only when their sidecar matches.",
      "Needs an NVIDIA GPU and TensorRT 10.6 (exit 4 with 'TensorRT is not available on this machine: ...' otherwise). "
          + "cuBLAS/cuDNN tactic sources are never enabled."
    })
final class BuildCommand implements Callable<Integer> {
  @Option(
      names = "--model",
      required = true,
      description = "Export directory (the --out of 'export').")
  Path model;

  @Option(
      names = "--profile",
      completionCandidates = Choices.ProfileNames.class,
      description =
          "Profile whose batch min/opt/max the engine accepts (default: the one recorded at export).")
  String profile;

  @Option(
      names = "--precision",
      description =
          "fp32 (strict, TF32 off) or fp16 (default: the profile's precision, else fp32).")
  Choices.Precision precision;

  @Option(
      names = "--graph",
      defaultValue = "custom",
      description =
          "custom (our plugins) or reference (standard ONNX ops, TensorRT's own TopK/Gather) (default: ${DEFAULT-VALUE}).")
  Choices.Graph graph;

  @Option(
      names = "--timing-cache",
      paramLabel = "FILE",
      description =
          "TensorRT timing cache: read when it exists, written after the build (speeds up later builds).")
  Path timingCache;

  @Option(
      names = "--out",
      paramLabel = "PLAN",
      description =
          "Plan file (default: MODEL/engine.<graph>.<precision>.<profile>.plan); the sidecar is PLAN.json.")
  Path out;

  @Range(min = -1, max = 5)
  @Option(
      names = "--optimization-level",
      defaultValue = "-1",
      paramLabel = "0..5",
      description =
          "TensorRT builder optimization level: lower builds faster, higher may find faster kernels; -1: TensorRT's default "
              + "(3) (default: ${DEFAULT-VALUE}).")
  int optimizationLevel;

  @Range(min = 0, max = 86_400)
  @Option(
      names = "--progress-seconds",
      defaultValue = "10",
      description =
          "Print an elapsed-time line this often while TensorRT builds; 0: never (default: ${DEFAULT-VALUE}).")
  int progressSeconds;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    ExportedModel m = ExportedModel.open(model);
    String profileName = profile != null ? profile : m.profile() != null ? m.profile() : null;
    if (profileName == null) {
      throw new BadInputException("the manifest of " + model + " names no profile: pass --profile");
    }
    Profile p = Profiles.load(profileName);
    Precision prec =
        Precision.parse(
            precision != null ? precision.name() : p.precision() != null ? p.precision() : "fp32");
    Path onnx =
        switch (graph) {
          case custom -> m.custom();
          case reference -> m.reference();
        };
    if (progressSeconds < 0) {
      throw new BadInputException("--progress-seconds must be >= 0, got " + progressSeconds);
    }
    Path plan =
        out != null
            ? out
            : model.resolve(
                "engine." + graph.name() + "." + prec.label() + "." + p.name() + ".plan");
    OutputAliasing aliasing =
        new OutputAliasing()
            .profile("--profile", profile); // its default plan lives beside the export's files
    for (String f : OutputAliasing.EXPORT_FILES) {
      aliasing.input("--model", model.resolve(f));
    }
    aliasing
        .output("--out", plan)
        .output("--out", EngineMetadata.sidecarOf(plan))
        .check(spec.commandLine());
    try {
      EngineBuilder.build(
          new EngineBuilder.Request(
                  onnx,
                  graph.name(),
                  prec,
                  p.name(),
                  p.batch(),
                  timingCache,
                  plan,
                  progressSeconds,
                  optimizationLevel)
              .withPrecisionPolicy(TrtBackend.FP16_POLICY),
          System.out);
    } catch (TensorRtUnavailableException | TrtException e) {
      throw new BadInputException(e.getMessage(), e);
    }
    return ExitCodes.OK;
  }

  /**
   * How {@code verify} (and {@code bench}) open TensorRT backends. A backend spec is {@code trt} or
   * {@code trt:OPT[:OPT]} with OPT one of fp32, fp16 (precision) and custom, reference (graph),
   * e.g. {@code --backends ort-reference,trt,trt:fp16}; options not in the spec come from {@code
   * --precision}, {@code --trt-graph}, the profile, then fp32/custom. {@code --engine} makes the
   * spec {@code trt} load that plan instead of building (its sidecar must match the export). Built
   * engines are cached in the export directory.
   */
  record TrtSettings(
      Path engine, String precision, String graph, Path timingCache, String profile) {
    static final TrtSettings DEFAULTS = new TrtSettings(null, null, null, null, null);
    static final String SPECS = "trt[:fp32|fp16][:custom|reference]";

    static boolean isTrtSpec(String name) {
      String n = name.trim();
      return n.equals(TrtBackend.NAME) || n.startsWith(TrtBackend.NAME + ":");
    }

    /** The same settings with the profile verify uses (its --profile, else the export's). */
    TrtSettings withProfile(String profileName) {
      return new TrtSettings(
          engine, precision, graph, timingCache, profile != null ? profile : profileName);
    }

    /**
     * Opens the backend for one spec, with the intermediate tensors {@code markOutputs} (may be
     * empty) as extra outputs; failures (no GPU, no TensorRT, a stale --engine) are exit-4 errors.
     */
    Backend open(ExportedModel m, String spec, List<String> markOutputs) {
      Resolved r = resolve(m, spec);
      return TrtBackend.open(
          spec.trim(),
          m,
          r.profile(),
          new TrtBackend.Options(r.engine(), r.precision(), r.graph(), timingCache, markOutputs),
          System.out);
    }

    /** The graph ({@code custom} or {@code reference}) that the backend of one spec runs. */
    String graphOf(ExportedModel m, String spec) {
      return resolve(m, spec).graph();
    }

    /**
     * The precision of one backend, the key of the profile's tolerance entry for it: the values'
     * dtype when not fp32 (every backend computes with those tables), else fp16 for a TensorRT
     * backend that runs in fp16, else fp32. A comparison uses the lower of its two backends'.
     */
    String precisionOf(ExportedModel m, String backend, String valuesDtype) {
      if (!"fp32".equals(valuesDtype)) {
        return valuesDtype;
      }
      return isTrtSpec(backend) && resolve(m, backend).precision() == Precision.FP16
          ? "fp16"
          : valuesDtype;
    }

    private record Resolved(Profile profile, Precision precision, String graph, Path engine) {}

    private Resolved resolve(ExportedModel m, String spec) {
      String p = BackendOptions.profileName(profile, m);
      Profile prof = Profiles.load(p);
      String prec = null;
      String g = null;
      String[] parts = spec.trim().split(":");
      for (int i = 1; i < parts.length; i++) {
        switch (parts[i]) {
          case "fp32", "fp16" -> prec = parts[i];
          case EngineBuilder.CUSTOM, EngineBuilder.REFERENCE -> g = parts[i];
          default ->
              throw new BadInputException(
                  "--backends: '"
                      + spec
                      + "': unknown option '"
                      + parts[i]
                      + "' (use "
                      + SPECS
                      + ")");
        }
      }
      if (engine != null && parts.length == 1) {
        EngineMetadata meta = EngineMetadata.read(engine);
        return new Resolved(prof, Precision.parse(meta.precision()), meta.graph(), engine);
      }
      Precision resolved =
          Precision.parse(
              prec != null
                  ? prec
                  : precision != null
                      ? precision
                      : prof.precision() != null ? prof.precision() : "fp32");
      return new Resolved(
          prof, resolved, g != null ? g : graph != null ? graph : EngineBuilder.CUSTOM, null);
    }
  }
}
