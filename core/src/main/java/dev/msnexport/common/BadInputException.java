package dev.msnexport.common;

/**
 * A user-supplied file, tensor, field or argument is wrong. The message always names the thing
 * (file path, tensor name, JSON field) so the user can fix it; the CLI maps this to exit code 4.
 */
public class BadInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BadInputException(String message) {
    super(message);
  }

  public BadInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
