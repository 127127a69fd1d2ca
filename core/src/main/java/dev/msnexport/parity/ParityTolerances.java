package dev.msnexport.parity;

import java.util.Map;

/**
 * The tolerances of one comparison: a profile's for one precision ({@code base}), with overrides by
 * output name ({@code verify --atol click:1e-4}; the key {@code ""} overrides every output).
 */
public interface ParityTolerances {
  Tolerance base();

  /** atol overrides by output name, {@code ""} for every output. */
  Map<String, Double> atol();

  /** rtol overrides by output name, {@code ""} for every output. */
  Map<String, Double> rtol();

  default double atolFor(String output) {
    return atol().getOrDefault(output, atol().getOrDefault("", base().atol()));
  }

  /**
   * The rtol of an output. For retrieval weights, unless set for that output by name, at least
   * {@code 2 * tie_epsilon}: when every score moves by at most e (what tie_epsilon allows), the
   * softmax moves a weight w by at most about 2 e w.
   */
  default double rtolFor(String output) {
    if (rtol().containsKey(output)) {
      return rtol().get(output);
    }
    double r = rtol().getOrDefault("", base().rtol());
    return RunComparison.isWeights(output) ? Math.max(r, 2 * base().tieEpsilon()) : r;
  }

  static ParityTolerances of(Tolerance base, Map<String, Double> atol, Map<String, Double> rtol) {
    return new Of(base, atol, rtol);
  }

  /** A profile's tolerance with overrides. */
  record Of(Tolerance base, Map<String, Double> atol, Map<String, Double> rtol)
      implements ParityTolerances {}
}
