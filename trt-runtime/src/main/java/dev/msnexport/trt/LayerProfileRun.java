package dev.msnexport.trt;

import java.nio.file.Path;
import java.util.List;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

/**
 * TensorRT's time of every layer ({@code IProfiler}, as trtexec's {@code --dumpProfile
 * --separateProfileRun}) on an engine's prepared buffers, on a second execution context (on the
 * optimization profile the prepared batch runs on, {@link ProfileContexts#create}) that carries the
 * profiler and is deleted afterwards: TensorRT 10 refuses {@code setProfiler(null)}, so a profiler
 * set on the timing context could never be taken off again, and timing runs never carry its
 * overhead.
 */
final class LayerProfileRun {
  private LayerProfileRun() {}

  /**
   * {@code runs} plain launches after one warm-up, each waited for; layers in execution order.
   *
   * @param io the prepared buffers (inputs at their current shapes)
   * @param profile the optimization profile the prepared inputs run on (the timing context's)
   */
  static List<LayerProfiler.Layer> run(
      Path plan, ICudaEngine engine, IoBuffers io, CUstream_st stream, int runs, int profile) {
    TrtLogger logger = TrtLogger.get();
    logger.clearErrors();
    try (LayerProfiler p = new LayerProfiler()) {
      IExecutionContext profiled =
          ProfileContexts.create(plan, engine, profile, stream, " for the layer profile");
      try {
        bind(profiled, io);
        profiled.setProfiler(p.asTensorRt());
        // As trtexec's --dumpProfile: enqueue does not emit the profile itself; after each run is
        // complete the context reports it explicitly (reportToProfiler).
        profiled.setEnqueueEmitsProfile(false);
        boolean reported = true;
        for (int i = 0; i <= runs; i++) {
          if (!profiled.enqueueV3(stream)) {
            throw new TrtException(
                "enqueueV3 failed for the layer profile of "
                    + plan.getFileName()
                    + logger.describeErrors());
          }
          Cuda.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
          reported &= profiled.reportToProfiler();
          if (i == 0) {
            p.reset(); // the first run is a warm-up of the new context
          }
        }
        if (p.layers().isEmpty()) {
          throw new TrtException(
              "the layer profile of "
                  + plan.getFileName()
                  + " is empty: TensorRT reported no layer time (reportToProfiler "
                  + (reported ? "returned true" : "failed")
                  + ", the context's profiler "
                  + (profiled.getProfiler() != null
                          && profiled.getProfiler().address() == p.asTensorRt().address()
                      ? "is ours"
                      : "is not ours")
                  + ", "
                  + engine.getNbLayers()
                  + " engine layers)"
                  + logger.describeErrors());
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

  /** The prepared input shapes and every buffer address, on the profiling context. */
  private static void bind(IExecutionContext profiled, IoBuffers io) {
    TrtLogger logger = TrtLogger.get();
    for (IoBuffers.Slot s : io.slots) {
      if (s.input) {
        try (Dims64 d = IoBuffers.dims(s.shape)) {
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
  }
}
