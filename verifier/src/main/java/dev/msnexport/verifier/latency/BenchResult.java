package dev.msnexport.verifier.latency;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The latency of one backend at one batch size.
 *
 * @param prepared true when timing used {@code prepare/runPrepared} (inputs converted once); false
 *     when the backend cannot, and each timed run includes converting the inputs
 * @param measured_s sum of the timed runs' host wall times
 * @param throughput_samples_per_s {@code batch / mean host latency}
 * @param host_ms host wall time per run
 * @param gpu_ms device time per run, for backends that report it ({@link GpuTimed}); else null
 * @param samples_ns every timed run's host wall time in order: the raw data the bootstrap gates
 *     resample (a baseline must keep them)
 * @param gpu_samples_ms every run's device time, or null
 * @param hdr_histogram the host times (ns) as an HdrHistogram, compressed and base64-encoded (the
 *     encoding of HdrHistogram's log files: {@code Histogram.decodeFromCompressedByteBuffer})
 */
@JsonPropertyOrder({
  "backend",
  "batch",
  "prepared",
  "iterations",
  "measured_s",
  "throughput_samples_per_s",
  "host_ms",
  "gpu_ms",
  "samples_ns",
  "gpu_samples_ms",
  "hdr_histogram"
})
public record BenchResult(
    String backend,
    int batch,
    boolean prepared,
    int iterations,
    double measured_s,
    double throughput_samples_per_s,
    LatencyStats host_ms,
    LatencyStats gpu_ms,
    long[] samples_ns,
    double[] gpu_samples_ms,
    String hdr_histogram) {}
