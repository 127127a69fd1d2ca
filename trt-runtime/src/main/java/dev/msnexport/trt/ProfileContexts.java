package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.BatchBuckets;
import dev.msnexport.profiles.Profile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

/**
 * One execution context per optimization profile (batch bucket) of an engine, each created on first
 * use and bound to its profile, as serving stacks run multi-profile engines: the runner picks the
 * profile by batch ({@link BatchBuckets#indexFor}) and runs on that profile's context. {@link
 * #close} deletes them (before the engine).
 *
 * <p>TensorRT 10.6 facts this relies on (NvInferRuntime.h and NvInfer.h of NVIDIA/TensorRT 10.x,
 * include/, doc comments; the JavaCPP classes {@code org.bytedeco.tensorrt.nvinfer.*} of
 * tensorrt-10.6-1.5.11, read with javap):
 *
 * <ul>
 *   <li>{@code IBuilderConfig::addOptimizationProfile} returns the new profile's index (-1 when the
 *       profile is invalid), in the order added: profile i is bucket i ({@link
 *       BuilderConfigs#addBatchProfiles}).
 *   <li>{@code ICudaEngine::getNbOptimizationProfiles} counts them; {@code getProfileShape(name, i,
 *       kMIN/kOPT/kMAX)} gives profile i's shapes of an input.
 *   <li>A new execution context is on profile 0. {@code
 *       IExecutionContext::setOptimizationProfileAsync(i, stream)} selects profile i; it must come
 *       before {@code setInputShape}, and not synchronizing its stream with the one used at enqueue
 *       is undefined behaviour, so the stream is synchronized at once. {@code
 *       getOptimizationProfile()} says which profile a context is on.
 *   <li>TensorRT 10 addresses I/O tensors by name, and the names are the same for every profile
 *       (TensorRT 8's per-profile binding indices are gone), so one set of device buffers ({@link
 *       IoBuffers}) serves every context.
 *   <li>{@code ExecutionContextAllocationStrategy}: {@code kSTATIC}, the default of {@code
 *       createExecutionContext()}, allocates the maximum device memory across all profiles; {@code
 *       kON_PROFILE_CHANGE} reallocates for the profile selected, so a context holds about {@code
 *       getDeviceMemorySizeForProfileV2(i)}. Engines of several profiles use the latter: one
 *       bucket's activation memory per context created.
 * </ul>
 */
final class ProfileContexts implements AutoCloseable {
  private final Path plan;
  private final ICudaEngine engine;
  private final CUstream_st stream;
  private final List<Profile.BatchShapes> buckets;
  private final IExecutionContext[] contexts;
  private int active = -1;

  /**
   * @param sidecar the buckets the plan's sidecar describes: a plan whose profiles differ is
   *     refused (BadInputException)
   */
  ProfileContexts(
      Path plan, ICudaEngine engine, CUstream_st stream, List<Profile.BatchShapes> sidecar) {
    this.plan = plan;
    this.engine = engine;
    this.stream = stream;
    this.buckets = bucketsOf(engine, firstInput(plan, engine));
    this.contexts = new IExecutionContext[buckets.size()];
    if (!buckets.equals(sidecar)) {
      throw new BadInputException(
          "engine "
              + plan
              + " has optimization profiles, batch min..max (opt) "
              + BatchBuckets.describe(buckets)
              + ", but its sidecar describes "
              + BatchBuckets.describe(sidecar)
              + ": the plan or the sidecar was replaced; rebuild with msn-export build");
    }
  }

  /**
   * Starts on the profile that holds the largest batch (where {@link IoBuffers} sizes the output
   * buffers); returns its context.
   */
  IExecutionContext start() {
    active = largest();
    return get(active);
  }

  /** The context in use. */
  IExecutionContext active() {
    return contexts[active];
  }

  /** The index of the profile in use. */
  int activeIndex() {
    return active;
  }

  /** Runs on profile {@code i}'s context from now on, binding {@code io}'s buffers when new. */
  void select(int i, IoBuffers io) {
    if (i == active) {
      return;
    }
    boolean fresh = contexts[i] == null;
    IExecutionContext c = get(i);
    if (fresh) {
      io.bindAddresses(c);
    }
    io.use(c);
    active = i;
  }

  private static String firstInput(Path plan, ICudaEngine e) {
    for (int i = 0; i < e.getNbIOTensors(); i++) {
      String name = e.getIOTensorName(i);
      if (e.getTensorIOMode(name).value == nvinfer.TensorIOMode.kINPUT.value) {
        return name;
      }
    }
    throw new TrtException("engine " + plan + " has no inputs");
  }

  /** The engine's optimization profiles as batch buckets, in index order. */
  List<Profile.BatchShapes> buckets() {
    return buckets;
  }

  /** Profile {@code i}'s context, created and bound to the profile on first use. */
  private IExecutionContext get(int i) {
    if (contexts[i] == null) {
      contexts[i] = create(plan, engine, i, stream, "");
    }
    return contexts[i];
  }

  /** The index of the profile holding the largest batch (where output buffers are sized). */
  private int largest() {
    int best = 0;
    for (int i = 1; i < buckets.size(); i++) {
      if (buckets.get(i).max() > buckets.get(best).max()) {
        best = i;
      }
    }
    return best;
  }

  /**
   * A new context of {@code engine} on optimization profile {@code profile}; the caller owns it.
   *
   * @param what for messages: "" or " for the layer profile"
   */
  static IExecutionContext create(
      Path plan, ICudaEngine engine, int profile, CUstream_st stream, String what) {
    TrtLogger logger = TrtLogger.get();
    boolean several = engine.getNbOptimizationProfiles() > 1;
    IExecutionContext c =
        TrtObjects.own(
            several
                ? engine.createExecutionContext(
                    nvinfer.ExecutionContextAllocationStrategy.kON_PROFILE_CHANGE)
                : engine.createExecutionContext());
    if (c == null || c.isNull()) {
      throw new TrtException(
          "createExecutionContext failed" + what + " for " + plan + logger.describeErrors());
    }
    if (several && c.getOptimizationProfile() != profile) {
      if (!c.setOptimizationProfileAsync(profile, stream)) {
        TrtObjects.delete(c);
        throw new TrtException(
            "setOptimizationProfileAsync("
                + profile
                + ") failed"
                + what
                + " for "
                + plan
                + logger.describeErrors());
      }
      Cuda.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }
    return c;
  }

  private static List<Profile.BatchShapes> bucketsOf(ICudaEngine engine, String input) {
    List<Profile.BatchShapes> out = new ArrayList<>();
    for (int i = 0; i < engine.getNbOptimizationProfiles(); i++) {
      out.add(
          new Profile.BatchShapes(
              batchOf(engine, input, i, nvinfer.OptProfileSelector.kMIN),
              batchOf(engine, input, i, nvinfer.OptProfileSelector.kOPT),
              batchOf(engine, input, i, nvinfer.OptProfileSelector.kMAX)));
    }
    return List.copyOf(out);
  }

  private static int batchOf(
      ICudaEngine engine, String input, int profile, nvinfer.OptProfileSelector sel) {
    Dims64 d = engine.getProfileShape(input, profile, sel);
    return d.nbDims() < 1 ? -1 : (int) d.d(0);
  }

  /** Deletes every context created (the stream must be idle). */
  @Override
  public void close() {
    for (int i = 0; i < contexts.length; i++) {
      TrtObjects.delete(contexts[i]);
      contexts[i] = null;
    }
  }
}
