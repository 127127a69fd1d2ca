package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * One in-process run of {@code msn-export} as the cli tests see it: exit code, stdout and stderr.
 * Command lines are written as templates ({@code "export --checkpoint {} --out {}"}) whose {@code
 * {}} words take the given values, so that a path with a space stays one argument.
 */
public record CliRun(int code, String out, String err) {

  /** Through {@link MsnExport#commandLine()}: picocli's error stream is captured. */
  public static synchronized CliRun run(String... args) {
    CommandLine cl = MsnExport.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    return capturingStdout(() -> cl.execute(args), err::toString);
  }

  /** Through {@link MsnExport#execute}, main's path (Errors included): System.err is captured. */
  public static synchronized CliRun execute(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      System.setErr(ps);
      return capturingStdout(
          () -> MsnExport.execute(args), () -> err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }

  private static CliRun capturingStdout(
      java.util.function.IntSupplier command, java.util.function.Supplier<String> err) {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int code = command.getAsInt();
      return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.get());
    } finally {
      System.setOut(saved);
    }
  }

  /** {@link #execute} of a template. */
  public static CliRun exec(String template, Object... values) {
    return execute(args(template, values));
  }

  /** {@link #run} of a template. */
  public static CliRun cli(String template, Object... values) {
    return run(args(template, values));
  }

  /**
   * The words of {@code template}, each {@code {}} in them replaced by the next of {@code values}
   * ({@link String#valueOf}); every value must be used.
   */
  public static String[] args(String template, Object... values) {
    List<String> words = new ArrayList<>();
    int next = 0;
    for (String word : template.trim().split("\\s+")) {
      StringBuilder w = new StringBuilder();
      int from = 0;
      for (int at; (at = word.indexOf("{}", from)) >= 0; from = at + 2) {
        w.append(word, from, at).append(values[next++]);
      }
      words.add(w.append(word.substring(from)).toString());
    }
    assertEquals(values.length, next, "values left over for: " + template);
    return words.toArray(String[]::new);
  }

  /** {@code a} followed by the words of a template. */
  public static String[] cat(String[] a, String template, Object... values) {
    String[] b = args(template, values);
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /**
   * {@code init --profile tiny --out CK INIT_OPTIONS} then {@code export --checkpoint CK --out
   * MODEL EXPORT_OPTIONS}, both exit 0.
   */
  public static Path tinyExport(Path ck, Path model, String initOptions, String exportOptions) {
    return initAndExport("tiny", ck, model, initOptions, exportOptions);
  }

  /** {@link #tinyExport} of another profile. */
  public static Path initAndExport(
      String profile, Path ck, Path model, String initOptions, String exportOptions) {
    cli("init --profile {} --out {} " + initOptions, profile, ck).expect(ExitCodes.OK);
    cli("export --checkpoint {} --out {} " + exportOptions, ck, model).expect(ExitCodes.OK);
    return model;
  }

  /** Asserts the exit code and that stderr names every one of {@code named}. */
  public CliRun expect(int expectedCode, String... named) {
    assertEquals(expectedCode, code, out + err);
    for (String s : named) {
      assertTrue(err.contains(s), "'" + s + "' in: " + err);
    }
    return this;
  }

  /** Exit code 0. */
  public CliRun ok() {
    return expect(ExitCodes.OK);
  }
}
