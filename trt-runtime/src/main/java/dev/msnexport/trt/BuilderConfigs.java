package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.BatchBuckets;
import dev.msnexport.profiles.Profile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.ITimingCache;

/**
 * The builder configuration steps: the optimization profiles of the batch buckets, the precision
 * (weakly typed fp16 with float32 pins; strongly typed networks need no flag), strict float32 (TF32
 * off), layer detail kept, the optimization level, TensorRT's own tactic sources only, and a timing
 * cache.
 */
final class BuilderConfigs {
  private BuilderConfigs() {}

  /**
   * One optimization profile per batch bucket of {@code b} ({@link BatchBuckets}; one for the whole
   * range without {@code opt_batches}), added in bucket order so that profile index i is bucket i;
   * returns the first input's info.
   */
  static EngineMetadata.InputInfo addBatchProfiles(
      IBuilder builder, IBuilderConfig config, INetworkDefinition network, Profile.BatchShapes b) {
    EngineMetadata.InputInfo input = null;
    List<Profile.BatchShapes> buckets = b.buckets();
    for (int i = 0; i < buckets.size(); i++) {
      IOptimizationProfile profile = builder.createOptimizationProfile(); // owned by the builder
      input = BatchProfile.apply(network, profile, buckets.get(i));
      // IBuilderConfig::addOptimizationProfile returns the new profile's index, -1 when invalid
      if (config.addOptimizationProfile(profile) != i) {
        throw new TrtException(
            "the optimization profile for batch "
                + BatchBuckets.describe(buckets.get(i))
                + " is invalid"
                + TrtLogger.get().describeErrors());
      }
    }
    return input;
  }

  /**
   * Weakly typed fp16: the fp16 flag, and the layers of {@code float32Layers} and the residual
   * stream pinned to float32 ({@link Float32Pins}).
   */
  static void weaklyTypedFp16(
      IBuilderConfig config,
      INetworkDefinition network,
      Predicate<String> float32Layers,
      PrintStream log) {
    config.setFlag(nvinfer.BuilderFlag.kFP16);
    boolean obey = Float32Pins.obeyPrecisionConstraints();
    config.setFlag(
        obey
            ? nvinfer.BuilderFlag.kOBEY_PRECISION_CONSTRAINTS
            : nvinfer.BuilderFlag.kPREFER_PRECISION_CONSTRAINTS);
    Float32Pins.Pinned pinned = Float32Pins.pin(network, float32Layers);
    log.printf(
        Locale.ROOT,
        "build: fp16, with %d retrieval-scoring and residual-stream layers and %d weight layers feeding them kept"
            + " in float32 (%s precision constraints)%n",
        pinned.layers(),
        pinned.weights(),
        obey ? "obeyed" : "preferred");
  }

  /** Strict float32, layer detail, the optimization level (-1: default) and tactic sources. */
  static void common(IBuilderConfig config, int optimizationLevel) {
    // Layer names, types, formats and tactics stay in the plan, for `msn-export inspect PLAN`
    // (trtexec's --profilingVerbosity=detailed); this changes no kernel choice.
    config.setProfilingVerbosity(nvinfer.ProfilingVerbosity.kDETAILED);
    // Float32 layers are strict float32, like ONNX Runtime: TF32 (on by default) would round the
    // operands of every float32 matrix product to 10 mantissa bits, fp16's precision, including
    // the retrieval-scoring layers that fp16 engines keep in float32.
    config.clearFlag(nvinfer.BuilderFlag.kTF32);
    if (optimizationLevel >= 0) {
      config.setBuilderOptimizationLevel(optimizationLevel);
    }
    // TensorRT's own kernels only: never cuBLAS, cuBLASLt or cuDNN.
    int tactics =
        (1 << nvinfer.TacticSource.kEDGE_MASK_CONVOLUTIONS.value)
            | (1 << nvinfer.TacticSource.kJIT_CONVOLUTIONS.value);
    if (!config.setTacticSources(tactics)) {
      throw new TrtException("setTacticSources failed" + TrtLogger.get().describeErrors());
    }
  }

  /**
   * Gives the config a timing cache, loaded from {@code file} when it exists (null: none); returns
   * the loaded bytes, which the caller closes after the build (null: none loaded).
   */
  static BytePointer timingCache(IBuilderConfig config, Path file) {
    BytePointer in = null;
    boolean ok = false;
    try {
      if (file != null && Files.isRegularFile(file)) {
        in = new BytePointer(Files.readAllBytes(file));
      }
      ITimingCache cache =
          config.createTimingCache(in, in == null ? 0 : in.limit()); // owned by the config
      if (cache == null || cache.isNull() || !config.setTimingCache(cache, false)) {
        if (in != null) {
          throw new BadInputException(
              "timing cache "
                  + file
                  + " is not a TensorRT "
                  + TensorRt.version()
                  + " timing cache"
                  + TrtLogger.get().describeErrors());
        }
        throw new TrtException("cannot create a timing cache" + TrtLogger.get().describeErrors());
      }
      ok = true;
      return in;
    } catch (IOException e) {
      throw new BadInputException("cannot read timing cache " + file + ": " + e.getMessage(), e);
    } finally {
      if (in != null && !ok) {
        in.close();
      }
    }
  }
}
