package dev.msnexport.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The accepted range of a numeric option (on the field beside its {@code @Option}); {@link
 * OptionRanges} checks every value, defaults included, after parsing and before any command runs:
 * out of range, NaN or infinite is a usage error (exit 2) naming the option and this range. Every
 * numeric option of every command carries one (OptionRangeTest holds it so).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
@interface Range {
  double min();

  double max();

  /** The value must be above {@link #min()}, not equal to it (e.g. a duration). */
  boolean minExclusive() default false;

  /** The value must be below {@link #max()}, not equal to it (e.g. a confidence). */
  boolean maxExclusive() default false;

  /**
   * A {@code [KEY:]VALUE} string option (verify's {@code --atol click:1e-4}): the number after the
   * last ':' is checked.
   */
  boolean keyed() default false;
}
