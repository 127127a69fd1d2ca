package dev.msnexport.trt;

import java.util.Locale;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * What the GPU can do, for the floor model of {@code msn-export bench}: the copy bandwidth measured
 * on the device (a device-to-device copy of 512 MiB, bytes read plus bytes written, best of five,
 * timed with CUDA events), and the arithmetic peaks from the device's own properties (SM count and
 * clock) times the architecture's per-SM rate (float32 FMA units without TF32; dense fp16 on tensor
 * cores). The peaks are the datasheet's rates computed for the chip this runs on at the clock it
 * reports, not a measured matrix product (cuBLAS is not part of this runtime). On an H100 SXM that
 * gives 66.9 TFLOP/s float32 and 1,070 TFLOP/s fp16 at 1.98 GHz (NVIDIA quotes 989 for fp16, at a
 * lower sustained clock): a slightly higher peak, so a slightly stricter floor.
 *
 * @param copyBytesPerS measured copy bandwidth
 * @param fp32FlopsPerS float32 peak (non-tensor)
 * @param fp16FlopsPerS dense fp16 tensor-core peak
 * @param source device name, SMs, clock and how each figure was obtained
 */
public record GpuCeilings(
    double copyBytesPerS, double fp32FlopsPerS, double fp16FlopsPerS, String source) {
  /**
   * Per-SM FLOP per clock: {float32 FMA x 2, dense fp16 tensor}, by compute capability; null when
   * unknown.
   */
  static double[] perSmFlopsPerClock(int major, int minor) {
    return switch (major * 10 + minor) {
      case 70, 72 -> new double[] {128, 1024};
      case 75 -> new double[] {128, 1024};
      case 80 -> new double[] {128, 2048};
      case 86, 87 -> new double[] {256, 512};
      case 89 -> new double[] {256, 512};
      case 90 -> new double[] {256, 4096};
      default -> null;
    };
  }

  /** Measures device 0 (the one the engines run on). */
  public static GpuCeilings measure() {
    TensorRt.require();
    cudaDeviceProp prop = new cudaDeviceProp();
    Cuda.check(cudart.cudaGetDeviceProperties(prop, 0), "cudaGetDeviceProperties");
    String name = prop.name().getString().trim();
    int sms = prop.multiProcessorCount();
    double clockHz = prop.clockRate() * 1e3;
    double[] rate = perSmFlopsPerClock(prop.major(), prop.minor());
    if (rate == null) {
      throw new TrtException(
          String.format(
              Locale.ROOT,
              "no per-SM arithmetic rates known for compute capability %d.%d (%s)",
              prop.major(),
              prop.minor(),
              name));
    }
    double copy = copyBandwidth(512L << 20, 5);
    String source =
        String.format(
            Locale.ROOT,
            "%s (sm_%d%d, %d SMs at %.2f GHz): device copy %.0f GB/s measured; peaks %.1f TFLOP/s "
                + "float32, %.1f TFLOP/s fp16 tensor, from SMs x clock x per-SM rate",
            name,
            prop.major(),
            prop.minor(),
            sms,
            clockHz / 1e9,
            copy / 1e9,
            sms * clockHz * rate[0] / 1e12,
            sms * clockHz * rate[1] / 1e12);
    return new GpuCeilings(copy, sms * clockHz * rate[0], sms * clockHz * rate[1], source);
  }

  private static double copyBandwidth(long bytes, int repeats) {
    Pointer a = new Pointer();
    Pointer b = new Pointer();
    CUevent_st start = new CUevent_st();
    CUevent_st stop = new CUevent_st();
    try {
      Cuda.check(cudart.cudaMalloc(a, bytes), "cudaMalloc(" + bytes + ")");
      Cuda.check(cudart.cudaMalloc(b, bytes), "cudaMalloc(" + bytes + ")");
      Cuda.check(cudart.cudaMemset(a, 0x5A, bytes), "cudaMemset");
      Cuda.check(cudart.cudaEventCreate(start), "cudaEventCreate");
      Cuda.check(cudart.cudaEventCreate(stop), "cudaEventCreate");
      float best = Float.MAX_VALUE;
      float[] ms = new float[1];
      for (int r = -1; r < repeats; r++) {
        Cuda.check(cudart.cudaEventRecord(start), "cudaEventRecord");
        Cuda.check(cudart.cudaMemcpy(b, a, bytes, cudart.cudaMemcpyDeviceToDevice), "cudaMemcpy");
        Cuda.check(cudart.cudaEventRecord(stop), "cudaEventRecord");
        Cuda.check(cudart.cudaEventSynchronize(stop), "cudaEventSynchronize");
        Cuda.check(cudart.cudaEventElapsedTime(ms, start, stop), "cudaEventElapsedTime");
        if (r >= 0) {
          best = Math.min(best, ms[0]);
        }
      }
      return 2.0 * bytes / (best / 1e3);
    } finally {
      if (!a.isNull()) {
        cudart.cudaFree(a);
      }
      if (!b.isNull()) {
        cudart.cudaFree(b);
      }
      if (!start.isNull()) {
        cudart.cudaEventDestroy(start);
      }
      if (!stop.isNull()) {
        cudart.cudaEventDestroy(stop);
      }
    }
  }
}
