package dev.msnexport.verifier;

import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profile;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.HostTensor;
import dev.msnexport.verifier.golden.GoldenModel;
import dev.msnexport.verifier.parity.OutputComparison;
import dev.msnexport.verifier.parity.RetrievalComparison;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every backend on the same inputs and compares each one with every backend listed before
 * it: task outputs and retrieval weights numerically, retrieval slots with tie classification.
 */
public final class Verifier {
  private Verifier() {}

  /** A per-output override of the profile's tolerance ({@code --atol click:1e-4}). */
  public record Tolerances(Profile.Tolerance base, Map<String, Double> atol, Map<String, Double> rtol) {
    double atolFor(String output) {
      return atol.getOrDefault(output, atol.getOrDefault("", base.atol()));
    }

    /**
     * The rtol of an output. For retrieval weights, unless set for that output by name, at least
     * {@code 2 * tie_epsilon}: when every score moves by at most e (what tie_epsilon allows), the
     * softmax moves a weight w by at most about 2 e w.
     */
    double rtolFor(String output) {
      if (rtol.containsKey(output)) {
        return rtol.get(output);
      }
      double r = rtol.getOrDefault("", base.rtol());
      return isWeights(output) ? Math.max(r, 2 * base.tieEpsilon()) : r;
    }
  }

  static boolean isWeights(String output) {
    return output.startsWith("retrieval.") && output.endsWith(".weights");
  }

  public static VerifyReport run(String modelLabel, String profile, String valuesDtype, List<Backend> backends,
      Map<String, HostTensor> inputs, long seed, Tolerances tol) {
    return run(modelLabel, profile, valuesDtype, backends, inputs, seed, tol, null);
  }

  /**
   * As above; when {@code outputs} is not null, every backend that ran puts its outputs there
   * (by backend name, in run order), e.g. to save them as a golden file.
   */
  public static VerifyReport run(String modelLabel, String profile, String valuesDtype, List<Backend> backends,
      Map<String, HostTensor> inputs, long seed, Tolerances tol, Map<String, Map<String, HostTensor>> outputs) {
    return run(modelLabel, profile, valuesDtype, backends, inputs, seed, tol, outputs, List.of());
  }

  /**
   * As above; {@code marked} names intermediate tensors that backends were asked to output too
   * ({@code verify --mark-outputs}). They are compared apart, between every two backends that
   * produce them, and reported under {@code marked_outputs} (null when none were marked); they
   * never change the verdict.
   */
  public static VerifyReport run(String modelLabel, String profile, String valuesDtype, List<Backend> backends,
      Map<String, HostTensor> inputs, long seed, Tolerances tol, Map<String, Map<String, HostTensor>> outputs, List<String> marked) {
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
        runs.add(new VerifyReport.BackendRun(b.name(), "error", (System.nanoTime() - t0) / 1e9, e.getMessage()));
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
        VerifyReport.Comparison c = compare(names.get(j), without(cand, marked), names.get(i), without(ref, marked),
            names.get(i).equals(GoldenBackend.NAME) ? golden : null, tol);
        comparisons.add(c);
        pass &= c.pass();
        for (String name : marked) {
          markedResults.add(compareMarked(name, names.get(j), cand.get(name), names.get(i), ref.get(name), tol));
        }
      }
    }
    if (outputs != null) {
      outputs.putAll(results);
    }
    if (results.size() < 2) {
      pass = false; // nothing was compared: never report a pass
    }
    return new VerifyReport(VerifyReport.SCHEMA, MsnOnnxExporter.toolVersion(), modelLabel, profile, valuesDtype, batch, seed, pass, runs,
        comparisons).withMarkedOutputs(markedResults);
  }

  private static Map<String, HostTensor> without(Map<String, HostTensor> outputs, List<String> marked) {
    if (marked.isEmpty()) {
      return outputs;
    }
    Map<String, HostTensor> m = new LinkedHashMap<>(outputs);
    m.keySet().removeAll(marked);
    return m;
  }

  /** One marked tensor, candidate against reference (either may be null: that backend does not produce it). */
  static VerifyReport.MarkedOutput compareMarked(String name, String candName, HostTensor c, String refName, HostTensor r,
      Tolerances tol) {
    if (c == null || r == null) {
      String missing = c == null && r == null ? candName + " and " + refName + " do not" : (c == null ? candName : refName) + " does not";
      return new VerifyReport.MarkedOutput(name, candName, refName, missing + " produce it", null, null, null, null);
    }
    double[] cv = c.isInteger() ? toDouble(c.ints()) : c.floats();
    double[] rv = r.isInteger() ? toDouble(r.ints()) : r.floats();
    if (cv.length != rv.length) {
      return new VerifyReport.MarkedOutput(name, candName, refName, candName + " gives shape " + java.util.Arrays.toString(c.shape()) + ", "
          + refName + " " + java.util.Arrays.toString(r.shape()), null, null, null, null);
    }
    OutputComparison oc = OutputComparison.of(name, r.shape(), cv, rv, tol.atolFor(name), tol.rtolFor(name));
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
    return new VerifyReport.MarkedOutput(name, candName, refName, null, at < 0 ? new long[0] : position(at, r.shape()),
        at < 0 ? null : cv[at], at < 0 ? null : rv[at], oc);
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

  static VerifyReport.Comparison compare(String candName, Map<String, HostTensor> cand, String refName, Map<String, HostTensor> ref,
      GoldenModel.Result golden, Tolerances tol) {
    List<OutputComparison> outs = new ArrayList<>();
    List<RetrievalComparison> retr = new ArrayList<>();
    boolean pass = true;
    int batch = ref.isEmpty() || ref.values().iterator().next().shape().length == 0 ? 0
        : (int) ref.values().iterator().next().shape()[0];
    for (HostTensor t : ref.values()) { // the task outputs are [B, 1]
      if (!t.isInteger() && !t.name().startsWith("retrieval.") && t.shape().length > 0) {
        batch = (int) t.shape()[0];
        break;
      }
    }
    // Retrieval first, layer by layer. A tie that changes a query's slot set (not just their order)
    // makes its sample diverge: everything downstream (later layers' retrieval, task outputs)
    // legitimately differs from the reference and is exempt from the checks, counted apart.
    java.util.TreeMap<Integer, String> slotOutputs = new java.util.TreeMap<>();
    for (String name : ref.keySet()) {
      if (name.startsWith("retrieval.") && name.endsWith(".slots") && ref.get(name).isInteger() && cand.containsKey(name)) {
        slotOutputs.put(Integer.parseInt(name.split("\\.")[1]), name); // retrieval outputs are exported only into some graphs
      }
    }
    boolean[] diverged = new boolean[Math.max(batch, 0)];
    Map<Integer, boolean[]> exemptWeights = new java.util.HashMap<>();
    for (Map.Entry<Integer, String> e : slotOutputs.entrySet()) {
      int layer = e.getKey();
      HostTensor r = ref.get(e.getValue());
      HostTensor c = cand.get(e.getValue());
      String wName = MsnOnnxExporter.weightsOutput(layer);
      HostTensor cw = cand.get(wName);
      HostTensor rw = ref.get(wName);
      int k = (int) r.shape()[r.shape().length - 1];
      int queries = (int) (r.size() / k);
      int perSample = batch > 0 && queries % batch == 0 ? queries / batch : 0;
      boolean[] downstream = new boolean[queries];
      if (perSample > 0) {
        for (int q = 0; q < queries; q++) {
          downstream[q] = diverged[q / perSample];
        }
      }
      GoldenModel.LayerRetrieval gl = golden != null ? golden.retrieval().get(layer) : null;
      boolean[] setChanged = new boolean[queries];
      RetrievalComparison rc = RetrievalComparison.of(layer, k, c.ints(), cw.floats(), r.ints(), rw.floats(),
          gl == null ? null : gl::score, tol.base().tieEpsilon(), downstream, setChanged);
      retr.add(rc);
      pass &= rc.pass();
      // this layer's weights: not comparable position by position where the slot set changed or upstream diverged
      boolean[] weightsExempt = new boolean[queries];
      for (int q = 0; q < queries; q++) {
        weightsExempt[q] = downstream[q] || setChanged[q];
      }
      exemptWeights.put(layer, weightsExempt);
      if (perSample > 0) {
        for (int q = 0; q < queries; q++) {
          diverged[q / perSample] |= setChanged[q];
        }
      }
    }
    for (Map.Entry<String, HostTensor> e : ref.entrySet()) {
      String name = e.getKey();
      HostTensor r = e.getValue();
      HostTensor c = cand.get(name);
      if (c == null || r.isInteger()) {
        continue;
      }
      double[] cv = c.isInteger() ? toDouble(c.ints()) : c.floats();
      if (cv.length != r.size()) {
        throw new BackendException(candName + ": output " + name + " has " + cv.length + " elements, " + refName + " has " + r.size());
      }
      // a layer's weights: per query (above); task outputs: per sample, where any layer diverged
      boolean[] exempt = isWeights(name) ? exemptWeights.get(Integer.parseInt(name.split("\\.")[1])) : diverged;
      OutputComparison oc = OutputComparison.of(name, r.shape(), cv, r.floats(), tol.atolFor(name), tol.rtolFor(name), exempt);
      outs.add(oc);
      pass &= oc.pass();
    }
    return new VerifyReport.Comparison(candName, refName, pass, outs, retr);
  }

  private static double[] toDouble(long[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }
}
