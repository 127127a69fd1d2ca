package dev.msnexport.verifier;

import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.ParityTolerances;
import dev.msnexport.parity.RunComparison;
import dev.msnexport.parity.Tolerance;
import dev.msnexport.profiles.Profile;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.golden.GoldenModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every backend on the same inputs and compares each one with every backend listed before it:
 * task outputs and retrieval weights numerically, retrieval slots with tie classification.
 */
public final class Verifier {
  private Verifier() {}

  /**
   * The profile's tolerance with per-output overrides ({@code --atol click:1e-4}); the rules
   * (retrieval weights at rtol >= 2 * tie_epsilon) are {@link ParityTolerances}'.
   */
  public record Tolerances(
      Tolerance base, Map<String, Double> atol, Map<String, Double> rtol, String precision)
      implements ParityTolerances {
    /** Tolerances whose precision is not named (reports give it as null). */
    public Tolerances(Tolerance base, Map<String, Double> atol, Map<String, Double> rtol) {
      this(base, atol, rtol, null);
    }

    /**
     * The same overrides on the profile's tolerance {@code base} of precision {@code precision}.
     */
    public Tolerances at(String precision, Tolerance base) {
      return new Tolerances(base, atol, rtol, precision);
    }

    /**
     * What these tolerances apply to {@code outputs}: the global atol/rtol and tie_epsilon, and
     * every output whose rtol is above the asked one (retrieval weights, {@link #rtolFor}).
     */
    public VerifyReport.AppliedTolerances applied(Iterable<String> outputs) {
      boolean typed = rtol().containsKey("");
      double asked = rtol().getOrDefault("", base().rtol());
      List<VerifyReport.RaisedRtol> raised = new ArrayList<>();
      for (String o : outputs) {
        double applied = rtolFor(o);
        if (applied > asked) {
          raised.add(
              new VerifyReport.RaisedRtol(
                  o,
                  asked,
                  applied,
                  String.format(
                      java.util.Locale.ROOT,
                      "retrieval weights get at least 2 * tie_epsilon (2 * %.2e), above %s: scores that move by up to tie_epsilon move "
                          + "a softmax weight w by up to about 2 * tie_epsilon * w; set it for the output by name (--rtol OUTPUT:V) to use "
                          + "another",
                      base().tieEpsilon(),
                      typed ? "the rtol given with --rtol" : "the profile's rtol")));
        }
      }
      return new VerifyReport.AppliedTolerances(
          precision, atol().getOrDefault("", base().atol()), asked, base().tieEpsilon(), raised);
    }
  }

  /** The tolerances of each pair of backends. */
  @FunctionalInterface
  public interface PairTolerances {
    Tolerances of(String candidate, String reference);

    /** Every pair at {@code tol}. */
    static PairTolerances same(Tolerances tol) {
      return (c, r) -> tol;
    }

    /**
     * Each pair at the tolerances of the lower precision of its two backends: a backend's precision
     * is {@code precisionOf} (by backend name; {@code fallback} for one not there), a pair's is the
     * candidate's unless that is fp32, then the reference's (so fp16 if either is fp16); {@code
     * tol} gives the overrides, {@code profile} the tolerance of each precision.
     */
    static PairTolerances byLowerPrecision(
        Profile profile, Tolerances tol, Map<String, String> precisionOf, String fallback) {
      return (c, r) -> {
        String pc = precisionOf.getOrDefault(c, fallback);
        String p = !"fp32".equals(pc) ? pc : precisionOf.getOrDefault(r, fallback);
        return tol.at(p, profile.tolerance(p));
      };
    }
  }

  /**
   * What one verification runs: {@code backends} on {@code inputs} (generated from {@code seed}),
   * recorded in the report with the model's label, the profile's name and the values dtype.
   */
  public record Subject(
      String modelLabel,
      String profile,
      String valuesDtype,
      List<Backend> backends,
      Map<String, HostTensor> inputs,
      long seed) {}

  /** Every pair of backends at {@code tol}. */
  public static VerifyReport run(Subject s, Tolerances tol) {
    return run(s, PairTolerances.same(tol), null, List.of());
  }

  /**
   * Each pair of backends at its own tolerances ({@code tol}). Before any value is compared, the
   * two backends' outputs must agree as a set with their shapes and dtypes: an output that one
   * lacks or gives otherwise fails the comparison ({@code output_set}), and the rest is compared.
   * Backend names must be distinct (else IllegalArgumentException). When {@code outputs} is not
   * null, every backend that ran puts its outputs there (by backend name, in run order), e.g. to
   * save them as a golden file. {@code marked} names intermediate tensors that backends were asked
   * to output too ({@code verify --mark-outputs}). They are compared apart, between every two
   * backends that produce them, and reported under {@code marked_outputs} (null when none were
   * marked); they never change the verdict.
   */
  public static VerifyReport run(
      Subject s,
      PairTolerances tol,
      Map<String, Map<String, HostTensor>> outputs,
      List<String> marked) {
    List<Backend> backends = s.backends();
    Map<String, HostTensor> inputs = s.inputs();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Backend b : backends) {
      if (!seen.add(b.name())) {
        throw new IllegalArgumentException(
            "backend " + b.name() + " is listed twice: each backend runs once");
      }
    }
    int batch = (int) inputs.get(MsnOnnxExporter.INPUT).shape()[0];
    List<VerifyReport.BackendRun> runs = new ArrayList<>();
    Map<String, Map<String, HostTensor>> results = new LinkedHashMap<>();
    GoldenModel.Result golden = null;
    boolean pass = true;
    for (Backend b : backends) {
      long t0 = System.nanoTime();
      try {
        Map<String, HostTensor> out = b.infer(inputs);
        results.put(b.name(), out);
        runs.add(new VerifyReport.BackendRun(b.name(), "ok", (System.nanoTime() - t0) / 1e9, null));
        if (b instanceof GoldenBackend g) {
          golden = g.lastResult();
        }
      } catch (BackendException e) {
        runs.add(
            new VerifyReport.BackendRun(
                b.name(), "error", (System.nanoTime() - t0) / 1e9, e.getMessage()));
        pass = false;
      }
    }
    List<VerifyReport.Comparison> comparisons = new ArrayList<>();
    List<VerifyReport.MarkedOutput> markedResults = marked.isEmpty() ? null : new ArrayList<>();
    List<String> names = new ArrayList<>(results.keySet());
    for (int j = 1; j < names.size(); j++) {
      for (int i = 0; i < j; i++) {
        Map<String, HostTensor> cand = results.get(names.get(j));
        Map<String, HostTensor> ref = results.get(names.get(i));
        Tolerances pairTol = tol.of(names.get(j), names.get(i));
        VerifyReport.Comparison c =
            compare(
                names.get(j),
                without(cand, marked),
                names.get(i),
                without(ref, marked),
                names.get(i).equals(GoldenBackend.NAME) ? golden : null,
                pairTol);
        comparisons.add(c);
        pass &= c.pass();
        for (String name : marked) {
          markedResults.add(
              compareMarked(
                  name, names.get(j), cand.get(name), names.get(i), ref.get(name), pairTol));
        }
      }
    }
    if (outputs != null) {
      outputs.putAll(results);
    }
    if (results.size() < 2) {
      pass = false; // nothing was compared: never report a pass
    }
    return new VerifyReport(
        VerifyReport.SCHEMA,
        MsnOnnxExporter.toolVersion(),
        s.modelLabel(),
        s.profile(),
        s.valuesDtype(),
        batch,
        s.seed(),
        pass,
        runs,
        comparisons,
        markedResults,
        null,
        null);
  }

  private static Map<String, HostTensor> without(
      Map<String, HostTensor> outputs, List<String> marked) {
    if (marked.isEmpty()) {
      return outputs;
    }
    Map<String, HostTensor> m = new LinkedHashMap<>(outputs);
    m.keySet().removeAll(marked);
    return m;
  }

  /**
   * One marked tensor, candidate against reference (either may be null: that backend does not
   * produce it).
   */
  static VerifyReport.MarkedOutput compareMarked(
      String name, String candName, HostTensor c, String refName, HostTensor r, Tolerances tol) {
    if (c == null || r == null) {
      String missing =
          c == null && r == null
              ? candName + " and " + refName + " do not"
              : (c == null ? candName : refName) + " does not";
      return new VerifyReport.MarkedOutput(
          name, candName, refName, missing + " produce it", null, null, null, null);
    }
    double[] cv = c.isInteger() ? RunComparison.toDouble(c.ints()) : c.floats();
    double[] rv = r.isInteger() ? RunComparison.toDouble(r.ints()) : r.floats();
    if (cv.length != rv.length) {
      return new VerifyReport.MarkedOutput(
          name,
          candName,
          refName,
          candName
              + " gives shape "
              + java.util.Arrays.toString(c.shape())
              + ", "
              + refName
              + " "
              + java.util.Arrays.toString(r.shape()),
          null,
          null,
          null,
          null);
    }
    OutputComparison oc =
        OutputComparison.of(name, r.shape(), cv, rv, tol.atolFor(name), tol.rtolFor(name));
    int at = -1;
    double worst = -1;
    for (int i = 0; i < rv.length; i++) {
      double e = Math.abs(cv[i] - rv[i]);
      if (Double.isNaN(e)) {
        e = Double.POSITIVE_INFINITY;
      }
      if (e > worst) {
        worst = e;
        at = i;
      }
    }
    return new VerifyReport.MarkedOutput(
        name,
        candName,
        refName,
        null,
        at < 0 ? new long[0] : position(at, r.shape()),
        at < 0 ? null : cv[at],
        at < 0 ? null : rv[at],
        oc);
  }

  /** The multi-index of flat (row-major) index {@code flat} in {@code shape}. */
  static long[] position(long flat, long[] shape) {
    long[] p = new long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      p[d] = shape[d] == 0 ? 0 : flat % shape[d];
      flat = shape[d] == 0 ? 0 : flat / shape[d];
    }
    return p;
  }

  /**
   * One pair of backends: first their output sets ({@link OutputSet#diff}: every output one lacks
   * or gives with another shape or dtype fails), then the outputs both gave alike by the rules of
   * {@link RunComparison}; golden scores classify ties where the reference is golden.
   */
  static VerifyReport.Comparison compare(
      String candName,
      Map<String, HostTensor> cand,
      String refName,
      Map<String, HostTensor> ref,
      GoldenModel.Result golden,
      Tolerances tol) {
    List<VerifyReport.OutputSetMismatch> mismatched = OutputSet.diff(cand, ref);
    Map<String, HostTensor> comparableRef = OutputSet.comparable(ref, mismatched);
    RunComparison c;
    try {
      c =
          RunComparison.of(
              OutputSet.comparable(cand, mismatched),
              comparableRef,
              golden == null
                  ? null
                  : layer -> {
                    GoldenModel.LayerRetrieval gl = golden.retrieval().get(layer);
                    return gl == null ? null : gl::score;
                  },
              tol);
    } catch (RunComparison.SizeMismatch e) {
      throw new BackendException(
          candName
              + ": output "
              + e.output()
              + " has "
              + e.candidate()
              + " elements, "
              + refName
              + " has "
              + e.reference());
    }
    return new VerifyReport.Comparison(
        candName,
        refName,
        c.pass() && mismatched.isEmpty(),
        tol.applied(ref.keySet()),
        mismatched,
        c.outputs(),
        c.retrieval());
  }
}
