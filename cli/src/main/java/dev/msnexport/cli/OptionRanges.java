package dev.msnexport.cli;

import java.lang.reflect.Field;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Checks every option that carries a {@link Range} against it, for the command that was parsed and
 * its parents: one place instead of checks in each command. A value outside the range, NaN or an
 * infinity is a {@link CommandLine.ParameterException} (exit 2) that names the option, the value
 * and the accepted range. Integer overflow needs no check here: picocli refuses a number that does
 * not fit the option's type.
 */
final class OptionRanges {
  static final double MAX_BATCH = 1 << 20;
  static final double MAX_THREADS = 1024;

  /** 10 million timed runs (80 MB of samples per backend and batch size). */
  static final double MAX_ITERATIONS = 10_000_000;

  static final double MAX_RESAMPLES = 100_000;
  static final double MAX_HEALTH_SAMPLES = 100_000;

  /** Latency limits: a p99 ratio or regression beyond a million is no gate. */
  static final double MAX_RATIO = 1e6;

  static final double MAX_TOLERANCE = 1e6;

  private OptionRanges() {}

  /**
   * Checks the options of every command on the parse path (the command and its subcommand, ...).
   */
  static void check(ParseResult pr) {
    for (ParseResult p = pr; p != null; p = p.subcommand()) {
      for (OptionSpec o : p.commandSpec().options()) {
        Range r = rangeOf(o);
        if (r != null) {
          check(p.commandSpec().commandLine(), o.longestName(), r, o.getValue());
        }
      }
    }
  }

  /** The {@link Range} on the option's field, or null. */
  static Range rangeOf(OptionSpec o) {
    return o.userObject() instanceof Field f ? f.getAnnotation(Range.class) : null;
  }

  static void check(CommandLine cl, String option, Range r, Object value) {
    if (value == null) {
      return;
    }
    for (Object v : value instanceof Collection<?> c ? c : List.of(value)) {
      if (v == null) {
        continue;
      }
      double x;
      if (r.keyed()) {
        String s = v.toString();
        try {
          x = Double.parseDouble(s.substring(s.lastIndexOf(':') + 1).strip());
        } catch (NumberFormatException e) {
          throw new CommandLine.ParameterException(
              cl,
              "Invalid value for option '"
                  + option
                  + "': '"
                  + s
                  + "' is not [OUTPUT:]VALUE with VALUE a number in "
                  + describe(r));
        }
      } else {
        x = ((Number) v).doubleValue();
      }
      if (!within(x, r)) {
        throw new CommandLine.ParameterException(
            cl,
            "Invalid value for option '"
                + option
                + "': "
                + v
                + " is outside the accepted range "
                + describe(r));
      }
    }
  }

  /** False for NaN and for infinities past a finite bound. */
  static boolean within(double x, Range r) {
    boolean low = r.minExclusive() ? x > r.min() : x >= r.min();
    boolean high = r.maxExclusive() ? x < r.max() : x <= r.max();
    return low && high;
  }

  /** "1..10000000", or with open ends "more than 0 and at most 86400". */
  static String describe(Range r) {
    if (!r.minExclusive() && !r.maxExclusive()) {
      return format(r.min()) + ".." + format(r.max());
    }
    return (r.minExclusive() ? "more than " : "at least ")
        + format(r.min())
        + " and "
        + (r.maxExclusive() ? "less than " : "at most ")
        + format(r.max());
  }

  private static String format(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return String.format(Locale.ROOT, "%s", d);
  }
}
