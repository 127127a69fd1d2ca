package dev.msnexport.trt;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.BatchBuckets;
import dev.msnexport.profiles.Profile;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;

/**
 * Builds a TensorRT engine plan from an exported ONNX graph, in small steps (each its own class, in
 * the spirit of Polygraphy's loaders): loads our plugin library (custom graph, {@link
 * PluginLibrary}), parses the ONNX file by path so external data resolves ({@link NetworkFromOnnx};
 * for fp16, the strongly typed variant the graph's {@link PrecisionPolicy} writes, or the original
 * with its float32 pins, {@link Float32Pins}), gives every input one optimization profile per batch
 * bucket of the deployment profile ({@link BatchProfile}, {@link BuilderConfigs#addBatchProfiles}:
 * one for min/opt/max, or one per {@code opt_batches} entry), configures the build ({@link
 * BuilderConfigs}), builds, and writes {@code PLAN} and its sidecar {@code PLAN.json} together and
 * atomically ({@link PlanWriter}). Only TensorRT's own kernels are used: the cuBLAS, cuBLASLt and
 * cuDNN tactic sources stay off, so TensorRT never calls into those libraries.
 */
public final class EngineBuilder {
  /**
   * Graph names, as in {@code --graph}: the custom-op graph runs our plugins, the reference graph
   * standard ops only.
   */
  public static final String CUSTOM = "custom";

  public static final String REFERENCE = "reference";

  /**
   * @param onnx the ONNX file to build from
   * @param graph {@link #CUSTOM} or {@link #REFERENCE} (recorded; custom loads the plugins)
   * @param profileName recorded in the sidecar
   * @param batch the optimization profiles' batch range and buckets ({@code opt_batches})
   * @param timingCache loaded when it exists and saved after the build (may be null)
   * @param out the plan file; the sidecar goes to {@code out + ".json"}
   * @param progressSeconds interval of the progress line (0: none)
   * @param optimizationLevel TensorRT's builder optimization level 0..5 (lower builds faster, e.g.
   *     in tests); -1: TensorRT's default (3)
   * @param extraOutputs intermediate tensors (ONNX node output names) to mark as network outputs
   *     too ({@code verify --mark-outputs}); null or empty for none. The sidecar does not record
   *     them: such a plan must not be cached where a normal plan is looked for.
   * @param precisionPolicy how fp16 builds keep what must stay float32 (the graph owner's decision;
   *     needed for fp16, ignored for fp32)
   * @param quantizedTables whether the graph's value tables are int8/fp8 (the export's owner
   *     decides it; this module reads no export file); null: {@link QuantizedTables#NONE}
   */
  public record Request(
      Path onnx,
      String graph,
      Precision precision,
      String profileName,
      Profile.BatchShapes batch,
      Path timingCache,
      Path out,
      int progressSeconds,
      int optimizationLevel,
      List<String> extraOutputs,
      PrecisionPolicy precisionPolicy,
      QuantizedTables quantizedTables) {
    public Request {
      extraOutputs = extraOutputs == null ? List.of() : List.copyOf(extraOutputs);
      quantizedTables = quantizedTables == null ? QuantizedTables.NONE : quantizedTables;
    }
  }

  public record Result(
      Path plan, EngineMetadata metadata, double seconds, boolean timingCacheWritten) {}

  /**
   * System property choosing how weakly typed fp16 builds (the reference graph) treat the float32
   * pins: {@code prefer} (default) or {@code obey}. TensorRT 10.6's Myelin compiler fails on this
   * graph with {@code obey} (MyelinCheckException in gvn.cpp, seen on the H200) and ignores the
   * pins inside the regions it fuses with {@code prefer}; the plugin graph is therefore built
   * strongly typed instead.
   */
  public static final String PRECISION_CONSTRAINTS_PROPERTY = "msn.trt.precisionConstraints";

  /** What every step of one build shares. */
  private record Context(
      long t0,
      EngineMetadata.OnnxInfo onnx,
      PluginLibrary.Located plugins,
      boolean stronglyTyped,
      boolean quantizedTables) {}

  private EngineBuilder() {}

  public static Result build(Request r, PrintStream log) {
    validate(r);
    EngineMetadata.OnnxInfo onnxInfo = EngineMetadata.digestOnnx(r.onnx());
    AtomicFiles.ensureWritableDirectory(
        r.out().toAbsolutePath().getParent(), "engine output directory");
    TensorRt.require();
    PluginLibrary.Located plugins = CUSTOM.equals(r.graph()) ? PluginLibrary.load() : null;
    TrtLogger logger = TrtLogger.get();
    logger.clearErrors();
    long t0 = System.nanoTime();
    IBuilder builder = TrtObjects.own(nvinfer.createInferBuilder(logger));
    if (builder == null || builder.isNull()) {
      throw new TrtException("createInferBuilder failed" + logger.describeErrors());
    }
    // never committed: closing deletes the fp16 variant
    try (AtomicFiles.Batch scratch = new AtomicFiles.Batch()) {
      Path variant = stronglyTypedVariant(r, scratch);
      // int8/fp8 value tables (QuantizedTables): strongly typed at any precision
      boolean quantized = r.quantizedTables().present();
      boolean stronglyTyped = variant != null || quantized;
      INetworkDefinition network =
          NetworkFromOnnx.parse(
              builder,
              variant != null ? variant : r.onnx(),
              r.onnx(),
              r.graph(),
              stronglyTyped,
              plugins,
              log);
      try {
        Context c = new Context(t0, onnxInfo, plugins, stronglyTyped, quantized);
        return compile(r, builder, network, c, log);
      } finally {
        TrtObjects.delete(network);
      }
    } finally {
      TrtObjects.delete(builder); // the builder goes last
    }
  }

  private static void validate(Request r) {
    if (!CUSTOM.equals(r.graph()) && !REFERENCE.equals(r.graph())) {
      throw new BadInputException("graph must be custom or reference, got '" + r.graph() + "'");
    }
    if (r.optimizationLevel() < -1 || r.optimizationLevel() > 5) {
      throw new BadInputException(
          "builder optimization level must be 0..5 (or -1 for TensorRT's default), got "
              + r.optimizationLevel());
    }
    Profile.BatchShapes b = r.batch();
    if (b.min() < 1 || b.opt() < b.min() || b.max() < b.opt()) {
      throw new BadInputException("batch shapes must satisfy 1 <= min <= opt <= max, got " + b);
    }
    String opt = BatchBuckets.problem(b.min(), b.max(), b.optBatches());
    if (opt != null) {
      throw new BadInputException("batch opt_batches " + opt);
    }
    if (r.precision() == Precision.FP16 && r.precisionPolicy() == null) {
      throw new IllegalArgumentException(
          "an fp16 build needs the graph's PrecisionPolicy (Request.precisionPolicy)");
    }
  }

  /** fp16: the strongly typed variant the policy writes beside the graph, or null (weak typing). */
  private static Path stronglyTypedVariant(Request r, AtomicFiles.Batch scratch) {
    if (r.precision() != Precision.FP16) {
      return null;
    }
    return r.precisionPolicy()
        .stronglyTypedVariant()
        .write(r.onnx(), CUSTOM.equals(r.graph()), Set.copyOf(r.extraOutputs()), scratch);
  }

  /** Configures, builds and writes the plan of a parsed network. */
  private static Result compile(
      Request r, IBuilder builder, INetworkDefinition network, Context c, PrintStream log) {
    NetworkFromOnnx.markOutputs(network, r.extraOutputs(), r.onnx());
    IBuilderConfig config = TrtObjects.own(builder.createBuilderConfig());
    BytePointer cacheIn = null;
    IHostMemory plan = null;
    try {
      EngineMetadata.InputInfo input =
          BuilderConfigs.addBatchProfiles(builder, config, network, r.batch());
      precision(r, config, network, c, log);
      BuilderConfigs.common(config, r.optimizationLevel());
      cacheIn = BuilderConfigs.timingCache(config, r.timingCache());
      logStart(r, input, cacheIn != null, log);
      try (BuildProgress p =
          new BuildProgress(log, r.progressSeconds(), r.out().getFileName().toString())) {
        plan = TrtObjects.own(builder.buildSerializedNetwork(network, config));
      }
      if (plan == null || plan.isNull() || plan.size() == 0) {
        throw new TrtException(
            "TensorRT could not build an engine from "
                + r.onnx()
                + TrtLogger.get().describeErrors());
      }
      double seconds = (System.nanoTime() - c.t0()) / 1e9;
      EngineMetadata meta =
          PlanWriter.write(
              plan,
              r.out().toAbsolutePath(),
              new PlanWriter.Provenance(
                  r.precision().label(),
                  r.graph(),
                  r.profileName(),
                  r.batch(),
                  input,
                  c.onnx(),
                  c.plugins(),
                  seconds));
      boolean cacheWritten =
          r.timingCache() != null && PlanWriter.saveTimingCache(config, r.timingCache());
      log.printf(
          Locale.ROOT,
          "build: wrote %s (%.1f MB) and %s in %.1f s%n",
          r.out(),
          plan.size() / 1e6,
          EngineMetadata.sidecarOf(r.out()).getFileName(),
          seconds);
      return new Result(r.out(), meta, seconds, cacheWritten);
    } finally {
      TrtObjects.delete(plan);
      TrtObjects.delete(config);
      if (cacheIn != null) {
        cacheIn.close();
      }
    }
  }

  /**
   * The precision steps: strongly typed (fp16, or int8/fp8 value tables; no flag), weakly typed
   * fp16 with pins, or fp32.
   */
  private static void precision(
      Request r, IBuilderConfig config, INetworkDefinition network, Context c, PrintStream log) {
    if (c.quantizedTables() && r.precision() != Precision.FP16) {
      log.printf(
          Locale.ROOT,
          "build: strongly typed (int8/fp8 value tables): the graph's types as they are%n");
    } else if (c.stronglyTyped()) {
      log.printf(
          Locale.ROOT,
          "build: fp16, strongly typed: FFN products and task heads in fp16, SparseGather reading an fp16 value "
              + "table, everything else (residual stream, LayerNorms, retrieval scoring, gate) in float32%n");
    } else if (r.precision() == Precision.FP16) {
      BuilderConfigs.weaklyTypedFp16(config, network, r.precisionPolicy().float32Layers(), log);
    }
  }

  private static void logStart(
      Request r, EngineMetadata.InputInfo input, boolean cacheLoaded, PrintStream log) {
    Profile.BatchShapes b = r.batch();
    log.printf(
        Locale.ROOT,
        "build: %s, %s, batch min/opt/max %d/%d/%d, input %s %s, TensorRT %s on %s (sm %s)%s%n",
        r.out().getFileName(),
        r.precision().label(),
        b.min(),
        b.opt(),
        b.max(),
        input.name(),
        input.shape(),
        TensorRt.version(),
        TensorRt.gpu().name(),
        TensorRt.gpu().computeCapability(),
        cacheLoaded ? ", timing cache " + r.timingCache() : "");
    List<Profile.BatchShapes> buckets = b.buckets();
    log.printf(
        Locale.ROOT,
        "build: %d optimization profile(s), batch min..max (opt) %s%s%n",
        buckets.size(),
        BatchBuckets.describe(buckets),
        buckets.size() > 1
            ? ": the runner picks one by batch; build time and loaded contexts grow with their number"
            : "");
  }
}
