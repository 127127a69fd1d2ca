package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.common.Percentiles;
import dev.msnexport.common.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IEngineInspector;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * A deserialized TensorRT engine with everything needed to run it: one execution context, one CUDA
 * stream, device buffers and pinned host staging buffers sized for the profile's largest shapes (so
 * no call allocates), and a pair of CUDA events for GPU time.
 *
 * <p>One owner, one thread: not thread-safe. {@link #close()} frees, in this order, a captured CUDA
 * graph, the execution context, the engine, the runtime (TensorRT requires each to go before the
 * object that created it), then the device buffers, the pinned host buffers, the events and the
 * stream. Plans are loaded only through their sidecar ({@link EngineMetadata#check}).
 */
public final class TrtEngine implements AutoCloseable {
  /** One input or output: engine shape (-1 for dynamic), profile range (inputs), largest shape. */
  public record IoTensor(
      String name,
      boolean input,
      String dtype,
      long[] engineShape,
      long[] minShape,
      long[] maxShape) {}

  /**
   * Per-iteration times of {@link #time}: GPU time between CUDA events around the launch, and host
   * time from before the launch to after its completion was seen.
   */
  public record Timing(double[] gpuMillis, double[] hostMillis, boolean cudaGraph, String note) {
    /** The p-th percentile of unsorted values by the project's one rule ({@link Percentiles}). */
    public static double percentile(double[] values, double p) {
      if (values.length == 0) {
        return Double.NaN;
      }
      double[] s = values.clone();
      Arrays.sort(s);
      return Percentiles.of(s, p);
    }

    public double gpuPercentile(double p) {
      return percentile(gpuMillis, p);
    }

    public double hostPercentile(double p) {
      return percentile(hostMillis, p);
    }
  }

  /** An IO tensor's buffers. */
  private static final class Slot {
    final String name;
    final boolean input;
    final nvinfer.DataType dtype;
    final int elemBytes;
    final long[] engineShape;
    long[] minShape;
    long[] maxShape;
    long[] shape; // current
    Pointer device;
    Pointer host;
    long capacityBytes;

    Slot(String name, boolean input, nvinfer.DataType dtype, long[] engineShape) {
      this.name = name;
      this.input = input;
      this.dtype = dtype;
      this.elemBytes = elementBytes(name, dtype);
      this.engineShape = engineShape;
    }
  }

  private final Path plan;
  private final EngineMetadata metadata;
  private IRuntime runtime;
  private ICudaEngine engine;
  private IExecutionContext context;
  private CUstream_st stream;
  private CUevent_st start;
  private CUevent_st stop;
  private final List<Slot> slots = new ArrayList<>();
  private boolean prepared;
  private Captured
      replay; // the prepared launch as a CUDA graph, when prepare(inputs, true) could capture it
  private float lastGpuMillis = Float.NaN;
  private boolean closed;
  private boolean inspected;

  private TrtEngine(Path plan, EngineMetadata metadata) {
    this.plan = plan;
    this.metadata = metadata;
  }

  /**
   * Loads {@code plan} after checking its sidecar against {@code onnx} (null: not checked), our
   * plugin library (custom graph), this TensorRT version and this GPU. A mismatch is refused with a
   * {@link BadInputException} that says what differs.
   */
  public static TrtEngine load(Path plan, Path onnx) {
    TensorRt.require();
    EngineMetadata meta = EngineMetadata.read(plan);
    String pluginSha = meta.usesPlugins() ? PluginLibrary.locate().sha256() : null;
    long size;
    try {
      size = Files.size(plan);
    } catch (IOException e) {
      throw new BadInputException("cannot read engine plan " + plan + ": " + e.getMessage(), e);
    }
    // Raw malloc, outside JavaCPP's byte accounting (which is capped by -Xmx): plans can be large.
    Pointer blob = Pointer.malloc(Math.max(size, 1));
    if (blob == null || blob.isNull()) {
      throw new TrtException("cannot allocate " + size + " bytes for engine plan " + plan);
    }
    TrtEngine e = new TrtEngine(plan, meta);
    try {
      String sha = readInto(plan, blob, size);
      meta.check(
          plan,
          sha,
          new EngineMetadata.Expectation(
              onnx, pluginSha, TensorRt.version(), TensorRt.gpu().computeCapability()));
      if (meta.usesPlugins()) {
        PluginLibrary.load();
      }
      e.init(blob, size);
      return e;
    } catch (RuntimeException ex) {
      e.close();
      throw ex;
    } finally {
      Pointer.free(blob);
    }
  }

  private static String readInto(Path plan, Pointer blob, long size) {
    MessageDigest md = Sha256.digest();
    BytePointer dst = new BytePointer(blob);
    byte[] buf = new byte[16 << 20];
    long off = 0;
    try (InputStream in = Files.newInputStream(plan)) {
      for (int n;
          off < size && (n = in.read(buf, 0, (int) Math.min(buf.length, size - off))) > 0;
          off += n) {
        dst.position(off).put(buf, 0, n);
        md.update(buf, 0, n);
      }
    } catch (IOException e) {
      throw new BadInputException("cannot read engine plan " + plan + ": " + e.getMessage(), e);
    }
    if (off != size) {
      throw new BadInputException("engine plan " + plan + " changed while it was read");
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private void init(Pointer blob, long size) {
    TrtLogger logger = TrtLogger.get();
    logger.clearErrors();
    stream = new CUstream_st();
    Cuda.check(
        cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking),
        "cudaStreamCreateWithFlags");
    start = new CUevent_st();
    Cuda.check(cudart.cudaEventCreate(start), "cudaEventCreate");
    stop = new CUevent_st();
    Cuda.check(cudart.cudaEventCreate(stop), "cudaEventCreate");

    runtime = TrtObjects.own(nvinfer.createInferRuntime(logger));
    if (runtime == null || runtime.isNull()) {
      throw new TrtException("createInferRuntime failed" + logger.describeErrors());
    }
    engine = TrtObjects.own(runtime.deserializeCudaEngine(blob, size));
    if (engine == null || engine.isNull()) {
      throw new TrtException("TensorRT could not deserialize " + plan + logger.describeErrors());
    }
    context = TrtObjects.own(engine.createExecutionContext());
    if (context == null || context.isNull()) {
      throw new TrtException("createExecutionContext failed for " + plan + logger.describeErrors());
    }
    int n = engine.getNbIOTensors();
    for (int i = 0; i < n; i++) {
      String name = engine.getIOTensorName(i);
      boolean input = engine.getTensorIOMode(name).value == nvinfer.TensorIOMode.kINPUT.value;
      if (engine.getTensorFormat(name).value != nvinfer.TensorFormat.kLINEAR.value) {
        throw new TrtException(
            "IO tensor '"
                + name
                + "' of "
                + plan
                + " is not in linear format: "
                + engine.getTensorFormatDesc(name));
      }
      Slot s =
          new Slot(
              name,
              input,
              engine.getTensorDataType(name).intern(),
              dims(engine.getTensorShape(name)));
      if (input) {
        s.minShape = dims(engine.getProfileShape(name, 0, nvinfer.OptProfileSelector.kMIN));
        s.maxShape = dims(engine.getProfileShape(name, 0, nvinfer.OptProfileSelector.kMAX));
        setShape(s, s.maxShape);
      }
      slots.add(s);
    }
    for (Slot s : slots) {
      if (!s.input) {
        s.maxShape = dims(context.getTensorShape(s.name));
        for (long d : s.maxShape) {
          if (d < 0) {
            throw new TrtException(
                "output '"
                    + s.name
                    + "' of "
                    + plan
                    + " has a data-dependent shape "
                    + Arrays.toString(s.maxShape)
                    + ": not supported");
          }
        }
      }
      s.capacityBytes = Math.max(HostTensor.volume(s.maxShape) * s.elemBytes, 1);
      s.device = new Pointer();
      Cuda.check(
          cudart.cudaMalloc(s.device, s.capacityBytes),
          "cudaMalloc(" + s.capacityBytes + " bytes for '" + s.name + "')");
      s.host = new Pointer();
      Cuda.check(
          cudart.cudaMallocHost(s.host, s.capacityBytes),
          "cudaMallocHost(" + s.capacityBytes + " bytes for '" + s.name + "')");
      if (!context.setTensorAddress(s.name, s.device)) {
        throw new TrtException(
            "setTensorAddress('" + s.name + "') failed" + logger.describeErrors());
      }
    }
  }

  /**
   * TensorRT's engine inspector on this engine, with the execution context at the profile's largest
   * shapes (so formats are concrete): every engine layer with its data types and tactic.
   */
  public EngineLayers layers() {
    checkOpen();
    // IEngineInspector has no JavaCPP deallocator (abstract interface), so it cannot be deleted,
    // and
    // TensorRT forbids deleting an engine while an inspector of it lives: after this call, close()
    // leaves the context, engine and runtime to the process's exit (meant for one-shot use:
    // inspect).
    inspected = true;
    IEngineInspector inspector = engine.createEngineInspector();
    if (inspector == null || inspector.isNull()) {
      throw new TrtException(
          "createEngineInspector failed for " + plan + TrtLogger.get().describeErrors());
    }
    inspector.setExecutionContext(context);
    String json = inspector.getEngineInformation(nvinfer.LayerInformationFormat.kJSON);
    return EngineLayers.parse(json == null ? "" : json);
  }

  /** Whether the plan keeps layer detail (built with detailed profiling verbosity). */
  public boolean detailedLayerInformation() {
    checkOpen();
    return engine.getProfilingVerbosity().value == nvinfer.ProfilingVerbosity.kDETAILED.value;
  }

  public EngineMetadata metadata() {
    return metadata;
  }

  public Path plan() {
    return plan;
  }

  public List<IoTensor> tensors() {
    List<IoTensor> out = new ArrayList<>();
    for (Slot s : slots) {
      out.add(
          new IoTensor(
              s.name,
              s.input,
              dtypeName(s.dtype),
              s.engineShape.clone(),
              s.minShape == null ? null : s.minShape.clone(),
              s.maxShape.clone()));
    }
    return out;
  }

  /** Largest batch (dimension 0 of the first input) the engine accepts. */
  public long maxBatch() {
    return firstInput().maxShape[0];
  }

  public long minBatch() {
    return firstInput().minShape[0];
  }

  /**
   * GPU time of the last {@link #infer} call's engine launch, or of the last {@link #runPrepared}
   * (ms, CUDA events).
   */
  public float lastGpuMillis() {
    return lastGpuMillis;
  }

  /** Device memory the execution context holds for activations, in bytes. */
  public long activationBytes() {
    checkOpen();
    return engine.getDeviceMemorySizeV2();
  }

  /**
   * Fills every output buffer with {@code byteValue} (0xff: NaN floats, -1 integers), so that a
   * test can tell an element the engine never wrote from a computed one.
   */
  public void poisonOutputs(int byteValue) {
    checkOpen();
    for (Slot s : slots) {
      if (!s.input) {
        Cuda.check(
            cudart.cudaMemsetAsync(s.device, byteValue, s.capacityBytes, stream),
            "cudaMemsetAsync('" + s.name + "')");
      }
    }
    Cuda.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  }

  /** Runs one batch: copies the inputs in, launches, copies every output back (engine order). */
  public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
    checkOpen();
    releaseReplay();
    stage(inputs);
    prepared = false;
    Cuda.check(cudart.cudaEventRecord(start, stream), "cudaEventRecord");
    launch();
    Cuda.check(cudart.cudaEventRecord(stop, stream), "cudaEventRecord");
    for (Slot s : slots) {
      if (!s.input) {
        s.shape = dims(context.getTensorShape(s.name));
        long bytes = HostTensor.volume(s.shape) * s.elemBytes;
        Cuda.check(
            cudart.cudaMemcpyAsync(s.host, s.device, bytes, cudart.cudaMemcpyDeviceToHost, stream),
            "cudaMemcpyAsync(D2H '" + s.name + "')");
      }
    }
    Cuda.check(
        cudart.cudaStreamSynchronize(stream),
        "cudaStreamSynchronize (engine " + plan.getFileName() + ")");
    lastGpuMillis = elapsed();
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (Slot s : slots) {
      if (!s.input) {
        out.put(s.name, readHost(s));
      }
    }
    return out;
  }

  /**
   * Copies {@code inputs} to the device once and runs the engine once (a warm-up that also lets
   * TensorRT finish any setup after the shape change), for {@link #runPrepared} and {@link #time}.
   */
  public void prepare(Map<String, HostTensor> inputs) {
    prepare(inputs, false);
  }

  /**
   * As {@link #prepare(Map)}; with {@code cudaGraph}, the launch is then captured into a CUDA graph
   * that {@link #runPrepared} replays (one graph launch instead of TensorRT's many kernel
   * launches). If TensorRT's launch cannot be captured, runs stay plain launches and {@link
   * #replayNote()} says why.
   */
  public void prepare(Map<String, HostTensor> inputs, boolean cudaGraph) {
    checkOpen();
    releaseReplay();
    stage(inputs);
    launch();
    Cuda.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    prepared = true;
    if (cudaGraph) {
      replay = capture();
    }
  }

  /** True when {@link #runPrepared} replays a CUDA graph. */
  public boolean replaysCudaGraph() {
    return replay != null && replay.exec() != null;
  }

  /** Why a requested CUDA graph is not replayed, or null. */
  public String replayNote() {
    return replay == null ? null : replay.note();
  }

  /**
   * One run on the prepared inputs (the captured CUDA graph, or a plain launch), waited for;
   * outputs stay on the device. Its device time, between CUDA events around it, is {@link
   * #lastGpuMillis()}.
   */
  public void runPrepared() {
    checkPrepared();
    Cuda.check(cudart.cudaEventRecord(start, stream), "cudaEventRecord");
    if (replaysCudaGraph()) {
      Cuda.check(cudart.cudaGraphLaunch(replay.exec(), stream), "cudaGraphLaunch");
    } else {
      launch();
    }
    Cuda.check(cudart.cudaEventRecord(stop, stream), "cudaEventRecord");
    Cuda.check(cudart.cudaEventSynchronize(stop), "cudaEventSynchronize");
    lastGpuMillis = elapsed();
  }

  /**
   * TensorRT's time of every layer ({@code IProfiler}, as trtexec's {@code --dumpProfile
   * --separateProfileRun}): {@code runs} plain launches on the prepared inputs, each waited for,
   * after one warm-up, on a second execution context that carries the profiler and is deleted
   * afterwards (TensorRT cannot unset a profiler), so timing runs never carry its overhead. Layers
   * come in execution order.
   */
  public List<LayerProfiler.Layer> profileLayers(int runs) {
    checkPrepared();
    if (runs < 1) {
      throw new IllegalArgumentException("runs must be >= 1");
    }
    TrtLogger logger = TrtLogger.get();
    logger.clearErrors();
    // A context of its own: TensorRT 10 refuses setProfiler(null), so a profiler set on the timing
    // context could never be taken off again; this one is deleted before the profiler it calls.
    try (LayerProfiler p = new LayerProfiler()) {
      IExecutionContext profiled = TrtObjects.own(engine.createExecutionContext());
      if (profiled == null || profiled.isNull()) {
        throw new TrtException(
            "createExecutionContext failed for the layer profile of "
                + plan
                + logger.describeErrors());
      }
      try {
        for (Slot s : slots) {
          if (s.input) {
            try (Dims64 d = new Dims64()) {
              d.nbDims(s.shape.length);
              for (int i = 0; i < s.shape.length; i++) {
                d.d(i, s.shape[i]);
              }
              if (!profiled.setInputShape(s.name, d)) {
                throw new TrtException(
                    "setInputShape('"
                        + s.name
                        + "') failed on the profiling context"
                        + logger.describeErrors());
              }
            }
          }
          if (!profiled.setTensorAddress(s.name, s.device)) {
            throw new TrtException(
                "setTensorAddress('"
                    + s.name
                    + "') failed on the profiling context"
                    + logger.describeErrors());
          }
        }
        profiled.setProfiler(p.asTensorRt());
        for (int i = 0; i <= runs; i++) {
          if (!profiled.enqueueV3(stream)) {
            throw new TrtException(
                "enqueueV3 failed for the layer profile of "
                    + plan.getFileName()
                    + logger.describeErrors());
          }
          Cuda.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
          if (i == 0) {
            p.reset(); // the first run is a warm-up of the new context
          }
        }
      } finally {
        cudart.cudaStreamSynchronize(stream);
        TrtObjects.delete(profiled);
      }
      if (p.dropped() > 0) {
        throw new TrtException(
            "the layer profiler dropped " + p.dropped() + " reports (out of memory)");
      }
      return p.layers();
    }
  }

  /**
   * Times {@code iterations} launches on the prepared inputs after {@code warmup} untimed ones.
   * Each launch is waited for before the next (latency, not throughput). With {@code cudaGraph},
   * one launch is captured into a CUDA graph and the graph is replayed; if TensorRT's launch cannot
   * be captured, plain launches are timed and {@link Timing#note()} says so.
   */
  public Timing time(int warmup, int iterations, boolean cudaGraph) {
    checkPrepared();
    if (iterations < 1 || warmup < 0) {
      throw new IllegalArgumentException("iterations must be >= 1 and warmup >= 0");
    }
    Captured c = cudaGraph ? capture() : null;
    CUgraphExec_st exec = c == null ? null : c.exec();
    String note = c == null ? null : c.note();
    try {
      double[] gpu = new double[iterations];
      double[] host = new double[iterations];
      for (int i = -warmup; i < iterations; i++) {
        long h0 = System.nanoTime();
        Cuda.check(cudart.cudaEventRecord(start, stream), "cudaEventRecord");
        if (exec != null) {
          Cuda.check(cudart.cudaGraphLaunch(exec, stream), "cudaGraphLaunch");
        } else {
          launch();
        }
        Cuda.check(cudart.cudaEventRecord(stop, stream), "cudaEventRecord");
        Cuda.check(cudart.cudaEventSynchronize(stop), "cudaEventSynchronize");
        long h1 = System.nanoTime();
        if (i >= 0) {
          gpu[i] = elapsed();
          host[i] = (h1 - h0) / 1e6;
        }
      }
      return new Timing(gpu, host, exec != null, note);
    } finally {
      destroy(c);
    }
  }

  /**
   * A launch captured into a CUDA graph: {@code exec} null (and {@code note} saying why) when it
   * could not be.
   */
  private record Captured(CUgraph_st graph, CUgraphExec_st exec, String note) {}

  /**
   * Captures one launch on the prepared inputs; never throws for a launch TensorRT cannot have
   * captured.
   */
  private Captured capture() {
    CUgraph_st graph = new CUgraph_st();
    Cuda.check(
        cudart.cudaStreamBeginCapture(stream, cudart.cudaStreamCaptureModeThreadLocal),
        "cudaStreamBeginCapture");
    boolean ok = context.enqueueV3(stream);
    int st = cudart.cudaStreamEndCapture(stream, graph);
    CUgraphExec_st exec = null;
    String note = null;
    if (ok && st == cudart.cudaSuccess && !graph.isNull()) {
      exec = new CUgraphExec_st();
      int ist = cudart.cudaGraphInstantiate(exec, graph, 0L);
      if (ist != cudart.cudaSuccess) {
        note =
            "CUDA graph instantiation failed (" + Cuda.errorString(ist) + "); timed plain launches";
        exec = null;
      }
    } else {
      note =
          "TensorRT's launch could not be captured into a CUDA graph ("
              + (ok ? Cuda.errorString(st) : "enqueueV3 failed")
              + "); timed plain launches";
    }
    cudart.cudaGetLastError(); // clear a capture error so later calls do not report it
    return new Captured(graph, exec, note);
  }

  private static void destroy(Captured c) {
    if (c == null) {
      return;
    }
    if (c.exec() != null) {
      cudart.cudaGraphExecDestroy(c.exec());
    }
    if (c.graph() != null && !c.graph().isNull()) {
      cudart.cudaGraphDestroy(c.graph());
    }
  }

  private void releaseReplay() {
    destroy(replay);
    replay = null;
  }

  private void stage(Map<String, HostTensor> inputs) {
    for (Slot s : slots) {
      if (!s.input) {
        continue;
      }
      HostTensor t = inputs.get(s.name);
      if (t == null) {
        throw new BadInputException(
            "engine "
                + plan.getFileName()
                + ": input '"
                + s.name
                + "' is missing (have "
                + inputs.keySet()
                + ")");
      }
      checkShape(s, t.shape());
      boolean floatSlot =
          s.dtype == nvinfer.DataType.kFLOAT
              || s.dtype == nvinfer.DataType.kHALF
              || s.dtype == nvinfer.DataType.kBF16;
      if (floatSlot == t.isInteger()) {
        throw new BadInputException(
            "engine "
                + plan.getFileName()
                + ": input '"
                + s.name
                + "' is "
                + dtypeName(s.dtype)
                + ", got "
                + (t.isInteger() ? "integers" : "floats"));
      }
      setShape(s, t.shape());
      writeHost(s, t);
      long bytes = (long) t.size() * s.elemBytes;
      Cuda.check(
          cudart.cudaMemcpyAsync(s.device, s.host, bytes, cudart.cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync(H2D '" + s.name + "')");
    }
    for (String name : inputs.keySet()) {
      if (slots.stream().noneMatch(s -> s.input && s.name.equals(name))) {
        throw new BadInputException(
            "engine " + plan.getFileName() + " has no input '" + name + "'");
      }
    }
  }

  private void checkShape(Slot s, long[] shape) {
    boolean ok = shape.length == s.minShape.length;
    for (int i = 0; ok && i < shape.length; i++) {
      ok = shape[i] >= s.minShape[i] && shape[i] <= s.maxShape[i];
    }
    if (!ok) {
      StringBuilder range = new StringBuilder("[");
      for (int i = 0; i < s.minShape.length; i++) {
        range
            .append(i > 0 ? ", " : "")
            .append(
                s.minShape[i] == s.maxShape[i]
                    ? "" + s.minShape[i]
                    : s.minShape[i] + ".." + s.maxShape[i]);
      }
      throw new BadInputException(
          "engine "
              + plan.getFileName()
              + ": input '"
              + s.name
              + "' has shape "
              + Arrays.toString(shape)
              + ", the engine accepts "
              + range
              + "] (its optimization profile; rebuild with a profile whose batch covers it)");
    }
  }

  private void setShape(Slot s, long[] shape) {
    try (Dims64 d = new Dims64()) {
      d.nbDims(shape.length);
      for (int i = 0; i < shape.length; i++) {
        d.d(i, shape[i]);
      }
      if (!context.setInputShape(s.name, d)) {
        throw new BadInputException(
            "engine "
                + plan.getFileName()
                + ": TensorRT rejected shape "
                + Arrays.toString(shape)
                + " for input '"
                + s.name
                + "'"
                + TrtLogger.get().describeErrors());
      }
    }
    s.shape = shape.clone();
  }

  private void launch() {
    if (!context.enqueueV3(stream)) {
      throw new TrtException(
          "enqueueV3 failed for engine " + plan.getFileName() + TrtLogger.get().describeErrors());
    }
  }

  private float elapsed() {
    float[] ms = new float[1];
    Cuda.check(cudart.cudaEventElapsedTime(ms, start, stop), "cudaEventElapsedTime");
    return ms[0];
  }

  private static void writeHost(Slot s, HostTensor t) {
    int n = t.size();
    float[] floats = t.isInteger() ? null : t.toFloatArray();
    switch (s.dtype) {
      case kFLOAT -> new FloatPointer(s.host).put(floats, 0, n);
      case kHALF -> {
        short[] h = new short[n];
        for (int i = 0; i < n; i++) {
          h[i] = Half.fromFloat(floats[i]);
        }
        new ShortPointer(s.host).put(h, 0, n);
      }
      case kBF16 -> {
        short[] h = new short[n];
        for (int i = 0; i < n; i++) {
          int bits = Float.floatToRawIntBits(floats[i]);
          h[i] = (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16); // round to nearest even
        }
        new ShortPointer(s.host).put(h, 0, n);
      }
      case kINT64 -> new LongPointer(s.host).put(t.ints(), 0, n);
      case kINT32 -> {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = Math.toIntExact(t.ints()[i]);
        }
        new IntPointer(s.host).put(v, 0, n);
      }
      default ->
          throw new TrtException(
              "input '" + s.name + "' has unsupported type " + dtypeName(s.dtype));
    }
  }

  private static HostTensor readHost(Slot s) {
    int n = Math.toIntExact(HostTensor.volume(s.shape));
    switch (s.dtype) {
      case kFLOAT -> {
        float[] v = new float[n];
        new FloatPointer(s.host).get(v, 0, n);
        return HostTensor.ofFloats(s.name, s.shape, v);
      }
      case kHALF, kBF16 -> {
        short[] h = new short[n];
        new ShortPointer(s.host).get(h, 0, n);
        float[] v = new float[n];
        boolean half = s.dtype == nvinfer.DataType.kHALF;
        for (int i = 0; i < n; i++) {
          v[i] = half ? Half.toFloat(h[i]) : Half.bf16ToFloat(h[i]);
        }
        return HostTensor.ofFloats(s.name, s.shape, v);
      }
      case kINT64 -> {
        long[] v = new long[n];
        new LongPointer(s.host).get(v, 0, n);
        return HostTensor.ofInts(s.name, s.shape, v);
      }
      case kINT32 -> {
        int[] iv = new int[n];
        new IntPointer(s.host).get(iv, 0, n);
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
          v[i] = iv[i];
        }
        return HostTensor.ofInts(s.name, s.shape, v);
      }
      default ->
          throw new TrtException(
              "output '" + s.name + "' has unsupported type " + dtypeName(s.dtype));
    }
  }

  private static int elementBytes(String name, nvinfer.DataType t) {
    return switch (t) {
      case kFLOAT, kINT32 -> 4;
      case kHALF, kBF16 -> 2;
      case kINT64 -> 8;
      case kINT8, kUINT8, kBOOL, kFP8 -> 1;
      default -> throw new TrtException("IO tensor '" + name + "' has unsupported type " + t);
    };
  }

  static String dtypeName(nvinfer.DataType t) {
    return switch (t) {
      case kFLOAT -> "float32";
      case kHALF -> "float16";
      case kBF16 -> "bfloat16";
      case kINT32 -> "int32";
      case kINT64 -> "int64";
      case kINT8 -> "int8";
      case kUINT8 -> "uint8";
      case kBOOL -> "bool";
      default -> t.name().substring(1).toLowerCase(Locale.ROOT);
    };
  }

  private static long[] dims(Dims64 d) {
    long[] out = new long[d.nbDims()];
    for (int i = 0; i < out.length; i++) {
      out[i] = d.d(i);
    }
    return out;
  }

  private Slot firstInput() {
    checkOpen();
    return slots.stream()
        .filter(s -> s.input)
        .findFirst()
        .orElseThrow(() -> new TrtException("engine " + plan + " has no inputs"));
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("engine " + plan + " is closed");
    }
  }

  private void checkPrepared() {
    checkOpen();
    if (!prepared) {
      throw new IllegalStateException(
          "engine " + plan.getFileName() + ": call prepare(inputs) first");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (stream != null && !stream.isNull()) {
      cudart.cudaStreamSynchronize(stream); // nothing may still use what is freed below
    }
    releaseReplay();
    if (!inspected) {
      TrtObjects.delete(context);
      TrtObjects.delete(engine);
      TrtObjects.delete(runtime);
    }
    for (Slot s : slots) {
      if (s.device != null && !s.device.isNull()) {
        cudart.cudaFree(s.device);
      }
      if (s.host != null && !s.host.isNull()) {
        cudart.cudaFreeHost(s.host);
      }
    }
    if (start != null && !start.isNull()) {
      cudart.cudaEventDestroy(start);
    }
    if (stop != null && !stop.isNull()) {
      cudart.cudaEventDestroy(stop);
    }
    if (stream != null && !stream.isNull()) {
      cudart.cudaStreamDestroy(stream);
    }
  }
}
