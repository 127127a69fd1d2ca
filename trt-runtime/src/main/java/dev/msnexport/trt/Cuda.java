package dev.msnexport.trt;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;

/** CUDA runtime return codes made into exceptions that name the call. */
final class Cuda {
  private Cuda() {}

  static void check(int status, String call) {
    if (status != cudart.cudaSuccess) {
      throw new TrtException(
          call + " failed: " + errorString(status) + " (cudaError " + status + ")");
    }
  }

  static String errorString(int status) {
    try {
      BytePointer p = cudart.cudaGetErrorString(status);
      return p == null || p.isNull() ? "unknown CUDA error" : p.getString();
    } catch (LinkageError e) {
      return "unknown CUDA error";
    }
  }
}
