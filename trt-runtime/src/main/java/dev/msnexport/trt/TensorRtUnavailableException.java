package dev.msnexport.trt;

/**
 * TensorRT cannot run here: its libraries, the CUDA runtime or a GPU are missing. The message
 * always starts with "TensorRT is not available on this machine: " and says what was missing, so a
 * command can report it and go on (or exit 4 when the user asked for TensorRT explicitly).
 */
public class TensorRtUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public static final String PREFIX = "TensorRT is not available on this machine: ";

  public TensorRtUnavailableException(String reason, Throwable cause) {
    super(PREFIX + reason, cause);
  }
}
