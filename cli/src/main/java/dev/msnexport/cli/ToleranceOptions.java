package dev.msnexport.cli;

import dev.msnexport.common.BadInputException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Verify's {@code --atol} and {@code --rtol} (a picocli mixin). */
final class ToleranceOptions {
  @Range(min = 0, max = OptionRanges.MAX_TOLERANCE, keyed = true)
  @Option(
      names = "--atol",
      split = ",",
      paramLabel = "[OUTPUT:]VALUE",
      description = "Absolute tolerance, for all outputs or one.")
  List<String> atol = new ArrayList<>();

  @Option(
      names = "--rtol",
      split = ",",
      paramLabel = "[OUTPUT:]VALUE",
      description = "Relative tolerance, for all outputs or one.")
  @Range(min = 0, max = OptionRanges.MAX_TOLERANCE, keyed = true)
  List<String> rtol = new ArrayList<>();

  Map<String, Double> atol() {
    return parse("--atol", atol);
  }

  Map<String, Double> rtol() {
    return parse("--rtol", rtol);
  }

  /** "1e-4" applies to every output (key ""), "click:1e-4" to one. */
  static Map<String, Double> parse(String option, List<String> specs) {
    Map<String, Double> m = new HashMap<>();
    for (String s : specs) {
      int colon = s.lastIndexOf(':');
      String key = colon < 0 ? "" : s.substring(0, colon);
      try {
        double v = Double.parseDouble(s.substring(colon + 1));
        if (!(v >= 0) || Double.isInfinite(v)) {
          throw new NumberFormatException();
        }
        m.put(key, v);
      } catch (NumberFormatException e) {
        throw new BadInputException(
            option + ": '" + s + "' is not [OUTPUT:]VALUE with a non-negative number");
      }
    }
    return m;
  }
}
