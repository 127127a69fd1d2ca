package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One error mapping for every command ({@link Errors}): out of memory is exit 4 when an input was
 * too large to load, else 70, never 1 (parity failure), with a one-line message and the
 * MSN_EXPORT_JAVA_OPTS hint; no stack trace unless --verbose or MSN_EXPORT_DEBUG.
 */
class ErrorMappingTest {
  @TempDir static Path tmp;
  static Path small;

  @BeforeAll
  static void smallExport() {
    Path ck = tmp.resolve("ck");
    small = tmp.resolve("small");
    assertEquals(0, CliRun.cli("init --profile small --out {}", ck).code());
    assertEquals(
        0, CliRun.cli("export --checkpoint {} --out {} --profile small", ck, small).code());
  }

  private static String report(Throwable t, boolean verbose, int expectedCode) {
    StringWriter err = new StringWriter();
    assertEquals(expectedCode, Errors.report(t, new PrintWriter(err), verbose), t.toString());
    return err.toString();
  }

  @Test
  void outOfMemoryIsAnInternalErrorWithTheHeapHintOnOneLine() {
    String err = report(new OutOfMemoryError("Java heap space"), false, ExitCodes.INTERNAL);
    assertEquals(1, err.strip().lines().count(), err);
    assertTrue(
        err.contains("out of memory (Java heap space") && err.contains("MSN_EXPORT_JAVA_OPTS=-Xmx"),
        err);
    assertFalse(err.contains("\tat "), err);
    assertTrue(
        report(new OutOfMemoryError("Java heap space"), true, ExitCodes.INTERNAL).contains("\tat "),
        "--verbose: the trace");
  }

  @Test
  void anInternalErrorIsOneLineWithoutItsTraceUnlessVerbose() {
    String err = report(new IllegalStateException("boom\nsecond line"), false, ExitCodes.INTERNAL);
    assertEquals(1, err.strip().lines().count(), err);
    assertTrue(
        err.contains("internal error: java.lang.IllegalStateException: boom second line")
            && err.contains("--verbose"),
        err);
    String verbose = report(new IllegalStateException("boom"), true, ExitCodes.INTERNAL);
    assertTrue(verbose.contains("\tat dev.msnexport.cli.ErrorMappingTest"), verbose);
    assertEquals(
        ExitCodes.BAD_INPUT,
        Errors.report(new BadInputException("x"), new PrintWriter(new StringWriter()), false));
  }

  /** A loader that runs out of heap. */
  static java.util.function.Supplier<Object> outOfHeap() {
    return () -> {
      throw new OutOfMemoryError("Java heap space");
    };
  }

  @Test
  void runningOutOfMemoryWhileLoadingAnInputIsBadInputNamingIt() {
    Path f = Path.of("/data/config.json");
    BadInputException e =
        assertThrows(BadInputException.class, () -> InputFiles.load(f, "config file", outOfHeap()));
    assertTrue(
        e.getMessage().contains("config file /data/config.json is too large to load"),
        e.getMessage());
    assertTrue(e.getMessage().contains("MSN_EXPORT_JAVA_OPTS=-Xmx"), e.getMessage());
    assertEquals(ExitCodes.BAD_INPUT, Errors.report(e, new PrintWriter(new StringWriter()), false));
  }

  @Test
  void verboseIsAnOptionOfEveryCommand() {
    CliRun r = CliRun.cli("profiles --verbose");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    r = CliRun.cli("inspect --verbose {}", tmp.resolve("missing"));
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
  }

  record Proc(int code, String err) {}

  /** The CLI in a JVM of its own with {@code heap} (-Xmx) and {@code env}. */
  static Proc cli(String heap, Map<String, String> env, String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap,
                "-cp",
                System.getProperty("java.class.path"),
                MsnExport.class.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().remove(MsnExport.DEBUG_ENV);
    pb.environment().putAll(env);
    Process p = pb.start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    return new Proc(p.exitValue(), err);
  }

  @Test
  void verifyOutOfHeapExits70WithAHintNever1() throws Exception {
    // the case: small at batch 512 in a 24 MiB heap (the golden model's activations do not
    // fit)
    String[] verify =
        CliRun.args(
            "verify --model {} --batch 512 --backends golden,ort-reference --health-samples 0",
            small);
    Proc p = cli("24m", Map.of(), verify);
    assertEquals(ExitCodes.INTERNAL, p.code(), p.err());
    assertTrue(
        p.err().contains("out of memory") && p.err().contains("MSN_EXPORT_JAVA_OPTS=-Xmx"),
        p.err());
    assertFalse(p.err().contains("\tat "), "no trace without --verbose: " + p.err());
    Proc debug = cli("24m", Map.of(MsnExport.DEBUG_ENV, "1"), verify);
    assertEquals(ExitCodes.INTERNAL, debug.code(), debug.err());
    assertTrue(
        debug.err().contains("java.lang.OutOfMemoryError") && debug.err().contains("\tat "),
        debug.err());
  }

  @Test
  void anInputTooLargeForTheHeapExits4NamingIt() throws Exception {
    Path onnx = small.resolve("model.custom.onnx");
    Proc p = cli("8m", Map.of(), "inspect", onnx.toString());
    assertEquals(ExitCodes.BAD_INPUT, p.code(), p.err());
    assertTrue(
        p.err().contains("ONNX model " + onnx + " is too large to load")
            && p.err().contains("MSN_EXPORT_JAVA_OPTS=-Xmx"),
        p.err());
  }
}
