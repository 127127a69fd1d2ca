package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.ParityTensor;
import dev.msnexport.parity.ParityTolerances;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.parity.RunComparison;
import dev.msnexport.parity.Tolerance;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How {@link EngineGpuTest} compares an engine's outputs with ONNX Runtime's: by the verifier's
 * rules, {@link RunComparison} (retrieval slots layer by layer with ties within the profile's
 * tie_epsilon; what lies downstream of a tie that changed a query's slot set is exempt; retrieval
 * weights at rtol >= 2 * tie_epsilon). One line per output, then the verdict.
 */
final class EngineParity {
  /** fp32 engines: the bound, for every output. */
  static final double FP32_ATOL = 1e-4;

  private EngineParity() {}

  /**
   * fp32: atol 1e-4 and rtol 0 for every output, as {@code verify --atol 1e-4 --rtol 0} (so the
   * weights still get rtol 2 * tie_epsilon); fp16: the profile's tolerances. tie_epsilon: the
   * profile's for the precision.
   */
  static ParityTolerances tolerances(Tolerance tol, Precision precision) {
    return precision == Precision.FP32
        ? ParityTolerances.of(tol, Map.of("", FP32_ATOL), Map.of("", 0.0))
        : ParityTolerances.of(tol, Map.of(), Map.of());
  }

  /**
   * Compares the engine's outputs ({@code got}) with the reference's ({@code want}), prints a line
   * per retrieval layer and per float output (scripts/gpu-check.sh greps them), and fails with
   * every failing comparison. Slots the engine left unwritten (negative) fail first.
   */
  static RunComparison check(
      String where,
      Map<String, TensorData> want,
      Map<String, TensorData> got,
      ParityTolerances tol,
      PrintStream log) {
    assertEquals(want.keySet(), got.keySet(), where + " outputs");
    for (TensorData w : want.values()) {
      TensorData g = got.get(w.name());
      assertEquals(box(w.shape()), box(g.shape()), where + " " + w.name() + " shape");
      for (int i = 0; g.isInteger() && i < g.size(); i++) {
        assertTrue(
            g.longs()[i] >= 0,
            where + " " + w.name() + "[" + i + "] = " + g.longs()[i] + " (unwritten)");
      }
    }
    RunComparison c = RunComparison.of(parity(got), parity(want), null, tol);
    for (RetrievalComparison r : c.retrieval()) {
      log.printf(
          Locale.ROOT,
          "  %s %-22s %d/%d queries identical, %d ties (%d change the set; largest gap %.3g), %d downstream of a tie,"
              + " %d beyond ties%n",
          where,
          RunComparison.slotsOutput(r.layer()),
          r.identical_queries(),
          r.queries(),
          r.tie_queries(),
          r.set_changing_tie_queries(),
          r.min_tie_epsilon_to_pass(),
          r.downstream_queries(),
          r.mismatched_queries());
    }
    for (OutputComparison o : c.outputs()) {
      log.printf(
          Locale.ROOT,
          "  %s %-22s max abs err %.3g%s%s%n",
          where,
          o.name(),
          o.max_abs(),
          o.tie_exempt_elements() == 0
              ? ""
              : String.format(
                  Locale.ROOT,
                  " (%d tie-exempt elements, max abs %.3g)",
                  o.tie_exempt_elements(),
                  o.tie_exempt_max_abs()),
          o.non_finite() == 0
              ? ""
              : String.format(
                  Locale.ROOT, " (%d non-finite: unwritten or overflow)", o.non_finite()));
    }
    assertTrue(c.pass(), () -> where + ": " + String.join("; ", c.failures()));
    return c;
  }

  static Map<String, ParityTensor> parity(Map<String, TensorData> outputs) {
    Map<String, ParityTensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, TensorData> e : outputs.entrySet()) {
      TensorData t = e.getValue();
      m.put(
          e.getKey(),
          t.isInteger()
              ? ParityTensor.ofInts(t.name(), t.shape(), t.longs())
              : ParityTensor.ofFloats(t.name(), t.shape(), t.floats()));
    }
    return m;
  }

  private static List<Long> box(long[] a) {
    return java.util.Arrays.stream(a).boxed().toList();
  }
}
