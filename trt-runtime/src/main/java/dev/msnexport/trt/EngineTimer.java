package dev.msnexport.trt;

import java.util.function.BooleanSupplier;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

/**
 * Times an engine's launches on its stream: GPU time between a pair of CUDA events around each
 * launch, host time from before the launch to after its completion was seen, and CUDA-graph capture
 * of one launch for replay (one graph launch instead of TensorRT's many kernel launches). A launch
 * TensorRT cannot have captured is timed as plain launches, with a note saying why. {@link #close}
 * destroys a captured graph, then the events.
 */
final class EngineTimer implements AutoCloseable {
  private final CUstream_st stream;
  private final BooleanSupplier enqueue;
  private final Runnable launch;
  private final CUevent_st start = new CUevent_st();
  private final CUevent_st stop = new CUevent_st();
  private Captured replay; // the prepared launch as a CUDA graph, when capture was asked for
  private float lastGpuMillis = Float.NaN;

  /**
   * @param enqueue one launch on {@code stream} that reports failure (for capture)
   * @param launch one launch that throws on failure
   */
  EngineTimer(CUstream_st stream, BooleanSupplier enqueue, Runnable launch) {
    this.stream = stream;
    this.enqueue = enqueue;
    this.launch = launch;
    Cuda.check(cudart.cudaEventCreate(start), "cudaEventCreate");
    Cuda.check(cudart.cudaEventCreate(stop), "cudaEventCreate");
  }

  void recordStart() {
    Cuda.check(cudart.cudaEventRecord(start, stream), "cudaEventRecord");
  }

  void recordStop() {
    Cuda.check(cudart.cudaEventRecord(stop, stream), "cudaEventRecord");
  }

  /** GPU time between the last recorded events, once the stream has passed them. */
  float measure() {
    float[] ms = new float[1];
    Cuda.check(cudart.cudaEventElapsedTime(ms, start, stop), "cudaEventElapsedTime");
    lastGpuMillis = ms[0];
    return ms[0];
  }

  float lastGpuMillis() {
    return lastGpuMillis;
  }

  /** Captures the prepared launch for {@link #runPrepared} to replay. */
  void captureReplay() {
    releaseReplay();
    replay = capture();
  }

  void releaseReplay() {
    destroy(replay);
    replay = null;
  }

  boolean replaysCudaGraph() {
    return replay != null && replay.exec() != null;
  }

  String replayNote() {
    return replay == null ? null : replay.note();
  }

  /** One run (the captured graph, or a plain launch), waited for and timed by events. */
  void runPrepared() {
    recordStart();
    if (replaysCudaGraph()) {
      Cuda.check(cudart.cudaGraphLaunch(replay.exec(), stream), "cudaGraphLaunch");
    } else {
      launch.run();
    }
    recordStop();
    Cuda.check(cudart.cudaEventSynchronize(stop), "cudaEventSynchronize");
    measure();
  }

  /** {@code iterations} timed launches after {@code warmup} untimed ones, each waited for. */
  TrtEngine.Timing time(int warmup, int iterations, boolean cudaGraph) {
    Captured c = cudaGraph ? capture() : null;
    CUgraphExec_st exec = c == null ? null : c.exec();
    try {
      double[] gpu = new double[iterations];
      double[] host = new double[iterations];
      for (int i = -warmup; i < iterations; i++) {
        long h0 = System.nanoTime();
        recordStart();
        if (exec != null) {
          Cuda.check(cudart.cudaGraphLaunch(exec, stream), "cudaGraphLaunch");
        } else {
          launch.run();
        }
        recordStop();
        Cuda.check(cudart.cudaEventSynchronize(stop), "cudaEventSynchronize");
        long h1 = System.nanoTime();
        if (i >= 0) {
          gpu[i] = measure();
          host[i] = (h1 - h0) / 1e6;
        }
      }
      return new TrtEngine.Timing(gpu, host, exec != null, c == null ? null : c.note());
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
    boolean ok = enqueue.getAsBoolean();
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

  /** Destroys a captured graph and the events (the stream must be idle). */
  @Override
  public void close() {
    releaseReplay();
    if (!start.isNull()) {
      cudart.cudaEventDestroy(start);
    }
    if (!stop.isNull()) {
      cudart.cudaEventDestroy(stop);
    }
  }
}
