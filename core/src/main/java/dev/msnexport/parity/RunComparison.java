package dev.msnexport.parity;

import dev.msnexport.common.HostTensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * The comparison of one run's outputs (the candidate's) with another's (the reference's), by the
 * rules the verifier applies to every pair of backends and trt-plugins' GPU tests apply to their
 * engines:
 *
 * <ul>
 *   <li>retrieval first, layer by layer ({@code retrieval.L.slots} with {@code
 *       retrieval.L.weights}), with {@link RetrievalComparison} at the profile's {@code
 *       tie_epsilon}, on the golden model's scores where given, else on the weights;
 *   <li>a tie that changes a query's slot set (not just their order) makes its sample diverge: the
 *       sample's queries in later layers are downstream of a tie (not compared), and its elements
 *       of every task output are tie-exempt;
 *   <li>a layer's weights are exempt, query by query, where that query's slot set changed or its
 *       sample diverged upstream;
 *   <li>every float output with {@link OutputComparison} at {@link ParityTolerances#atolFor} and
 *       {@link ParityTolerances#rtolFor} (retrieval weights: rtol at least {@code 2 *
 *       tie_epsilon}).
 * </ul>
 *
 * Int64 outputs other than slots are not compared. {@code pass} holds when every retrieval and
 * every output comparison passes.
 */
public record RunComparison(
    boolean pass, List<OutputComparison> outputs, List<RetrievalComparison> retrieval) {

  /** An output of the candidate has another number of elements than the reference's. */
  public static final class SizeMismatch extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String output;
    private final int candidate;
    private final int reference;

    SizeMismatch(String output, int candidate, int reference) {
      super(
          "output "
              + output
              + " has "
              + candidate
              + " elements in the candidate, "
              + reference
              + " in the reference");
      this.output = output;
      this.candidate = candidate;
      this.reference = reference;
    }

    public String output() {
      return output;
    }

    public int candidate() {
      return candidate;
    }

    public int reference() {
      return reference;
    }
  }

  public static boolean isWeights(String output) {
    return output.startsWith("retrieval.") && output.endsWith(".weights");
  }

  /** The name of layer L's slots output, {@code retrieval.L.slots} (the exporter's naming). */
  public static String slotsOutput(int layer) {
    return "retrieval." + layer + ".slots";
  }

  /** The name of layer L's weights output, {@code retrieval.L.weights} (the exporter's naming). */
  public static String weightsOutput(int layer) {
    return "retrieval." + layer + ".weights";
  }

  /**
   * Compares {@code cand} with {@code ref}, output by output of {@code ref} (in its order). {@code
   * goldenScores} (may be null, and may give null for a layer) gives the reference's slot scores of
   * a layer, for tie classification on scores instead of weights.
   *
   * @throws SizeMismatch when a float output's sizes differ
   */
  public static RunComparison of(
      Map<String, ? extends HostTensor> cand,
      Map<String, ? extends HostTensor> ref,
      IntFunction<RetrievalComparison.SlotScores> goldenScores,
      ParityTolerances tol) {
    List<OutputComparison> outs = new ArrayList<>();
    List<RetrievalComparison> retr = new ArrayList<>();
    boolean pass = true;
    int batch =
        ref.isEmpty() || ref.values().iterator().next().shape().length == 0
            ? 0
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
    TreeMap<Integer, String> slotOutputs = new TreeMap<>();
    for (String name : ref.keySet()) {
      if (name.startsWith("retrieval.")
          && name.endsWith(".slots")
          && ref.get(name).isInteger()
          && cand.containsKey(name)) {
        slotOutputs.put(
            Integer.parseInt(name.split("\\.")[1]),
            name); // retrieval outputs are exported only into some graphs
      }
    }
    boolean[] diverged = new boolean[Math.max(batch, 0)];
    Map<Integer, boolean[]> exemptWeights = new HashMap<>();
    for (Map.Entry<Integer, String> e : slotOutputs.entrySet()) {
      int layer = e.getKey();
      HostTensor r = ref.get(e.getValue());
      HostTensor c = cand.get(e.getValue());
      String wName = weightsOutput(layer);
      HostTensor cw = cand.get(wName);
      HostTensor rw = ref.get(wName);
      int k = (int) r.shape()[r.shape().length - 1];
      int queries = r.size() / k;
      int perSample = batch > 0 && queries % batch == 0 ? queries / batch : 0;
      boolean[] downstream = new boolean[queries];
      if (perSample > 0) {
        for (int q = 0; q < queries; q++) {
          downstream[q] = diverged[q / perSample];
        }
      }
      boolean[] setChanged = new boolean[queries];
      RetrievalComparison rc =
          RetrievalComparison.of(
              layer,
              k,
              c.ints(),
              cw.floats(),
              r.ints(),
              rw.floats(),
              goldenScores == null ? null : goldenScores.apply(layer),
              tol.base().tieEpsilon(),
              downstream,
              setChanged);
      retr.add(rc);
      pass &= rc.pass();
      // this layer's weights: not comparable position by position where the slot set changed or
      // upstream diverged
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
    for (Map.Entry<String, ? extends HostTensor> e : ref.entrySet()) {
      String name = e.getKey();
      HostTensor r = e.getValue();
      HostTensor c = cand.get(name);
      if (c == null || r.isInteger()) {
        continue;
      }
      double[] cv = c.isInteger() ? toDouble(c.ints()) : c.floats();
      if (cv.length != r.size()) {
        throw new SizeMismatch(name, cv.length, r.size());
      }
      // a layer's weights: per query (above); task outputs: per sample, where any layer diverged
      boolean[] exempt =
          isWeights(name) ? exemptWeights.get(Integer.parseInt(name.split("\\.")[1])) : diverged;
      OutputComparison oc =
          OutputComparison.of(
              name, r.shape(), cv, r.floats(), tol.atolFor(name), tol.rtolFor(name), exempt);
      outs.add(oc);
      pass &= oc.pass();
    }
    return new RunComparison(pass, outs, retr);
  }

  /** One line per failing comparison, saying where and by how much; empty when {@link #pass()}. */
  public List<String> failures() {
    List<String> f = new ArrayList<>();
    for (RetrievalComparison r : retrieval) {
      if (!r.pass()) {
        f.add(
            String.format(
                Locale.ROOT,
                "%s: %d of %d queries differ beyond ties (tie_epsilon %.3g, %.3g would pass), first: %s",
                slotsOutput(r.layer()),
                r.mismatched_queries(),
                r.queries(),
                r.tie_epsilon(),
                r.min_tie_epsilon_to_pass(),
                r.first_mismatch()));
      }
    }
    for (OutputComparison o : outputs) {
      if (!o.pass()) {
        f.add(
            String.format(
                Locale.ROOT,
                "%s: %d of %d elements beyond atol %.3g + rtol %.3g * |ref| (%d non-finite), worst at [%d],"
                    + " max abs err %.3g; atol %.3g or rtol %.3g would pass",
                o.name(),
                o.failing_elements(),
                o.elements(),
                o.atol(),
                o.rtol(),
                o.non_finite(),
                o.worst_index(),
                o.max_abs(),
                o.min_atol_to_pass(),
                o.min_rtol_to_pass()));
      }
    }
    return f;
  }

  /** Integer outputs (slots) as doubles, for element-wise comparison. */
  public static double[] toDouble(long[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }
}
