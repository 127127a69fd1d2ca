package dev.msnexport.trt;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.bytedeco.tensorrt.nvinfer.ILogger;

/**
 * The one TensorRT logger of this process (TensorRT expects every builder and runtime to share one,
 * and it must outlive them, so it is a never-collected singleton). Warnings and errors go to stderr
 * prefixed with {@code [TensorRT]}; info and verbose lines only with {@code
 * -Dmsn.trt.verbose=true}. The last errors are kept so a failed call can say why.
 */
public final class TrtLogger extends ILogger {
  private static final int KEEP = 20;
  private static final Lazy<TrtLogger> INSTANCE = new Lazy<>(TrtLogger::new);

  private final boolean verbose = Boolean.getBoolean("msn.trt.verbose");
  private final Deque<String> errors = new ArrayDeque<>();

  private TrtLogger() {}

  /**
   * The process-wide logger; first use loads TensorRT (callers check {@link TensorRt#require()}
   * first).
   */
  public static TrtLogger get() {
    return INSTANCE.get();
  }

  @Override
  public void log(Severity severity, String msg) {
    Severity s = severity.intern();
    boolean error = s == Severity.kERROR || s == Severity.kINTERNAL_ERROR;
    if (error) {
      synchronized (errors) {
        if (errors.size() == KEEP) {
          errors.removeFirst();
        }
        errors.addLast(msg);
      }
    }
    if (error || s == Severity.kWARNING || verbose) {
      System.err.println("[TensorRT] " + s.name().substring(1) + ": " + msg);
    }
  }

  /** Forgets earlier errors, so that {@link #errorsSince()} reports only the next call's. */
  public void clearErrors() {
    synchronized (errors) {
      errors.clear();
    }
  }

  /** Errors logged since the last {@link #clearErrors()}, oldest first. */
  public List<String> errorsSince() {
    synchronized (errors) {
      return new ArrayList<>(errors);
    }
  }

  /** "; TensorRT said: a | b" or "" when nothing was logged. */
  public String describeErrors() {
    List<String> e = errorsSince();
    return e.isEmpty() ? "" : "; TensorRT said: " + String.join(" | ", e);
  }
}
