package dev.msnexport.cli;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * The one place that turns what a command threw into a message and an exit code, for every command:
 * bad input (exit 4), usage (2), out of memory (4 when an input was too large to load, else 70,
 * with the {@code MSN_EXPORT_JAVA_OPTS=-Xmx...} hint), anything else internal (70). Never 1, the
 * parity-failure code. One line on stderr; the stack trace only with {@code --verbose} or {@link
 * MsnExport#DEBUG_ENV} set.
 */
final class Errors {
  private Errors() {}

  /**
   * Prints the one-line message (and, when {@code verbose}, the trace) and returns the exit code.
   */
  /** One warning line on stderr. */
  static void warn(String message) {
    System.err.println("msn-export: warning: " + message);
  }

  static int report(Throwable t, PrintWriter err, boolean verbose) {
    int code;
    if (t instanceof CommandLine.ParameterException pe) {
      err.println("msn-export: " + pe.getMessage());
      code = ExitCodes.USAGE;
    } else if (t instanceof BadInputException) {
      err.println("msn-export: error: " + oneLine(t.getMessage()));
      code = ExitCodes.BAD_INPUT;
    } else if (t instanceof OutOfMemoryError) {
      err.println(
          "msn-export: error: out of memory ("
              + t.getMessage()
              + "; the Java heap may grow to "
              + (Runtime.getRuntime().maxMemory() >> 20)
              + " MiB): give the JVM more, e.g. "
              + InputFiles.heapHint()
              + ", or ask for less (a smaller --batch)");
      code = ExitCodes.INTERNAL;
    } else {
      err.println(
          "msn-export: internal error: "
              + oneLine(t.toString())
              + (verbose
                  ? ""
                  : " (--verbose or "
                      + MsnExport.DEBUG_ENV
                      + "=1 prints the stack trace; please report it)"));
      code = ExitCodes.INTERNAL;
    }
    if (verbose) {
      t.printStackTrace(err);
    }
    err.flush();
    return code;
  }

  /** True when {@code --verbose} was given (to any command) or the debug variable is set. */
  static boolean verbose(CommandLine.ParseResult pr) {
    if (System.getenv(MsnExport.DEBUG_ENV) != null) {
      return true;
    }
    for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ");
  }
}
