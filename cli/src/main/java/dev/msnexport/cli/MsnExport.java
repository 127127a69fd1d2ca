package dev.msnexport.cli;

import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The msn-export command line: one small class per subcommand. */
@Command(
    name = "msn-export",
    mixinStandardHelpOptions = true,
    versionProvider = MsnExport.Version.class,
    resourceBundle = "dev.msnexport.cli.HelpTexts",
    description =
        "Export MSN recommendation models to ONNX and TensorRT, and verify parity and latency.",
    subcommands = {
      PipelineCommand.class,
      ProfilesCommand.class,
      InitCommand.class,
      ExportCommand.class,
      BuildCommand.class,
      VerifyCommand.class,
      BenchCommand.class,
      CompareCommand.class,
      InspectCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success, every check passed",
      "1:parity failure",
      "2:usage error",
      "3:latency gate failure",
      "4:bad input (file, tensor or field named in the message)",
      "70:internal error"
    })
public final class MsnExport implements Runnable {
  /**
   * Environment variable that, set to anything, makes every error print its stack trace (as {@code
   * --verbose}).
   */
  static final String DEBUG_ENV = "MSN_EXPORT_DEBUG";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description =
          "On an error, also print its stack trace (as the environment variable "
              + DEBUG_ENV
              + " does).")
  boolean verbose;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  /**
   * The stack of the thread that runs a command. With the JVM's default 1 MB main-thread stack, a
   * process that ran ONNX Runtime and then a TensorRT engine died of SIGSEGV (exit 139, no JVM
   * error report) on an H100 with TensorRT 10.6; with 16 MB it ran (docs/gpu.md). Native code
   * running on a Java thread gets that thread's stack, so every command runs on one this large.
   */
  static final long COMMAND_STACK_BYTES = 64L << 20;

  public static void main(String[] args) throws InterruptedException {
    int[] code = {ExitCodes.INTERNAL};
    Thread t = new Thread(null, () -> code[0] = execute(args), "msn-export", COMMAND_STACK_BYTES);
    t.start();
    t.join();
    System.exit(code[0]);
  }

  /** Runs the command line and returns its exit code (tests call this). */
  public static int execute(String... args) {
    CommandLine cl = commandLine();
    try {
      return cl.execute(args);
    } catch (
        Throwable t) { // an Error (OutOfMemoryError, StackOverflowError) passes picocli's handlers
      return Errors.report(t, cl.getErr(), Errors.verbose(cl.getParseResult()));
    }
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new MsnExport());
    cl.setCaseInsensitiveEnumValuesAllowed(true); // --precision FP16 as fp16
    cl.setExecutionStrategy(
        parseResult -> {
          try {
            OptionRanges.check(parseResult);
          } catch (CommandLine.ParameterException e) {
            throw e;
          } catch (
              RuntimeException
                  e) { // a bug of the check itself: the one error mapping (exit 70), not picocli's
            // raw trace and exit 1
            throw new CommandLine.ExecutionException(
                parseResult.commandSpec().commandLine(), "checking the option ranges failed", e);
          }
          return new CommandLine.RunLast().execute(parseResult);
        });
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) ->
            Errors.report(ex, commandLine.getErr(), Errors.verbose(parseResult)));
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          PrintWriter err = ex.getCommandLine().getErr();
          err.println("msn-export: " + ex.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(
              ex, err); // "Did you mean: verify?" for a mistyped command or option
          err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
          return ExitCodes.USAGE;
        });
    return cl;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"msn-export " + MsnOnnxExporter.toolVersion()};
    }
  }
}
