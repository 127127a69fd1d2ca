package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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

  /** Command line (the export does not exist), option, accepted range as the message says it. */
  @ParameterizedTest(name = "{0}: usage error naming {1} and {2}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          # the issue's cases
          bench --model /nonexistent/model --max-p99-ratio NaN | --max-p99-ratio | 0..1000000
          bench --model /nonexistent/model --max-p99-regression NaN | --max-p99-regression | 0..1000000
          bench --model /nonexistent/model --iterations 2147483647 | --iterations | 1..10000000
          verify --model /nonexistent/model --health-samples 2000000000 | --health-samples | 0..100000
          inspect /nonexistent/model --health-samples 2000000000 | --health-samples | 0..100000
          pipeline --health-samples -1 | --health-samples | 0..100000
          # the other counts and limits
          bench --model /nonexistent/model --max-p99-ratio Infinity | --max-p99-ratio | 0..1000000
          bench --model /nonexistent/model --max-p99-regression -0.1 | --max-p99-regression | 0..1000000
          bench --model /nonexistent/model --batch 1,0 | --batch | 1..1048576
          verify --model /nonexistent/model --batch 0 | --batch | 1..1048576
          pipeline --batch -8 | --batch | 1..1048576
          bench --model /nonexistent/model --warmup-ms NaN | --warmup-ms | 0..3600000
          bench --model /nonexistent/model --warmup-ms -1 | --warmup-ms | 0..3600000
          bench --model /nonexistent/model --duration-s 0 | --duration-s | more than 0 and at most 86400
          bench --model /nonexistent/model --duration-s Infinity | --duration-s | more than 0 and at most 86400
          bench --model /nonexistent/model --iterations 0 | --iterations | 1..10000000
          bench --model /nonexistent/model --rounds 0 | --rounds | 1..1000000
          bench --model /nonexistent/model --resamples 0 | --resamples | 1..100000
          bench --model /nonexistent/model --confidence 1 | --confidence | more than 0 and less than 1
          bench --model /nonexistent/model --threads -1 | --threads | 0..1024
          verify --model /nonexistent/model --threads 100000 | --threads | 0..1024
          verify --model /nonexistent/model --atol NaN | --atol | 0..1000000
          verify --model /nonexistent/model --atol click:-1e-4 | --atol | 0..1000000
          verify --model /nonexistent/model --rtol click:Infinity | --rtol | 0..1000000
          verify --model /nonexistent/model --rtol click:x | --rtol | 0..1000000
          export --checkpoint /nonexistent/model --out /nonexistent/model --scoring-split-k 0 | --scoring-split-k | 1..64
          build --model /nonexistent/model --optimization-level 6 | --optimization-level | -1..5
          build --model /nonexistent/model --progress-seconds -1 | --progress-seconds | 0..86400
          compare a.json b.json --confidence NaN | --confidence | more than 0 and less than 1
          compare a.json b.json --max-p99-regression NaN | --max-p99-regression | 0..1000000
          compare a.json b.json --resamples -5 | --resamples | 1..100000
          """)
  void outOfRangeIsAUsageErrorNamingOptionAndRange(String command, String option, String range) {
    String[] args = command.split(" ");
    CliRun r = run(args);
    assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
    assertTrue(r.err().contains("'" + option + "'"), r.err());
    assertTrue(r.err().contains(range), r.err());
    assertFalse(r.err().contains("does not exist"), "checked before any file is read: " + r.err());
  }

  @Test
  void overflowingIntegersAreUsageErrorsToo() {
    CliRun r = cli("bench --model /nonexistent --iterations 99999999999");
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains("--iterations"), r.err());
    r = cli("verify --model /nonexistent --seed 99999999999999999999");
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains("--seed"), r.err());
  }

  @Test
  void valuesAtTheEdgesOfTheirRangePassTheCheck() {
    // in range: the command goes on and fails only on the missing export (exit 4)
    CliRun r = cli("bench --model /nonexistent --duration-s 86400 --confidence 0.999");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    r = cli("bench --model /nonexistent --iterations 10000000 --max-p99-ratio 0 --threads 1024");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    r = cli("verify --model /nonexistent --atol click:0,1e6 --rtol 0 --batch 1048576");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("does not exist"), r.err());
  }
}
