package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.common.Percentiles;
import dev.msnexport.profiles.Profile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IEngineInspector;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * A deserialized TensorRT engine with everything needed to run it: one execution context per
 * optimization profile (batch bucket), created on first use; each batch runs on the context of the
 * bucket with the smallest max that holds it ({@link ProfileContexts}); one CUDA stream, its IO
 * buffers ({@link IoBuffers}: device buffers and pinned host staging buffers sized for the
 * profile's largest shapes, so no call allocates) and its timer ({@link EngineTimer}: CUDA events,
 * CUDA-graph capture and replay). Plans are loaded only through their sidecar ({@link PlanLoader},
 * {@link EngineMetadata#check}); layer profiles run on a context of their own ({@link
 * LayerProfileRun}).
 *
 * <p>One owner, one thread: not thread-safe. {@link #close()} frees, in this order, a captured CUDA
 * graph, the execution contexts, the engine, the runtime (TensorRT requires each to go before the
 * object that created it), then the device buffers, the pinned host buffers, the events and the
 * stream.
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

  private final Path plan;
  private final EngineMetadata metadata;
  private IRuntime runtime;
  private ICudaEngine engine;
  private ProfileContexts contexts;
  private CUstream_st stream;
  private EngineTimer timer;
  private IoBuffers io;
  private boolean prepared;
  private boolean closed;
  private boolean inspected;

  private TrtEngine(Path plan, EngineMetadata metadata) {
    this.plan = plan;
    this.metadata = metadata;
  }

  /**
   * Loads {@code plan} after checking its sidecar against {@code onnx} (null: not checked), our
   * plugin library (custom graph), this TensorRT version and this GPU ({@link PlanLoader}). A
   * mismatch is refused with a {@link BadInputException} that says what differs.
   */
  public static TrtEngine load(Path plan, Path onnx) {
    TensorRt.require();
    EngineMetadata meta = EngineMetadata.read(plan);
    try (PlanLoader.Blob blob = PlanLoader.readChecked(plan, meta, onnx)) {
      TrtEngine e = new TrtEngine(plan, meta);
      try {
        e.init(blob);
        return e;
      } catch (RuntimeException ex) {
        e.close();
        throw ex;
      }
    }
  }

  private void init(PlanLoader.Blob blob) {
    TrtLogger logger = TrtLogger.get();
    logger.clearErrors();
    stream = new CUstream_st();
    Cuda.check(
        cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking),
        "cudaStreamCreateWithFlags");
    timer = new EngineTimer(stream, () -> contexts.active().enqueueV3(stream), this::launch);
    runtime = TrtObjects.own(nvinfer.createInferRuntime(logger));
    if (runtime == null || runtime.isNull()) {
      throw new TrtException("createInferRuntime failed" + logger.describeErrors());
    }
    engine = TrtObjects.own(runtime.deserializeCudaEngine(blob.data(), blob.size()));
    if (engine == null || engine.isNull()) {
      throw new TrtException("TensorRT could not deserialize " + plan + logger.describeErrors());
    }
    contexts = new ProfileContexts(plan, engine, stream, metadata.buckets());
    io = new IoBuffers(plan, contexts.start(), stream);
    io.allocate(engine);
  }

  /** Switches to the context of the bucket that runs the batch of {@code inputs}. */
  private void selectFor(Map<String, HostTensor> inputs) {
    HostTensor t = inputs.get(io.firstInput().name);
    // a batch outside every bucket's range is left to staging, which refuses it naming the range
    if (t != null && t.shape().length > 0) {
      long batch = t.shape()[0];
      if (batch >= minBatch() && batch <= maxBatch()) {
        contexts.select(bucketFor(batch), io);
      }
    }
  }

  /** The engine's optimization profiles as batch buckets, in profile index order. */
  public List<Profile.BatchShapes> buckets() {
    checkOpen();
    return contexts.buckets();
  }

  /**
   * The index of the bucket (optimization profile) that runs {@code batch}: the smallest max that
   * holds it; a batch outside every bucket is refused (BadInputException).
   */
  public int bucketFor(long batch) {
    return metadata.bucketFor(plan, batch);
  }

  /** The batch (dimension 0 of the first input) staged last. */
  public long lastBatch() {
    checkOpen();
    return io.firstInput().shape[0];
  }

  /** The optimization profile the last run used, as TensorRT's context reports it. */
  public int activeBucket() {
    checkOpen();
    return contexts.active().getOptimizationProfile();
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
    inspector.setExecutionContext(contexts.active());
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
    for (IoBuffers.Slot s : io.slots) {
      out.add(
          new IoTensor(
              s.name,
              s.input,
              HostCopies.dtypeName(s.dtype),
              s.engineShape.clone(),
              s.minShape == null ? null : s.minShape.clone(),
              s.maxShape.clone()));
    }
    return out;
  }

  /** Largest batch (dimension 0 of the first input) the engine accepts. */
  public long maxBatch() {
    checkOpen();
    return io.firstInput().maxShape[0];
  }

  public long minBatch() {
    checkOpen();
    return io.firstInput().minShape[0];
  }

  /**
   * GPU time of the last {@link #infer} call's engine launch, or of the last {@link #runPrepared}
   * (ms, CUDA events).
   */
  public float lastGpuMillis() {
    return timer == null ? Float.NaN : timer.lastGpuMillis();
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
    io.poisonOutputs(byteValue);
  }

  /** Runs one batch: copies the inputs in, launches, copies every output back (engine order). */
  public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
    checkOpen();
    timer.releaseReplay();
    selectFor(inputs);
    io.stage(inputs);
    prepared = false;
    timer.recordStart();
    launch();
    timer.recordStop();
    io.queueOutputCopies();
    Cuda.check(
        cudart.cudaStreamSynchronize(stream),
        "cudaStreamSynchronize (engine " + plan.getFileName() + ")");
    timer.measure();
    return io.outputs();
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
    timer.releaseReplay();
    selectFor(inputs);
    io.stage(inputs);
    launch();
    Cuda.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    prepared = true;
    if (cudaGraph) {
      timer.captureReplay();
    }
  }

  /** True when {@link #runPrepared} replays a CUDA graph. */
  public boolean replaysCudaGraph() {
    return timer != null && timer.replaysCudaGraph();
  }

  /** Why a requested CUDA graph is not replayed, or null. */
  public String replayNote() {
    return timer == null ? null : timer.replayNote();
  }

  /**
   * One run on the prepared inputs (the captured CUDA graph, or a plain launch), waited for;
   * outputs stay on the device. Its device time, between CUDA events around it, is {@link
   * #lastGpuMillis()}.
   */
  public void runPrepared() {
    checkPrepared();
    timer.runPrepared();
  }

  /**
   * TensorRT's time of every layer ({@code IProfiler}, as trtexec's {@code --dumpProfile
   * --separateProfileRun}): {@code runs} plain launches on the prepared inputs, each waited for,
   * after one warm-up, on a second execution context on the same optimization profile that carries
   * the profiler and is deleted afterwards ({@link LayerProfileRun}), so timing runs never carry
   * its overhead. Layers come in execution order.
   */
  public List<LayerProfiler.Layer> profileLayers(int runs) {
    checkPrepared();
    if (runs < 1) {
      throw new IllegalArgumentException("runs must be >= 1");
    }
    return LayerProfileRun.run(plan, engine, io, stream, runs, contexts.activeIndex());
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
    return timer.time(warmup, iterations, cudaGraph);
  }

  private void launch() {
    if (!contexts.active().enqueueV3(stream)) {
      throw new TrtException(
          "enqueueV3 failed for engine " + plan.getFileName() + TrtLogger.get().describeErrors());
    }
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
    if (timer != null) {
      timer.releaseReplay();
    }
    if (!inspected) {
      if (contexts != null) {
        contexts.close();
      }
      TrtObjects.delete(engine);
      TrtObjects.delete(runtime);
    }
    if (io != null) {
      io.free();
    }
    if (timer != null) {
      timer.close();
    }
    if (stream != null && !stream.isNull()) {
      cudart.cudaStreamDestroy(stream);
    }
  }
}
