package dev.msnexport.trt;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.Sha256;
import dev.msnexport.exporter.onnx.MixedPrecision;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.profiles.Profile;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.ITensor;
import org.bytedeco.tensorrt.nvinfer.ITimingCache;
import org.bytedeco.tensorrt.nvonnxparser.IParser;
import org.bytedeco.tensorrt.nvonnxparser.IParserError;

/**
 * Builds a TensorRT engine plan from an exported ONNX graph: loads our plugin library (custom
 * graph), parses the ONNX file by path (so external data resolves), gives every input one
 * optimization profile whose batch dimension spans the deployment profile's min/opt/max, sets the
 * precision, builds, and writes {@code PLAN} and its sidecar {@code PLAN.json} together and
 * atomically. Only TensorRT's own kernels are used: the cuBLAS, cuBLASLt and cuDNN tactic sources
 * stay off, so TensorRT never calls into those libraries.
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
   * @param batch the optimization profile's batch range
   * @param timingCache loaded when it exists and saved after the build (may be null)
   * @param out the plan file; the sidecar goes to {@code out + ".json"}
   * @param progressSeconds interval of the progress line (0: none)
   * @param optimizationLevel TensorRT's builder optimization level 0..5 (lower builds faster, e.g.
   *     in tests); -1: TensorRT's default (3)
   * @param extraOutputs intermediate tensors (ONNX node output names) to mark as network outputs
   *     too ({@code verify --mark-outputs}); empty by default. The sidecar does not record them:
   *     such a plan must not be cached where a normal plan is looked for.
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
      List<String> extraOutputs) {
    public Request {
      extraOutputs = extraOutputs == null ? List.of() : List.copyOf(extraOutputs);
    }

    public Request(
        Path onnx,
        String graph,
        Precision precision,
        String profileName,
        Profile.BatchShapes batch,
        Path timingCache,
        Path out,
        int progressSeconds,
        int optimizationLevel) {
      this(
          onnx,
          graph,
          precision,
          profileName,
          batch,
          timingCache,
          out,
          progressSeconds,
          optimizationLevel,
          List.of());
    }

    public Request(
        Path onnx,
        String graph,
        Precision precision,
        String profileName,
        Profile.BatchShapes batch,
        Path timingCache,
        Path out,
        int progressSeconds) {
      this(onnx, graph, precision, profileName, batch, timingCache, out, progressSeconds, -1);
    }
  }

  public record Result(
      Path plan, EngineMetadata metadata, double seconds, boolean timingCacheWritten) {}

  private EngineBuilder() {}

  public static Result build(Request r, PrintStream log) {
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
    EngineMetadata.OnnxInfo onnxInfo = EngineMetadata.digestOnnx(r.onnx());
    Path outAbs = r.out().toAbsolutePath();
    AtomicFiles.ensureWritableDirectory(outAbs.getParent(), "engine output directory");
    TensorRt.require();
    PluginLibrary.Located plugins = CUSTOM.equals(r.graph()) ? PluginLibrary.load() : null;
    TrtLogger logger = TrtLogger.get();
    logger.clearErrors();
    long t0 = System.nanoTime();

    IBuilder builder = TrtObjects.own(nvinfer.createInferBuilder(logger));
    if (builder == null || builder.isNull()) {
      throw new TrtException("createInferBuilder failed" + logger.describeErrors());
    }
    INetworkDefinition network = null;
    IBuilderConfig config = null;
    IHostMemory plan = null;
    IHostMemory cacheBlob = null;
    BytePointer cacheIn = null;
    boolean fp16Variant = r.precision() == Precision.FP16 && CUSTOM.equals(r.graph());
    // int8/fp8 value tables (QuantizedTables): strongly typed at any precision
    boolean stronglyTyped = fp16Variant || QuantizedTables.in(r.onnx());
    try (AtomicFiles.Batch scratch =
        new AtomicFiles.Batch()) { // never committed: closing deletes the fp16 variant
      Path parsed = r.onnx();
      if (fp16Variant) {
        // fp16 plugin engines: the graph says which layers are half (MixedPrecision), and a
        // strongly
        // typed network makes TensorRT keep exactly those types, fused regions included.
        ModelProto variant =
            MixedPrecision.fp16Variant(
                OnnxTensors.read(r.onnx()), java.util.Set.copyOf(r.extraOutputs()));
        parsed =
            OnnxTensors.writeBeside(
                variant, r.onnx(), scratch); // beside the model, so external data resolves
      }
      // explicit batch (the only mode in TensorRT 10); weakly typed unless strongly typed fp16
      network =
          TrtObjects.own(
              builder.createNetworkV2(
                  stronglyTyped
                      ? 1 << nvinfer.NetworkDefinitionCreationFlag.kSTRONGLY_TYPED.value
                      : 0));
      // The parser cannot be freed through these bindings (no JavaCPP allocator for the abstract
      // IParser): it and its copy of the weights stay allocated until the process exits.
      IParser parser = nvonnxparser.createParser(network, logger);
      if (parser == null || parser.isNull()) {
        throw new TrtException("createParser failed" + logger.describeErrors());
      }
      log.printf(Locale.ROOT, "build: parsing %s (%s graph)%n", r.onnx(), r.graph());
      if (!parser.parseFromFile(
          parsed.toAbsolutePath().toString(), ILogger.Severity.kWARNING.value)) {
        throw new BadInputException(
            "TensorRT's ONNX parser rejected "
                + r.onnx()
                + ": "
                + parserErrors(parser)
                + (plugins != null ? " (plugins loaded from " + plugins.source() + ")" : ""));
      }
      markExtraOutputs(network, r.extraOutputs(), r.onnx());

      config = TrtObjects.own(builder.createBuilderConfig());
      IOptimizationProfile profile = builder.createOptimizationProfile(); // owned by the builder
      EngineMetadata.InputInfo input = setBatchRange(network, profile, b);
      if (config.addOptimizationProfile(profile) < 0) {
        throw new TrtException(
            "the optimization profile for batch " + b + " is invalid" + logger.describeErrors());
      }
      if (stronglyTyped && !fp16Variant) {
        log.printf(
            Locale.ROOT,
            "build: strongly typed (int8/fp8 value tables): the graph's types as they are%n");
      } else if (stronglyTyped) {
        log.printf(
            Locale.ROOT,
            "build: fp16, strongly typed: FFN products and task heads in fp16, SparseGather reading an fp16 value "
                + "table, everything else (residual stream, LayerNorms, retrieval scoring, gate) in float32%n");
      } else if (r.precision() == Precision.FP16) {
        config.setFlag(nvinfer.BuilderFlag.kFP16);
        boolean obey = obeyPrecisionConstraints();
        config.setFlag(
            obey
                ? nvinfer.BuilderFlag.kOBEY_PRECISION_CONSTRAINTS
                : nvinfer.BuilderFlag.kPREFER_PRECISION_CONSTRAINTS);
        Pinned pinned = pinRetrievalScoringToFloat32(network);
        log.printf(
            Locale.ROOT,
            "build: fp16, with %d retrieval-scoring and residual-stream layers and %d weight layers feeding them kept"
                + " in float32 (%s precision constraints)%n",
            pinned.layers(),
            pinned.weights(),
            obey ? "obeyed" : "preferred");
      }
      // Layer names, types, formats and tactics stay in the plan, for `msn-export inspect PLAN`
      // (trtexec's --profilingVerbosity=detailed); this changes no kernel choice.
      config.setProfilingVerbosity(nvinfer.ProfilingVerbosity.kDETAILED);
      // Float32 layers are strict float32, like ONNX Runtime: TF32 (on by default) would round the
      // operands of every float32 matrix product to 10 mantissa bits, fp16's precision, including
      // the retrieval-scoring layers that fp16 engines keep in float32.
      config.clearFlag(nvinfer.BuilderFlag.kTF32);
      if (r.optimizationLevel() >= 0) {
        config.setBuilderOptimizationLevel(r.optimizationLevel());
      }
      // TensorRT's own kernels only: never cuBLAS, cuBLASLt or cuDNN.
      int tactics =
          (1 << nvinfer.TacticSource.kEDGE_MASK_CONVOLUTIONS.value)
              | (1 << nvinfer.TacticSource.kJIT_CONVOLUTIONS.value);
      if (!config.setTacticSources(tactics)) {
        throw new TrtException("setTacticSources failed" + logger.describeErrors());
      }

      boolean cacheLoaded = false;
      if (r.timingCache() != null && Files.isRegularFile(r.timingCache())) {
        byte[] bytes = Files.readAllBytes(r.timingCache());
        cacheIn = new BytePointer(bytes);
        cacheLoaded = true;
      }
      ITimingCache cache =
          config.createTimingCache(
              cacheIn, cacheIn == null ? 0 : cacheIn.limit()); // owned by the config
      if (cache == null || cache.isNull() || !config.setTimingCache(cache, false)) {
        if (cacheLoaded) {
          throw new BadInputException(
              "timing cache "
                  + r.timingCache()
                  + " is not a TensorRT "
                  + TensorRt.version()
                  + " timing cache"
                  + logger.describeErrors());
        }
        throw new TrtException("cannot create a timing cache" + logger.describeErrors());
      }

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
      try (Progress p = new Progress(log, r.progressSeconds(), r.out().getFileName().toString())) {
        plan = TrtObjects.own(builder.buildSerializedNetwork(network, config));
      }
      if (plan == null || plan.isNull() || plan.size() == 0) {
        throw new TrtException(
            "TensorRT could not build an engine from " + r.onnx() + logger.describeErrors());
      }
      double seconds = (System.nanoTime() - t0) / 1e9;

      String planSha;
      long planBytes = plan.size();
      TensorRt.Gpu gpu = TensorRt.gpu();
      EngineMetadata meta;
      try (AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
        Path tmpPlan = batch.tempFor(outAbs);
        planSha = writeHostMemory(plan, tmpPlan);
        meta =
            new EngineMetadata(
                EngineMetadata.SCHEMA,
                toolVersion(),
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                TensorRt.version(),
                new EngineMetadata.GpuInfo(gpu.name(), gpu.computeCapability()),
                r.precision().label(),
                r.graph(),
                r.profileName(),
                b,
                input,
                onnxInfo,
                plugins == null
                    ? null
                    : new EngineMetadata.PluginInfo(plugins.source(), plugins.sha256()),
                planSha,
                planBytes,
                Math.round(seconds * 10) / 10.0);
        Files.writeString(
            batch.tempFor(EngineMetadata.sidecarOf(outAbs)),
            meta.toJson(),
            AtomicFiles.existingTemp());
        batch.commit();
      } catch (IOException e) {
        throw AtomicFiles.writeFailed(outAbs, e);
      }

      boolean cacheWritten = false;
      if (r.timingCache() != null) {
        cacheBlob = TrtObjects.own(config.getTimingCache().serialize());
        if (cacheBlob != null && !cacheBlob.isNull()) {
          IHostMemory blob = cacheBlob;
          AtomicFiles.write(r.timingCache().toAbsolutePath(), tmp -> writeHostMemory(blob, tmp));
          cacheWritten = true;
        }
      }
      log.printf(
          Locale.ROOT,
          "build: wrote %s (%.1f MB) and %s in %.1f s%n",
          r.out(),
          planBytes / 1e6,
          EngineMetadata.sidecarOf(r.out()).getFileName(),
          seconds);
      return new Result(r.out(), meta, seconds, cacheWritten);
    } catch (IOException e) {
      throw new BadInputException(
          "cannot read timing cache " + r.timingCache() + ": " + e.getMessage(), e);
    } finally {
      // Reverse order of creation; the builder goes last.
      TrtObjects.delete(cacheBlob);
      TrtObjects.delete(plan);
      TrtObjects.delete(config);
      TrtObjects.delete(network);
      TrtObjects.delete(builder);
      if (cacheIn != null) {
        cacheIn.close();
      }
    }
  }

  /**
   * Marks the named tensors as network outputs ({@link Request#extraOutputs}): each must be the
   * output of a layer of the parsed network, which TensorRT's ONNX parser names after the ONNX node
   * output; an unknown name is bad input naming it and the ONNX file.
   */
  private static void markExtraOutputs(INetworkDefinition network, List<String> names, Path onnx) {
    if (names.isEmpty()) {
      return;
    }
    java.util.Map<String, ITensor> byName = new java.util.HashMap<>();
    for (int i = 0; i < network.getNbLayers(); i++) {
      org.bytedeco.tensorrt.nvinfer.ILayer layer = network.getLayer(i);
      for (int o = 0; o < layer.getNbOutputs(); o++) {
        byName.putIfAbsent(layer.getOutput(o).getName(), layer.getOutput(o));
      }
    }
    for (String name : names) {
      ITensor t = byName.get(name);
      if (t == null) {
        throw new BadInputException(
            "tensor '" + name + "' is not the output of any layer TensorRT parsed from " + onnx);
      }
      if (!t.isNetworkOutput()) {
        network.markOutput(t);
      }
    }
  }

  /**
   * Sets min/opt/max for the batch dimension (dim 0, the only dynamic one) of every network input.
   */
  private static EngineMetadata.InputInfo setBatchRange(
      INetworkDefinition network, IOptimizationProfile profile, Profile.BatchShapes b) {
    EngineMetadata.InputInfo first = null;
    for (int i = 0; i < network.getNbInputs(); i++) {
      ITensor t = network.getInput(i);
      String name = t.getName();
      Dims64 d = t.getDimensions();
      int n = d.nbDims();
      List<Long> shape = new ArrayList<>();
      for (int j = 0; j < n; j++) {
        shape.add(d.d(j));
        if (j > 0 && d.d(j) < 0) {
          throw new BadInputException(
              "input '"
                  + name
                  + "' has a dynamic dimension "
                  + j
                  + " "
                  + shape
                  + "; only the batch (dimension 0) may be dynamic");
        }
      }
      if (n < 1 || d.d(0) >= 0) {
        throw new BadInputException(
            "input '" + name + "' has shape " + shape + " without a dynamic batch dimension 0");
      }
      for (nvinfer.OptProfileSelector sel : nvinfer.OptProfileSelector.values()) {
        long batch =
            sel == nvinfer.OptProfileSelector.kMIN
                ? b.min()
                : sel == nvinfer.OptProfileSelector.kOPT ? b.opt() : b.max();
        try (Dims64 dims = new Dims64()) {
          dims.nbDims(n);
          dims.d(0, batch);
          for (int j = 1; j < n; j++) {
            dims.d(j, d.d(j));
          }
          if (!profile.setDimensions(name, sel, dims)) {
            throw new TrtException(
                "cannot set the "
                    + sel
                    + " shape of input '"
                    + name
                    + "'"
                    + TrtLogger.get().describeErrors());
          }
        }
      }
      if (first == null) {
        first = new EngineMetadata.InputInfo(name, shape);
      }
    }
    if (first == null) {
      throw new BadInputException("the ONNX graph has no inputs");
    }
    return first;
  }

  private static String parserErrors(IParser parser) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < parser.getNbErrors(); i++) {
      IParserError e = parser.getError(i);
      String node =
          e.nodeName() == null || e.nodeName().isEmpty()
              ? "node " + e.node()
              : "node '" + e.nodeName() + "'";
      String op =
          e.nodeOperator() == null || e.nodeOperator().isEmpty()
              ? ""
              : " (" + e.nodeOperator() + ")";
      out.add(node + op + ": " + e.desc());
    }
    String s = out.isEmpty() ? "no error details" : String.join("; ", out);
    if (s.contains("Plugin not found")
        || s.contains("PKMRetrieval")
        || s.contains("SparseGather")) {
      s +=
          " (the custom graph needs our plugin library: it is loaded from the trt-plugins jar, or -Dmsn.trt.plugins=PATH)";
    }
    return s;
  }

  /**
   * Copies TensorRT host memory to the temporary file {@code file}, in chunks; returns its SHA-256.
   */
  static String writeHostMemory(IHostMemory mem, Path file) throws IOException {
    MessageDigest md = Sha256.digest();
    long size = mem.size();
    BytePointer src = new BytePointer(mem.data());
    byte[] buf = new byte[16 << 20];
    try (OutputStream out = Files.newOutputStream(file, AtomicFiles.existingTemp())) {
      for (long off = 0; off < size; off += buf.length) {
        int n = (int) Math.min(buf.length, size - off);
        src.position(off).get(buf, 0, n);
        md.update(buf, 0, n);
        out.write(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static String toolVersion() {
    String v = EngineBuilder.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /**
   * A line every few seconds while TensorRT builds (the bindings expose no progress-monitor
   * callback).
   */
  private static final class Progress implements AutoCloseable {
    private final Thread thread;

    Progress(PrintStream log, int everySeconds, String what) {
      long t0 = System.nanoTime();
      thread =
          new Thread(
              () -> {
                try {
                  while (true) {
                    Thread.sleep(everySeconds * 1000L);
                    log.printf(
                        Locale.ROOT,
                        "build: %s: building, %.0f s elapsed%n",
                        what,
                        (System.nanoTime() - t0) / 1e9);
                  }
                } catch (InterruptedException e) {
                  // done
                }
              },
              "trt-build-progress");
      thread.setDaemon(true);
      if (everySeconds > 0) {
        thread.start();
      }
    }

    @Override
    public void close() {
      thread.interrupt();
    }
  }

  /**
   * System property choosing how weakly typed fp16 builds (the reference graph) treat the float32
   * pins: {@code prefer} (default) or {@code obey}. TensorRT 10.6's Myelin compiler fails on this
   * graph with {@code obey} (MyelinCheckException in gvn.cpp, seen on the H200) and ignores the
   * pins inside the regions it fuses with {@code prefer}; the plugin graph is therefore built
   * strongly typed instead.
   */
  public static final String PRECISION_CONSTRAINTS_PROPERTY = "msn.trt.precisionConstraints";

  static boolean obeyPrecisionConstraints() {
    String v = System.getProperty(PRECISION_CONSTRAINTS_PROPERTY, "prefer");
    return switch (v) {
      case "obey" -> true;
      case "prefer" -> false;
      default ->
          throw new BadInputException(
              "-D" + PRECISION_CONSTRAINTS_PROPERTY + " must be obey or prefer, got '" + v + "'");
    };
  }

  /**
   * Whether a layer (network layer, or a fused engine layer named after its nodes) is in the MSN
   * scoring path pinned to float32.
   */
  public static boolean inScoringScope(String layerName) {
    return layerName != null && layerName.contains(".msn/") && !layerName.contains("SparseGather");
  }

  /**
   * What {@link #pinRetrievalScoringToFloat32} pinned: compute layers, and the weight-only layers
   * that feed them.
   */
  record Pinned(int layers, int weights) {}

  /**
   * In weakly typed fp16 engines (the reference graph; plugin engines are strongly typed, see
   * {@link MixedPrecision}), asks TensorRT to keep in float32 what decides which slots are
   * retrieved: the MSN scoring path (query projection, its LayerNorms, the key products,
   * PKMRetrieval and the gate) and the residual stream that feeds it (every LayerNorm and the
   * residual Add before it), as mixed precision training does. Which slots are retrieved hinges on
   * score gaps that half precision rounds away: scores of about 10 to 100 with fp16's 1e-3 relative
   * error swap neighbours (seen on the H100). These layers are small; the per-token FFN's matrix
   * products, the heads and SparseGather (memory-bound) stay in fp16. MSN layers are found by the
   * exporter's node-name scope {@code blocks.{l}.msn/} (TensorRT's ONNX parser names layers after
   * nodes), LayerNorms by layer type.
   *
   * <p>The weights those layers read (the folded keys {@code K'}, {@code W_q}, LayerNorm affine
   * parameters) come from constant layers that the parser names after their initializers, not after
   * a node, so the scope test misses them; a constant layer left free may be stored in fp16 and
   * cast up, which rounds every key to 11 bits. So every weight-only layer (a constant, or a layer
   * whose inputs all come from weight-only layers) that feeds a pinned layer is pinned too.
   */
  static Pinned pinRetrievalScoringToFloat32(INetworkDefinition network) {
    int n = network.getNbLayers();
    StringBuilder seen = new StringBuilder();
    java.util.Set<Integer> residual = new java.util.HashSet<>();
    java.util.Map<Long, Integer> producer = new java.util.HashMap<>();
    for (int i = 0; i < n; i++) {
      org.bytedeco.tensorrt.nvinfer.ILayer layer = network.getLayer(i);
      for (int o = 0; o < layer.getNbOutputs(); o++) {
        producer.put(layer.getOutput(o).address(), i);
      }
    }
    for (int i = 0; i < n; i++) {
      org.bytedeco.tensorrt.nvinfer.ILayer layer = network.getLayer(i);
      if (layer.getType().value == nvinfer.LayerType.kNORMALIZATION.value
          && layer.getNbInputs() > 0) {
        Integer p = producer.get(layer.getInput(0).address());
        if (p != null
            && network.getLayer(p).getType().value == nvinfer.LayerType.kELEMENTWISE.value) {
          residual.add(p); // x + mix(x), x + ffn(x)
        }
      }
    }
    // Weight-only layers, in network order (the parser adds a layer after its inputs' producers).
    boolean[] weightOnly = new boolean[n];
    for (int i = 0; i < n; i++) {
      org.bytedeco.tensorrt.nvinfer.ILayer layer = network.getLayer(i);
      if (layer.getType().value == nvinfer.LayerType.kCONSTANT.value) {
        weightOnly[i] = true;
        continue;
      }
      boolean all = layer.getNbInputs() > 0;
      for (int j = 0; j < layer.getNbInputs() && all; j++) {
        ITensor in = layer.getInput(j);
        Integer p = in == null || in.isNull() ? null : producer.get(in.address());
        all = p != null && weightOnly[p];
      }
      weightOnly[i] = all;
    }
    boolean[] pin = new boolean[n];
    for (int i = 0; i < n; i++) {
      org.bytedeco.tensorrt.nvinfer.ILayer layer = network.getLayer(i);
      String name = layer.getName();
      if (i < 60) {
        seen.append(i == 0 ? "" : ", ").append(name);
      }
      boolean scoring = inScoringScope(name);
      boolean stream =
          layer.getType().value == nvinfer.LayerType.kNORMALIZATION.value || residual.contains(i);
      pin[i] = (scoring || stream) && !weightOnly[i];
    }
    // Walk back from the pinned layers through weight-only producers (consumers come after
    // producers).
    boolean[] pinWeight = new boolean[n];
    for (int i = n - 1; i >= 0; i--) {
      if (!pin[i] && !pinWeight[i]) {
        continue;
      }
      org.bytedeco.tensorrt.nvinfer.ILayer layer = network.getLayer(i);
      for (int j = 0; j < layer.getNbInputs(); j++) {
        ITensor in = layer.getInput(j);
        Integer p = in == null || in.isNull() ? null : producer.get(in.address());
        if (p != null && weightOnly[p]) {
          pinWeight[p] = true;
        }
      }
    }
    int layers = 0;
    int weights = 0;
    for (int i = 0; i < n; i++) {
      if (pin[i] && pinToFloat32(network.getLayer(i))) {
        layers++;
      } else if (pinWeight[i] && pinToFloat32(network.getLayer(i))) {
        weights++;
      }
    }
    if (layers == 0 && Boolean.getBoolean("msn.trt.debugLayers")) {
      System.err.println("build: no layer named blocks.{l}.msn/...; layers: " + seen);
    }
    return new Pinned(layers, weights);
  }

  /**
   * Float32 compute and float32 floating outputs for one layer; false when it has no floating
   * output.
   */
  private static boolean pinToFloat32(org.bytedeco.tensorrt.nvinfer.ILayer layer) {
    int fp32 = nvinfer.DataType.kFLOAT.value;
    int fp16 = nvinfer.DataType.kHALF.value;
    boolean floating = false;
    for (int o = 0; o < layer.getNbOutputs(); o++) {
      int t = layer.getOutput(o).getType().value;
      if (t == fp32 || t == fp16) {
        layer.setOutputType(o, nvinfer.DataType.kFLOAT);
        floating = true;
      }
    }
    if (floating) {
      layer.setPrecision(nvinfer.DataType.kFLOAT);
    }
    return floating;
  }
}
