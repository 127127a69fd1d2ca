package dev.msnexport.verifier.latency;

/**
 * Optional for a {@link dev.msnexport.verifier.backend.Backend}: it can say how long its last run
 * took on the device (for TensorRT, the time between two CUDA events around the enqueue), apart
 * from the host wall time the benchmark measures around every run. When a backend implements it,
 * {@link LatencyBenchmark} records GPU time next to host time.
 */
public interface GpuTimed {
  /**
   * Device time of the last {@code runPrepared()} (or {@code infer}) in milliseconds; NaN when
   * unknown.
   */
  double lastGpuMillis();
}
