import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.common.HostTensor;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.OrtBackend;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.GateResult;
import dev.msnexport.verifier.latency.LatencyBenchmark;
import dev.msnexport.verifier.latency.LatencyGate;
import java.io.DataOutputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Measures how often the latency gates of {@code msn-export bench} fail when a backend is made
 * slower by a known amount (docs/robustness.md, "The latency gate, measured"). Two ONNX Runtime sessions of the same
 * custom-op graph are timed by {@link LatencyBenchmark} exactly as {@code bench} times them (same
 * plan: warm-up, duration, round-robin rounds) and gated by {@link LatencyGate} with its default
 * settings; the candidate session does {@code level} extra work per run: after each inference it
 * busy-waits {@code level} times as long as that inference took, capped at {@code level} times twice
 * the median of 2,000 calibration runs (a run the machine preempted for 30 ms did not do 30 ms of work, and busy-waiting
 * in proportion to it would inflate the very interference the gate must ignore). Every run that was
 * not disturbed, and so the latency the code needs, is scaled by {@code 1 + level}.
 *
 * <ul>
 *   <li>ratio gate: candidate against the reference session of the same run; limit {@code 1.10}
 *       (the profiles' {@code max_p99_ratio} 1.0, scaled so that the true ratio of the unslowed
 *       candidate, 1.0, lies as far below the limit as it does for the regression gate).
 *   <li>regression gate: candidate against a baseline, the candidate's samples of the latest
 *       earlier trial at level 0 (a separate earlier run, as a saved baseline in CI), scaled by the
 *       machine's drift seen on the reference session against that trial's (bench's default);
 *       limit 1.10.
 *   <li>as bench does by default, a trial whose gate fails is timed once more and the gate fails
 *       only if it fails again ({@link LatencyGate#confirmed}); the raw samples written are the
 *       first run's.
 * </ul>
 *
 * Trials run in rounds; each round runs every level {@code weights} times, in a shuffled order, so
 * that every level sees the same machine. Prints one line per trial and a summary with Wilson 95% intervals;
 * with a third argument, also writes every trial's raw samples there (for offline analysis).
 *
 * <p>Arguments: {@code MODEL_DIR ROUNDS [RAW_DIR]}; system properties {@code levels} (default
 * {@code 0,0.05,0.10,0.20}), {@code weights} (trials of each level per round, default
 * {@code 1,1,1,1}), {@code maxMinutes} (no new round starts after that), {@code batch} (8),
 * {@code durationS} (2), {@code warmupMs} (500), {@code rounds} (20), {@code threads} (0), {@code seed}
 * (1): bench's defaults.
 */
public final class GateRates {
  static final double LIMIT = 1.10;

  /** The candidate: a backend that does {@code level} extra work per run, proportional to the run's own time. */
  static final class Slowed implements Backend {
    final Backend inner;
    double level;
    /** Runs longer than this were slowed by the machine (preempted), not by their own work; see {@link #runPrepared}. */
    long capNs = Long.MAX_VALUE;

    Slowed(Backend inner) {
      this.inner = inner;
    }

    @Override
    public String name() {
      return "candidate";
    }

    @Override
    public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
      return inner.infer(inputs);
    }

    @Override
    public boolean prepare(Map<String, HostTensor> inputs) {
      return inner.prepare(inputs);
    }

    @Override
    public void runPrepared() {
      long t0 = System.nanoTime();
      inner.runPrepared();
      // extra work in proportion to this run's own work: a run that was preempted for 30 ms did not do 30 ms
      // of work, so the extra is capped at level * capNs (twice the unloaded median) instead of growing with it
      long end = System.nanoTime() + Math.round(Math.min(System.nanoTime() - t0, capNs) * level);
      while (System.nanoTime() < end) {
        Thread.onSpinWait();
      }
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: GateRates MODEL_DIR ROUNDS [RAW_DIR]");
      System.exit(2);
    }
    ExportedModel m = ExportedModel.open(Path.of(args[0]));
    int roundsOfTrials = Integer.parseInt(args[1]);
    Path raw = args.length > 2 ? Path.of(args[2]) : null;
    if (raw != null) {
      Files.createDirectories(raw);
    }
    double[] levels = doubles(System.getProperty("levels", "0,0.05,0.10,0.20"));
    double[] weights = doubles(System.getProperty("weights", "1,1,1,1"));
    int batch = Integer.getInteger("batch", 8);
    int threads = Integer.getInteger("threads", 0);
    LatencyBenchmark.Plan plan = new LatencyBenchmark.Plan(Double.parseDouble(System.getProperty("warmupMs", "500")), 0,
        Double.parseDouble(System.getProperty("durationS", "2")), Integer.getInteger("rounds", 20));
    Random shuffle = new Random(Long.getLong("seed", 1));
    LatencyGate.Settings gs = LatencyGate.Settings.defaults();
    Map<String, HostTensor> in = Inputs.random(m.config(), batch, 0);

    int[] ratioFails = new int[levels.length];
    int[] regressionFails = new int[levels.length];
    int[] ratioTrials = new int[levels.length];
    int[] regressionTrials = new int[levels.length];
    long[] baseline = null;
    long[] baselineRef = null;
    int trial = 0;
    System.out.printf(Locale.ROOT, "# %s batch %d, plan %s, limit %.2f, gate settings %s, %s%n", args[0], batch, plan, LIMIT, gs,
        java.time.Instant.now());
    System.out.println("trial level ratio ratio_verdict ratio_p99 ratio_p99_ci_low regression regression_verdict regression_p99 "
        + "regression_p99_ci_low ref_median_ms cand_median_ms ref_p99_ms cand_p99_ms");
    try (Backend ref = new OrtBackend("reference", m.custom(), true, threads);
        Slowed cand = new Slowed(new OrtBackend("candidate", m.custom(), true, threads))) {
      cand.capNs = 2 * calibrate(cand.inner, in);
      System.out.printf(Locale.ROOT, "# extra work per run: level * min(run time, %.4f ms)%n", cand.capNs / 1e6);
      long start = System.nanoTime();
      double maxNs = Double.parseDouble(System.getProperty("maxMinutes", "1e9")) * 60e9;
      for (int round = 0; round < roundsOfTrials && System.nanoTime() - start < maxNs; round++) {
        List<Integer> order = new ArrayList<>();
        for (int l = 0; l < levels.length; l++) {
          for (int w = 0; w < weights[l]; w++) {
            order.add(l);
          }
        }
        Collections.shuffle(order, shuffle);
        for (int l : order) {
          cand.level = levels[l];
          List<BenchResult> res = LatencyBenchmark.run(List.of(ref, cand), List.of(batch), b -> in, plan, LatencyBenchmark.Clock.SYSTEM,
              s -> {});
          long[] r = res.get(0).samples_ns();
          long[] c = res.get(1).samples_ns();
          LatencyGate.Settings s = new LatencyGate.Settings(gs.resamples(), gs.confidence(), trial);
          List<GateResult> gates = gates(r, c, baseline, baselineRef, batch, s);
          if (gates.stream().anyMatch(g -> !g.pass())) { // as bench does by default: a failure is timed once more to confirm it
            List<BenchResult> again = LatencyBenchmark.run(List.of(ref, cand), List.of(batch), b -> in, plan,
                LatencyBenchmark.Clock.SYSTEM, x -> {});
            gates = LatencyGate.confirmed(gates, gates(again.get(0).samples_ns(), again.get(1).samples_ns(), baseline, baselineRef,
                batch, s));
          }
          GateResult ratio = gates.get(0);
          ratioTrials[l]++;
          ratioFails[l] += ratio.pass() ? 0 : 1;
          GateResult reg = gates.size() > 1 ? gates.get(1) : null;
          if (reg != null) {
            regressionTrials[l]++;
            regressionFails[l] += reg.pass() ? 0 : 1;
          }
          System.out.printf(Locale.ROOT, "%d %.2f %s %s %.4f %.4f %.4f %.4f%n", trial, levels[l], figures(ratio),
              reg == null ? "- - - -" : figures(reg), res.get(0).host_ms().p50(), res.get(1).host_ms().p50(), res.get(0).host_ms().p99(),
              res.get(1).host_ms().p99());
          if (raw != null) {
            try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(
                raw.resolve(String.format(Locale.ROOT, "trial-%04d.bin", trial)))))) {
              o.writeDouble(levels[l]);
              for (long[] a : new long[][] {r, c}) {
                o.writeInt(a.length);
                for (long v : a) {
                  o.writeLong(v);
                }
              }
            }
          }
          if (levels[l] == 0) {
            baseline = c; // the next trials' saved baseline: an earlier, separate run of the unslowed candidate
            baselineRef = r;
          }
          trial++;
        }
      }
    }
    System.out.println("# summary: gate FAIL counts (SUSPECT and PASS count as not failed), Wilson 95% intervals");
    for (int l = 0; l < levels.length; l++) {
      System.out.printf(Locale.ROOT, "level %+4.0f%%  ratio gate: %s   regression gate: %s%n", levels[l] * 100,
          rate(ratioFails[l], ratioTrials[l]), rate(regressionFails[l], regressionTrials[l]));
    }
  }

  /**
   * The ratio gate and, with a baseline, the regression gate as bench computes them by default: the
   * baseline scaled by the machine's drift seen on the reference session against the baseline's.
   */
  static List<GateResult> gates(long[] r, long[] c, long[] baseline, long[] baselineRef, int batch, LatencyGate.Settings s) {
    List<GateResult> g = new ArrayList<>();
    g.add(LatencyGate.ratio("candidate", "reference", batch, c, r, LIMIT, s));
    if (baseline != null) {
      double drift = LatencyGate.drift(java.util.Collections.singletonList(new long[][] {r, baselineRef}));
      g.add(LatencyGate.regression("candidate", batch, c, baseline, LIMIT - 1, drift, "drift from the reference session", s));
    }
    return g;
  }

  /** Median time of 2,000 runs (after 500 ms of warm-up): robust against the runs the machine interrupted. */
  static long calibrate(Backend b, Map<String, HostTensor> in) {
    b.prepare(in);
    long t0 = System.nanoTime();
    while (System.nanoTime() - t0 < 500_000_000L) {
      b.runPrepared();
    }
    long[] d = new long[2000];
    for (int i = 0; i < d.length; i++) {
      long s = System.nanoTime();
      b.runPrepared();
      d[i] = System.nanoTime() - s;
    }
    java.util.Arrays.sort(d);
    return d[d.length / 2];
  }

  static String figures(GateResult g) {
    return String.format(Locale.ROOT, "%.4f %s %.4f %.4f", g.ratio(), g.verdict(), g.p99_ratio(), g.p99_ci_low());
  }

  static String rate(int k, int n) {
    if (n == 0) {
      return "no trials";
    }
    double z = 1.959964;
    double p = (double) k / n;
    double d = 1 + z * z / n;
    double c = (p + z * z / (2 * n)) / d;
    double h = z * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
    return String.format(Locale.ROOT, "%d/%d = %5.1f%% [%5.1f%%, %5.1f%%]", k, n, 100 * p, 100 * Math.max(0, c - h),
        100 * Math.min(1, c + h));
  }

  static double[] doubles(String csv) {
    String[] p = csv.split(",");
    double[] d = new double[p.length];
    for (int i = 0; i < p.length; i++) {
      d[i] = Double.parseDouble(p[i].trim());
    }
    return d;
  }
}
