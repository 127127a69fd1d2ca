package dev.msnexport.cli;

import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.Profile;
import dev.msnexport.trt.EngineBuilder;
import dev.msnexport.trt.EngineMetadata;
import dev.msnexport.trt.Precision;
import dev.msnexport.trt.TensorRtUnavailableException;
import dev.msnexport.trt.TrtException;
import dev.msnexport.verifier.Defaults;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.TrtBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "build",
    mixinStandardHelpOptions = true,
    description = {
      "Compile an exported graph into a TensorRT engine plan with our plugins (PKMRetrieval, SparseGather), for the "
          + "profile's batch range (one optimization profile per batch bucket, --opt-batches), and write PLAN plus its sidecar PLAN.json (TensorRT version, GPU, precision, graph, batch shapes, "
          + "SHA-256 of the ONNX file and of the plugin library). Plans are loaded only when their sidecar matches.",
      "Needs an NVIDIA GPU and TensorRT 10.6 (exit 4 with 'TensorRT is not available on this machine: ...' otherwise). "
          + "cuBLAS/cuDNN tactic sources are never enabled."
    })
final class BuildCommand implements Callable<Integer> {
  @Mixin ModelDirOption modelDir;

  @Mixin OptBatchesOption optBatches;

  @Option(
      names = "--profile",
      completionCandidates = Choices.ProfileNames.class,
      description =
          "Profile whose batch min/opt/max the engine accepts (default: the one recorded at export, "
              + "else tiny).")
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

  @Option(
      names = "--progress-seconds",
      defaultValue = "10",
      description =
          "Print an elapsed-time line this often while TensorRT builds; 0: never (default: ${DEFAULT-VALUE}).")
  @Range(min = 0, max = 86_400)
  int progressSeconds;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Path model = modelDir.model;
    ExportedModel m = ExportedModel.open(model);
    Profile p = Defaults.profile(profile, m, Errors::warn);
    Profile.BatchShapes batch = optBatches.apply(p.batch(), spec.commandLine());
    Precision prec =
        Precision.parse(Defaults.precision(precision == null ? null : precision.spec(), p).label());
    Path onnx =
        switch (graph) {
          case custom -> m.custom();
          case reference -> m.reference();
        };
    if (progressSeconds < 0) {
      throw new BadInputException("--progress-seconds must be >= 0, got " + progressSeconds);
    }
    Path plan =
        out != null ? out : model.resolve(Defaults.planFile(graph.name(), prec.label(), p.name()));
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
              batch,
              timingCache,
              plan,
              progressSeconds,
              optimizationLevel,
              List.of(),
              TrtBackend.FP16_POLICY,
              TrtBackend.quantizedTables(m)),
          System.out);
    } catch (TensorRtUnavailableException | TrtException e) {
      throw new BadInputException(e.getMessage(), e);
    }
    return ExitCodes.OK;
  }
}
