package dev.msnexport.cli;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The msn-export command line: one small class per subcommand. */
@Command(name = "msn-export", mixinStandardHelpOptions = true, versionProvider = MsnExport.Version.class,
    description = "Export MSN recommendation models to ONNX and TensorRT, and verify parity and latency.",
    subcommands = {PipelineCommand.class, ProfilesCommand.class, InitCommand.class, ExportCommand.class, BuildCommand.class,
        VerifyCommand.class, BenchCommand.class, CompareCommand.class, InspectCommand.class, CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success, every check passed", "1:parity failure", "2:usage error", "3:latency gate failure",
        "4:bad input (file, tensor or field named in the message)", "70:internal error"})
public final class MsnExport implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (tests call this). */
  public static int execute(String... args) {
    CommandLine cl = commandLine();
    return cl.execute(args);
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new MsnExport());
    cl.setCaseInsensitiveEnumValuesAllowed(true); // --precision FP16 as fp16
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      PrintWriter err = commandLine.getErr();
      if (ex instanceof BadInputException) {
        err.println("msn-export: error: " + ex.getMessage());
        return ExitCodes.BAD_INPUT;
      }
      if (ex instanceof CommandLine.ParameterException pe) {
        err.println("msn-export: " + pe.getMessage());
        return ExitCodes.USAGE;
      }
      err.println("msn-export: internal error: " + ex);
      ex.printStackTrace(err);
      return ExitCodes.INTERNAL;
    });
    cl.setParameterExceptionHandler((ex, args) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("msn-export: " + ex.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, err); // "Did you mean: verify?" for a mistyped command or option
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
