package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.HostTensor;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.ParityTolerances;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.parity.RunComparison;
import dev.msnexport.parity.Tolerance;
import java.io.PrintStream;
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
      Map<String, HostTensor> want,
      Map<String, HostTensor> got,
      ParityTolerances tol,
      PrintStream log) {
    assertEquals(want.keySet(), got.keySet(), where + " outputs");
    for (HostTensor w : want.values()) {
      HostTensor g = got.get(w.name());
      assertEquals(box(w.shape()), box(g.shape()), where + " " + w.name() + " shape");
      for (int i = 0; g.isInteger() && i < g.size(); i++) {
        assertTrue(
            g.ints()[i] >= 0,
            where + " " + w.name() + "[" + i + "] = " + g.ints()[i] + " (unwritten)");
      }
    }
    RunComparison c = RunComparison.of(got, want, null, tol);
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

  private static List<Long> box(long[] a) {
    return java.util.Arrays.stream(a).boxed().toList();
  }
}
