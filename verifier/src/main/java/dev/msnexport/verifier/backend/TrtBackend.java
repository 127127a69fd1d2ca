package dev.msnexport.verifier.backend;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.Fp16Policy;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.BatchBuckets;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.trt.EngineBuilder;
import dev.msnexport.trt.EngineMetadata;
import dev.msnexport.trt.GpuCeilings;
import dev.msnexport.trt.Precision;
import dev.msnexport.trt.PrecisionPolicy;
import dev.msnexport.trt.QuantizedTables;
import dev.msnexport.trt.TensorRt;
import dev.msnexport.trt.TensorRtUnavailableException;
import dev.msnexport.trt.TrtEngine;
import dev.msnexport.trt.TrtException;
import dev.msnexport.verifier.Defaults;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.latency.FloorModel;
import dev.msnexport.verifier.latency.GpuTimed;
import dev.msnexport.verifier.latency.LayerProfile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A TensorRT engine of the export ({@code trt}): an explicit plan ({@code --engine}, checked
 * against the export through its sidecar), or one built on first use and cached in the export
 * directory as {@code engine.<graph>.<precision>.<profile>.plan} (rebuilt when its sidecar no
 * longer matches the model, the plugin library, TensorRT or the GPU). Without a GPU or TensorRT,
 * {@link #open} fails with a {@link BackendException} whose message starts with "TensorRT is not
 * available on this machine: ". Owns its engine; closing frees it.
 */
public final class TrtBackend implements Backend, GpuTimed {
  public static final String NAME = "trt";

  /**
   * The exporter's fp16 policy ({@link Fp16Policy}), as TensorRT builds take it: the strongly typed
   * variant of the custom graph, and the float32 scope of weakly typed (reference graph) builds.
   */
  public static final PrecisionPolicy FP16_POLICY =
      new PrecisionPolicy(Fp16Policy::stronglyTypedVariant, Fp16Policy::inFloat32Scope);

  /**
   * The export's value tables as TensorRT builds take them: int8/fp8 ({@link
   * RowQuantizer#isQuantized}) when the manifest's {@code values_dtype} says so, else none.
   */
  public static QuantizedTables quantizedTables(ExportedModel m) {
    if (m.valuesDtype() == null) {
      return QuantizedTables.NONE;
    }
    DType d = DType.parseValues(m.valuesDtype());
    return RowQuantizer.isQuantized(d) ? new QuantizedTables(d.cliName()) : QuantizedTables.NONE;
  }

  /**
   * @param engine a plan to load instead of building (null: build or reuse the cached one)
   * @param precision precision of a built engine
   * @param graph {@code custom} (our plugins) or {@code reference} (standard ops)
   * @param timingCache TensorRT timing cache for builds (null: none)
   * @param markOutputs intermediate tensors (ONNX node output names) to mark as extra engine
   *     outputs ({@code verify --mark-outputs}); such an engine is built into a temporary
   *     directory, never cached, and cannot come from {@code engine}
   */
  public record Options(
      Path engine, Precision precision, String graph, Path timingCache, List<String> markOutputs) {
    public Options {
      markOutputs = markOutputs == null ? List.of() : List.copyOf(markOutputs);
    }

    public Options(Path engine, Precision precision, String graph, Path timingCache) {
      this(engine, precision, graph, timingCache, List.of());
    }

    public static Options defaults(Profile profile) {
      return new Options(
          null,
          Precision.valueOf(Defaults.precision(null, profile).name()),
          Defaults.graph(null).label(),
          null);
    }
  }

  private final String name;
  private final ModelConfig config;
  private final String valuesDtype;
  private final TrtEngine engine;
  private boolean cudaGraph = true;

  private TrtBackend(String name, ExportedModel m, TrtEngine engine) {
    this.name = name;
    this.config = m.config();
    this.valuesDtype = m.valuesDtype();
    this.engine = engine;
  }

  /** The export this engine was loaded for: its model and value tables set its floor. */
  @Override
  public FloorModel.Subject floorSubject() {
    return new FloorModel.Subject(config, valuesDtype);
  }

  /**
   * The GPU's measured copy bandwidth and its peak at this engine's precision ({@link
   * GpuCeilings}).
   */
  @Override
  public FloorModel.Ceilings ceilings() {
    GpuCeilings g = gpuCeilings();
    boolean fp16 = "fp16".equals(floorPrecision());
    return new FloorModel.Ceilings(
        g.copyBytesPerS(), fp16 ? g.fp16FlopsPerS() : g.fp32FlopsPerS(), g.source());
  }

  @Override
  public List<LayerProfile.Layer> layerProfile(int runs) {
    try {
      return engine.profileLayers(runs).stream()
          .map(l -> new LayerProfile.Layer(l.name(), l.meanMs(), l.calls()))
          .toList();
    } catch (TrtException e) {
      throw new BackendException(name + ": layer profile failed: " + e.getMessage(), e);
    }
  }

  @Override
  public String floorPrecision() {
    return engine.metadata().precision();
  }

  private static GpuCeilings gpuCeilings;

  private static synchronized GpuCeilings gpuCeilings() {
    if (gpuCeilings == null) {
      gpuCeilings = GpuCeilings.measure();
    }
    return gpuCeilings;
  }

  /** Loads or builds the engine, named {@value #NAME}; progress lines go to {@code log}. */
  public static TrtBackend open(ExportedModel m, Profile profile, Options o, PrintStream log) {
    return open(NAME, m, profile, o, log);
  }

  /**
   * As {@link #open(ExportedModel, Profile, Options, PrintStream)}, under another name (say
   * "trt:fp16").
   */
  public static TrtBackend open(
      String name, ExportedModel m, Profile profile, Options o, PrintStream log) {
    if (!o.markOutputs().isEmpty()) {
      if (o.engine() != null) {
        throw new BadInputException(
            name
                + ": --engine "
                + o.engine()
                + " cannot be used with --mark-outputs: a prebuilt plan lacks "
                + "the marked outputs (leave out --engine to build a temporary engine that has them)");
      }
      // before TensorRT and a long build: the names must be node outputs of the graph
      Path onnx = onnxFor(m, o.graph());
      OnnxTensors.requireMarkable(OnnxTensors.read(onnx), o.markOutputs(), onnx.toString());
    }
    try {
      TensorRt.require();
      if (!o.markOutputs().isEmpty()) {
        return openMarked(name, m, profile, o, log);
      }
      if (o.engine() != null) {
        EngineMetadata meta = EngineMetadata.read(o.engine());
        return new TrtBackend(name, m, TrtEngine.load(o.engine(), onnxFor(m, meta.graph())));
      }
      Path onnx = onnxFor(m, o.graph());
      String file = Defaults.planFile(o.graph(), o.precision().label(), profile.name());
      Path plan =
          Files.isWritable(m.dir())
              ? m.dir().resolve(file)
              : Files.createTempDirectory("msn-trt-").resolve(file);
      if (Files.isRegularFile(plan)) {
        try {
          requireBuckets(plan, profile);
          TrtEngine e = TrtEngine.load(plan, onnx);
          log.println("trt: using cached engine " + plan);
          return new TrtBackend(name, m, e);
        } catch (BadInputException stale) {
          log.println(name + ": rebuilding " + plan.getFileName() + ": " + stale.getMessage());
        }
      }
      build(onnx, quantizedTables(m), profile, o, plan, List.of(), log);
      return new TrtBackend(name, m, TrtEngine.load(plan, onnx));
    } catch (TensorRtUnavailableException | TrtException e) {
      throw new BackendException(e.getMessage(), e);
    } catch (IOException e) {
      throw new BackendException(
          name + ": cannot create or delete a temporary engine directory: " + e.getMessage(), e);
    }
  }

  /**
   * Refuses (so that it is rebuilt) a cached plan whose batch buckets are not the ones the profile
   * asks for now (say one built before the profile had {@code opt_batches}).
   */
  private static void requireBuckets(Path plan, Profile profile) {
    List<Profile.BatchShapes> built = EngineMetadata.read(plan).buckets();
    if (!built.equals(profile.batch().buckets())) {
      throw new BadInputException(
          "it was built with batch buckets "
              + BatchBuckets.describe(built)
              + ", profile '"
              + profile.name()
              + "' asks for "
              + BatchBuckets.describe(profile.batch().buckets()));
    }
  }

  /** Builds {@code plan} from {@code onnx} as the options ask, {@code extraOutputs} marked. */
  private static void build(
      Path onnx,
      QuantizedTables quantized,
      Profile profile,
      Options o,
      Path plan,
      List<String> extraOutputs,
      PrintStream log) {
    EngineBuilder.build(
        new EngineBuilder.Request(
            onnx,
            o.graph(),
            o.precision(),
            profile.name(),
            profile.batch(),
            o.timingCache(),
            plan,
            10,
            -1,
            extraOutputs,
            FP16_POLICY,
            quantized),
        log);
  }

  /**
   * Builds an engine with the marked outputs into a temporary directory, loads it and deletes the
   * plan again: it is never cached beside the export, where it would pass for the normal plan.
   */
  private static TrtBackend openMarked(
      String name, ExportedModel m, Profile profile, Options o, PrintStream log)
      throws IOException {
    Path onnx = onnxFor(m, o.graph());
    Path dir = Files.createTempDirectory("msn-trt-marked-");
    Path plan =
        dir.resolve(
            Defaults.planFile(o.graph(), o.precision().label(), profile.name())
                .replaceFirst("\\.plan$", ".marked.plan"));
    try {
      log.println(
          name
              + ": building an engine with "
              + o.markOutputs().size()
              + " marked output(s) "
              + o.markOutputs()
              + " (temporary, not cached)");
      build(onnx, quantizedTables(m), profile, o, plan, o.markOutputs(), log);
      return new TrtBackend(name, m, TrtEngine.load(plan, onnx));
    } finally { // loaded engines live in memory; best effort, so as not to hide a build error
      for (Path p : List.of(EngineMetadata.sidecarOf(plan), plan, dir)) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // a file left in the system's temporary directory
        }
      }
    }
  }

  /** The ONNX file of the export that graph {@code custom} or {@code reference} names. */
  public static Path onnxFor(ExportedModel m, String graph) {
    return switch (graph) {
      case EngineBuilder.CUSTOM -> m.custom();
      case EngineBuilder.REFERENCE -> m.reference();
      default ->
          throw new BadInputException("trt graph must be custom or reference, got '" + graph + "'");
    };
  }

  @Override
  public String name() {
    return name;
  }

  public TrtEngine engine() {
    return engine;
  }

  @Override
  public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
    Map<String, HostTensor> in = toEngine(inputs);
    try {
      return new LinkedHashMap<>(engine.infer(in));
    } catch (TrtException e) {
      throw new BackendException(name + ": inference failed: " + e.getMessage(), e);
    }
  }

  private Map<String, HostTensor> toEngine(Map<String, HostTensor> inputs) {
    HostTensor t = Inputs.tokens(inputs, config);
    return Map.of(t.name(), t);
  }

  /**
   * Whether {@link #prepare} captures the launch into a CUDA graph that {@link #runPrepared}
   * replays (default: yes, as a serving runtime would run a fixed-shape engine; trtexec's {@code
   * --useCudaGraph}). {@code bench --no-cuda-graph} turns it off.
   */
  public void replayCudaGraph(boolean on) {
    this.cudaGraph = on;
  }

  /**
   * The batch bucket the last run used, as TensorRT's context reports it: "batch 5 ran on
   * optimization profile 1 of batch 2..8 (opt 8)".
   */
  public String lastBucket() {
    int i = engine.activeBucket();
    return "batch "
        + engine.lastBatch()
        + " ran on optimization profile "
        + i
        + " of batch "
        + BatchBuckets.describe(engine.buckets().get(i));
  }

  /** How {@link #runPrepared} runs: "CUDA graph replay", or plain launches and why. */
  public String runMode() {
    if (engine.replaysCudaGraph()) {
      return "CUDA graph replay";
    }
    return engine.replayNote() != null
        ? "plain launches: " + engine.replayNote()
        : "plain launches";
  }

  @Override
  public double lastGpuMillis() {
    return engine.lastGpuMillis();
  }

  @Override
  public boolean prepare(Map<String, HostTensor> inputs) {
    try {
      engine.prepare(toEngine(inputs), cudaGraph);
      return true;
    } catch (TrtException e) {
      throw new BackendException(name + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void runPrepared() {
    try {
      engine.runPrepared();
    } catch (TrtException e) {
      throw new BackendException(name + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    engine.close();
  }
}
