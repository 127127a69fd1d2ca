package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.cli.ImportCliTest.Run;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every numeric option of every command is range-checked at parse time (issue 12): NaN, infinities,
 * negative or zero counts where meaningless, overflowing and absurd values are a usage error (exit
 * 2) naming the option and the accepted range, before any file is read.
 */
class OptionRangeTest {
  private static final Set<Class<?>> NUMERIC =
      Set.of(
          int.class,
          long.class,
          double.class,
          float.class,
          short.class,
          Integer.class,
          Long.class,
          Double.class,
          Float.class,
          Short.class);

  /** Options whose String values hold numbers ([OUTPUT:]VALUE). */
  private static final Set<String> NUMBER_STRINGS = Set.of("--atol", "--rtol");

  static List<CommandLine> allCommands() {
    List<CommandLine> all = new ArrayList<>();
    collect(MsnExport.commandLine(), all);
    return all;
  }

  private static void collect(CommandLine cl, List<CommandLine> all) {
    all.add(cl);
    cl.getSubcommands().values().forEach(c -> collect(c, all));
  }

  private static boolean numeric(OptionSpec o) {
    Class<?>[] aux = o.auxiliaryTypes();
    return NUMERIC.contains(o.type())
        || (aux.length > 0 && NUMERIC.contains(aux[0]))
        || NUMBER_STRINGS.contains(o.longestName());
  }

  /**
   * A @Range that slid onto a flag (an option inserted between it and its own @Option) would crash
   * the check.
   */
  @Test
  void onlyNumericOptionsCarryARange() {
    for (CommandLine cl : allCommands()) {
      for (OptionSpec o : cl.getCommandSpec().options()) {
        if (OptionRanges.rangeOf(o) != null) {
          assertTrue(
              numeric(o),
              cl.getCommandSpec().qualifiedName()
                  + " "
                  + o.longestName()
                  + " has a @Range but is not numeric");
        }
      }
    }
  }

  @Test
  void everyNumericOptionOfEveryCommandHasARangeThatHoldsItsDefault() {
    int checked = 0;
    for (CommandLine cl : allCommands()) {
      for (OptionSpec o : cl.getCommandSpec().options()) {
        if (!numeric(o)) {
          continue;
        }
        String where = cl.getCommandSpec().qualifiedName() + " " + o.longestName();
        Range r = OptionRanges.rangeOf(o);
        assertNotNull(r, where + " has no @Range");
        assertTrue(r.min() <= r.max(), where);
        if (o.defaultValue() != null && !r.keyed()) {
          assertTrue(
              OptionRanges.within(Double.parseDouble(o.defaultValue()), r),
              where + " default " + o.defaultValue() + " is out of range");
        }
        checked++;
      }
    }
    assertTrue(checked >= 25, "numeric options found: " + checked);
  }

  static Stream<Arguments> outOfRange() {
    String m = "/nonexistent/model";
    return Stream.of(
        // the cases
        Arguments.of(
            new String[] {"bench", "--model", m, "--max-p99-ratio", "NaN"},
            "--max-p99-ratio",
            "0..1000000"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--max-p99-regression", "NaN"},
            "--max-p99-regression",
            "0..1000000"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--iterations", "2147483647"},
            "--iterations",
            "1..10000000"),
        Arguments.of(
            new String[] {"verify", "--model", m, "--health-samples", "2000000000"},
            "--health-samples",
            "0..100000"),
        Arguments.of(
            new String[] {"inspect", m, "--health-samples", "2000000000"},
            "--health-samples",
            "0..100000"),
        Arguments.of(
            new String[] {"pipeline", "--health-samples", "-1"}, "--health-samples", "0..100000"),
        // the other counts and limits
        Arguments.of(
            new String[] {"bench", "--model", m, "--max-p99-ratio", "Infinity"},
            "--max-p99-ratio",
            "0..1000000"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--max-p99-regression", "-0.1"},
            "--max-p99-regression",
            "0..1000000"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--batch", "1,0"}, "--batch", "1..1048576"),
        Arguments.of(
            new String[] {"verify", "--model", m, "--batch", "0"}, "--batch", "1..1048576"),
        Arguments.of(new String[] {"pipeline", "--batch", "-8"}, "--batch", "1..1048576"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--warmup-ms", "NaN"},
            "--warmup-ms",
            "0..3600000"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--warmup-ms", "-1"}, "--warmup-ms", "0..3600000"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--duration-s", "0"},
            "--duration-s",
            "more than 0 and at most 86400"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--duration-s", "Infinity"},
            "--duration-s",
            "more than 0 and at most 86400"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--iterations", "0"},
            "--iterations",
            "1..10000000"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--rounds", "0"}, "--rounds", "1..1000000"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--resamples", "0"}, "--resamples", "1..100000"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--confidence", "1"},
            "--confidence",
            "more than 0 and less than 1"),
        Arguments.of(
            new String[] {"bench", "--model", m, "--threads", "-1"}, "--threads", "0..1024"),
        Arguments.of(
            new String[] {"verify", "--model", m, "--threads", "100000"}, "--threads", "0..1024"),
        Arguments.of(
            new String[] {"verify", "--model", m, "--atol", "NaN"}, "--atol", "0..1000000"),
        Arguments.of(
            new String[] {"verify", "--model", m, "--atol", "click:-1e-4"}, "--atol", "0..1000000"),
        Arguments.of(
            new String[] {"verify", "--model", m, "--rtol", "click:Infinity"},
            "--rtol",
            "0..1000000"),
        Arguments.of(
            new String[] {"verify", "--model", m, "--rtol", "click:x"}, "--rtol", "0..1000000"),
        Arguments.of(
            new String[] {"export", "--checkpoint", m, "--out", m, "--scoring-split-k", "0"},
            "--scoring-split-k",
            "1..64"),
        Arguments.of(
            new String[] {"build", "--model", m, "--optimization-level", "6"},
            "--optimization-level",
            "-1..5"),
        Arguments.of(
            new String[] {"build", "--model", m, "--progress-seconds", "-1"},
            "--progress-seconds",
            "0..86400"),
        Arguments.of(
            new String[] {"compare", "a.json", "b.json", "--confidence", "NaN"},
            "--confidence",
            "more than 0 and less than 1"),
        Arguments.of(
            new String[] {"compare", "a.json", "b.json", "--max-p99-regression", "NaN"},
            "--max-p99-regression",
            "0..1000000"),
        Arguments.of(
            new String[] {"compare", "a.json", "b.json", "--resamples", "-5"},
            "--resamples",
            "1..100000"));
  }

  @ParameterizedTest
  @MethodSource("outOfRange")
  void outOfRangeIsAUsageErrorNamingOptionAndRange(String[] args, String option, String range) {
    Run r = ImportCliTest.run(args);
    assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
    assertTrue(r.err().contains("'" + option + "'"), r.err());
    assertTrue(r.err().contains(range), r.err());
    assertFalse(r.err().contains("does not exist"), "checked before any file is read: " + r.err());
  }

  @Test
  void overflowingIntegersAreUsageErrorsToo() {
    Run r = ImportCliTest.run("bench", "--model", "/nonexistent", "--iterations", "99999999999");
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains("--iterations"), r.err());
    r = ImportCliTest.run("verify", "--model", "/nonexistent", "--seed", "99999999999999999999");
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains("--seed"), r.err());
  }

  @Test
  void valuesAtTheEdgesOfTheirRangePassTheCheck() {
    // in range: the command goes on and fails only on the missing export (exit 4)
    Run r =
        ImportCliTest.run(
            "bench", "--model", "/nonexistent", "--duration-s", "86400", "--confidence", "0.999");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    r =
        ImportCliTest.run(
            "bench",
            "--model",
            "/nonexistent",
            "--iterations",
            "10000000",
            "--max-p99-ratio",
            "0",
            "--threads",
            "1024");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    r =
        ImportCliTest.run(
            "verify",
            "--model",
            "/nonexistent",
            "--atol",
            "click:0,1e6",
            "--rtol",
            "0",
            "--batch",
            "1048576");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("does not exist"), r.err());
  }
}
