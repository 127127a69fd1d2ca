package dev.msnexport.verifier.backend;

/**
 * A backend failed to load or to run; the message names the backend and carries the native error.
 */
public class BackendException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BackendException(String message, Throwable cause) {
    super(message, cause);
  }

  public BackendException(String message) {
    super(message);
  }
}
