package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.latency.LatencyGate;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failing gate is timed once more and fails only when it fails again (docs/robustness.md section
 * 8); an unconfirmed failure is suspect. The rule on synthetic gates, and bench end to end with a
 * limit no run can meet.
 */
class GateConfirmationTest {
  static final LatencyGate.Settings S = new LatencyGate.Settings(200, 0.95, 1);
  @TempDir Path tmp;

  /**
   * Lognormal latencies around 0.2 ms times {@code scale} (as the verifier's BaselineDriftTest).
   */
  static long[] samples(long seed, double scale) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    long[] ns = new long[2000];
    for (int i = 0; i < ns.length; i++) {
      ns[i] = Math.round(200_000 * scale * Math.exp(0.05 * r.nextGaussian()));
    }
    return ns;
  }

  static GateResult gate(double candidateScale) {
    return LatencyGate.ratio(
        "ort-custom", "ort-reference", 8, samples(1, candidateScale), samples(2, 1.0), 1.10, S);
  }

  @Test
  void aFailureFailsOnlyWhenTheSecondRunFailsToo() {
    GateResult fail = gate(1.3);
    GateResult pass = gate(1.0);
    assertEquals("fail", fail.verdict());
    List<GateResult> c = LatencyGate.confirmed(List.of(fail, pass), List.of(gate(1.25)));
    assertEquals("fail", c.get(0).verdict());
    assertFalse(c.get(0).pass());
    String first = String.format(java.util.Locale.ROOT, "first run: ratio %.3f", fail.ratio());
    assertTrue(
        c.get(0).message().startsWith("confirmed by a second run (" + first + ")"),
        c.get(0).message());
    assertEquals(pass, c.get(1), "a gate that passed is kept as it was");

    GateResult unconfirmed = LatencyGate.confirmed(List.of(fail), List.of(gate(1.0))).get(0);
    assertEquals("suspect", unconfirmed.verdict());
    assertTrue(unconfirmed.pass());
    assertTrue(
        unconfirmed
            .message()
            .startsWith(
                String.format(
                    java.util.Locale.ROOT, "failed in the first run (ratio %.3f)", fail.ratio())),
        unconfirmed.message());
  }

  /** bench with a limit no run can meet: no run is 100x faster than the reference graph. */
  static final String UNMEETABLE =
      "bench --model {} --batch 8 --iterations 20 --warmup-ms 0 --rounds 2 --resamples 100"
          + " --threads 1 --max-p99-ratio 0.01";

  @Test
  void benchConfirmsAFailureWithASecondRun() {
    Path model = CliRun.tinyExport(tmp.resolve("ck"), tmp.resolve("m"), "", "");
    CliRun confirmed = cli(UNMEETABLE, model);
    assertEquals(ExitCodes.LATENCY_GATE, confirmed.code(), confirmed.out());
    assertTrue(
        confirmed.out().contains("timing every backend there once more")
            && confirmed.out().contains("confirmed by a second run"),
        confirmed.out());
    CliRun firstRun = cli(UNMEETABLE + " --no-confirm", model);
    assertEquals(ExitCodes.LATENCY_GATE, firstRun.code());
    assertFalse(firstRun.out().contains("once more"));
  }
}
