package dev.msnexport.verifier;

import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.BackendSpec;
import java.util.function.Consumer;

/**
 * The defaults every command shares, in one place: which profile judges an export when {@code
 * --profile} is absent, a TensorRT engine's precision and graph when nothing names them, and the
 * file name of a built plan.
 */
public final class Defaults {
  /** The profile used when neither {@code --profile} nor the export names one. */
  public static final String FALLBACK_PROFILE = "tiny";

  /** The baseline gate's limit when neither the option nor the profile gives one. */
  public static final double MAX_P99_REGRESSION = 0.10;

  /** Verify's batch of random inputs. */
  public static final int VERIFY_BATCH = 8;

  private Defaults() {}

  /**
   * {@code profileArg}, else the profile the export recorded (the built-in profile whose model it
   * is, {@link Profiles#builtInFor}), else {@value #FALLBACK_PROFILE} with a warning: its
   * tolerances and batch range were made for another model.
   */
  public static String profileName(String profileArg, ExportedModel m, Consumer<String> warn) {
    if (profileArg != null) {
      return profileArg;
    }
    if (m.profile() != null) {
      return m.profile();
    }
    warn.accept(
        m.dir()
            + " records no profile and --profile is not given: using "
            + FALLBACK_PROFILE
            + "'s tolerances and batch range, which were made for another model (pass --profile, or"
            + " export with --profile)");
    return FALLBACK_PROFILE;
  }

  /** {@link #profileName} loaded. */
  public static Profile profile(String profileArg, ExportedModel m, Consumer<String> warn) {
    return Profiles.load(profileName(profileArg, m, warn));
  }

  /**
   * A TensorRT engine's precision: {@code named} (the spec's, else {@code --precision}; null when
   * neither), else the profile's, else fp32.
   */
  public static BackendSpec.Precision precision(BackendSpec.Precision named, Profile profile) {
    if (named != null) {
      return named;
    }
    return profile.precision() != null
        ? BackendSpec.Precision.valueOf(profile.precision().toUpperCase(java.util.Locale.ROOT))
        : BackendSpec.Precision.FP32;
  }

  /** A TensorRT engine's graph: {@code named}, else custom (our plugins). */
  public static BackendSpec.Graph graph(BackendSpec.Graph named) {
    return named != null ? named : BackendSpec.Graph.CUSTOM;
  }

  /**
   * The file name of a plan built for the export: {@code engine.<graph>.<precision>.<profile>.plan}
   * (graph custom or reference, precision fp32 or fp16).
   */
  public static String planFile(String graph, String precision, String profile) {
    return "engine." + graph + "." + precision + "." + profile + ".plan";
  }

  /** The baseline gate's limit: {@code given}, else the profile's max_p99_regression, else 0.10. */
  public static double maxP99Regression(Double given, Profile p) {
    if (given != null) {
      return given;
    }
    return p.latency() != null && p.latency().maxP99Regression() > 0
        ? p.latency().maxP99Regression()
        : MAX_P99_REGRESSION;
  }

  /**
   * As {@link #maxP99Regression(Double, Profile)} for the profile a saved result names ({@code
   * compare}): {@value #MAX_P99_REGRESSION} when that profile cannot be loaded any more (a profile
   * file that is not here).
   */
  public static double maxP99RegressionOfSaved(String profile) {
    try {
      return maxP99Regression(null, Profiles.load(profile));
    } catch (BadInputException e) {
      return MAX_P99_REGRESSION;
    }
  }

  /**
   * The reference-graph gate's limit: {@code given}, else the profile's max_p99_ratio, else 0
   * (off).
   */
  public static double maxP99Ratio(Double given, Profile p) {
    if (given != null) {
      return given;
    }
    return p.latency() != null ? p.latency().maxP99Ratio() : 0;
  }
}
