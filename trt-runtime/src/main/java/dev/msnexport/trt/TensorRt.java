package dev.msnexport.trt;

import java.util.Locale;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;

/**
 * Is TensorRT usable in this process? Probes once: loads the JavaCPP bindings (which need
 * libnvinfer.so.10, the CUDA 12 runtime and the JNI jars of {@code org.bytedeco:tensorrt} and
 * {@code org.bytedeco:cuda}) and asks the CUDA runtime for a GPU. Every entry point of this package
 * calls {@link #require()} first, so a machine without a GPU or without TensorRT gets one clear
 * {@link TensorRtUnavailableException}, never an {@link UnsatisfiedLinkError} or a crash.
 */
public final class TensorRt {
  /** What the probe found: a GPU and TensorRT, or why not. */
  public record Status(boolean available, String reason, String tensorRtVersion, Gpu gpu) {}

  /** Device 0, the one every engine here runs on. */
  public record Gpu(String name, int major, int minor, long memoryBytes, int multiprocessors) {
    /** "9.0" for an H100. */
    public String computeCapability() {
      return major + "." + minor;
    }
  }

  static final String HINT =
      " (TensorRT needs an NVIDIA GPU with its driver (check: nvidia-smi lists the GPU), the TensorRT 10.x "
          + "libraries (libnvinfer.so.10), the CUDA 12 runtime (libcudart.so.12) and the linux-x86_64 jars of org.bytedeco:tensorrt, "
          + "org.bytedeco:cuda and org.bytedeco:javacpp on the class path. The GPU distribution brings all of them but the driver: build "
          + "it with `./mvnw -B package -Pgpu -DskipTests` and run bin/msn-export of "
          + "distribution/target/msn-export-VERSION-gpu-linux-x86_64.tar.gz (it puts its lib/native on LD_LIBRARY_PATH); or install "
          + "TensorRT 10.x and the CUDA 12 runtime yourself, put their library directories on LD_LIBRARY_PATH and add those jars to "
          + "the class path; README, \"With an NVIDIA GPU\", and docs/gpu.md)";

  /** The NVIDIA driver's CUDA library, which the driver installs (never part of a distribution). */
  static final String DRIVER_LIBRARY = "libcuda.so.1";

  private static final Lazy<Status> STATUS = new Lazy<>(TensorRt::probe);

  private TensorRt() {}

  public static boolean isAvailable() {
    return status().available();
  }

  /** Throws {@link TensorRtUnavailableException} unless TensorRT and a GPU are usable. */
  public static void require() {
    Status s = status();
    if (!s.available()) {
      throw new TensorRtUnavailableException(s.reason(), null);
    }
  }

  /** "10.6.0"; requires availability. */
  public static String version() {
    require();
    return status().tensorRtVersion();
  }

  /** Device 0; requires availability. */
  public static Gpu gpu() {
    require();
    return status().gpu();
  }

  public static Status status() {
    return STATUS.get();
  }

  private static Status probe() {
    if (Boolean.getBoolean("msn.trt.disable")) {
      return unavailable("disabled by -Dmsn.trt.disable=true");
    }
    String version;
    try {
      int v = nvinfer.getInferLibVersion(); // major * 10000 + minor * 100 + patch since TensorRT 10
      version = String.format(Locale.ROOT, "%d.%d.%d", v / 10000, (v / 100) % 100, v % 100);
    } catch (LinkageError
        | RuntimeException
            e) { // UnsatisfiedLinkError, NoClassDefFoundError, ExceptionInInitializerError
      String root = rootMessage(e);
      if (root.contains(
          DRIVER_LIBRARY)) { // the CUDA bindings link the driver's library: no driver installed
        return unavailable(
            "no NVIDIA driver: " + DRIVER_LIBRARY + " is not found (" + root + ")" + HINT);
      }
      return unavailable("cannot load the TensorRT libraries: " + root + HINT);
    }
    try {
      int[] n = new int[1];
      int st = cudart.cudaGetDeviceCount(n);
      if (st != cudart.cudaSuccess) {
        return unavailable(
            "no usable CUDA GPU: cudaGetDeviceCount failed with "
                + Cuda.errorString(st)
                + " (cudaError "
                + st
                + ")"
                + HINT);
      }
      if (n[0] < 1) {
        return unavailable("no CUDA GPU found" + HINT);
      }
      try (cudaDeviceProp p = new cudaDeviceProp()) {
        Cuda.check(cudart.cudaGetDeviceProperties(p, 0), "cudaGetDeviceProperties");
        BytePointer name = p.name();
        Gpu gpu =
            new Gpu(
                name.getString().trim(),
                p.major(),
                p.minor(),
                p.totalGlobalMem(),
                p.multiProcessorCount());
        return new Status(true, null, version, gpu);
      }
    } catch (LinkageError | RuntimeException e) {
      return unavailable("cannot use the CUDA runtime: " + rootMessage(e) + HINT);
    }
  }

  private static Status unavailable(String reason) {
    return new Status(false, reason, null, null);
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
