package dev.msnexport.trt;

/**
 * A TensorRT or CUDA call failed. The message names the call and carries TensorRT's own error
 * messages (from {@link TrtLogger}) or the CUDA error string.
 */
public class TrtException extends RuntimeException {
  public TrtException(String message) {
    super(message);
  }

  public TrtException(String message, Throwable cause) {
    super(message, cause);
  }
}
