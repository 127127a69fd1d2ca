package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.HostTensor;
import dev.msnexport.verifier.backend.Backend;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/**
 * The benchmark driven by a fake clock: fake backends "take" a drawn number of nanoseconds by
 * advancing the clock, so every figure is known exactly and nothing depends on this machine.
 */
class LatencyBenchmarkTest {
  /** A clock that only moves when a fake backend runs. */
  static final class FakeClock implements LatencyBenchmark.Clock {
    long now;

    @Override
    public long nanoTime() {
      return now;
    }
  }

  /**
   * Takes {@code scale} times a seeded long-tailed draw around {@code medianNs}; logs every run.
   */
  static class FakeBackend implements Backend {
    final String name;
    final FakeClock clock;
    final SplittableRandom rng;
    final double medianNs;
    final double scale;
    final List<String> log;
    final boolean canPrepare;
    final List<Long> taken = new ArrayList<>();
    int infers;

    FakeBackend(
        String name,
        FakeClock clock,
        long seed,
        double medianNs,
        double scale,
        List<String> log,
        boolean canPrepare) {
      this.name = name;
      this.clock = clock;
      this.rng = new SplittableRandom(seed);
      this.medianNs = medianNs;
      this.scale = scale;
      this.log = log;
      this.canPrepare = canPrepare;
    }

    @Override
    public String name() {
      return name;
    }

    long step() {
      double v = medianNs * Math.exp(0.35 * rng.nextGaussian()) * (rng.nextDouble() < 0.02 ? 3 : 1);
      long dt = Math.round(v * scale);
      clock.now += dt;
      taken.add(dt);
      log.add(name);
      return dt;
    }

    @Override
    public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
      infers++;
      step();
      return Map.of();
    }

    @Override
    public boolean prepare(Map<String, HostTensor> inputs) {
      return canPrepare;
    }

    @Override
    public void runPrepared() {
      step();
    }

    @Override
    public void close() {}
  }

  /** A fake device: its GPU time is half its host time. */
  static final class FakeGpuBackend extends FakeBackend implements GpuTimed {
    double last = Double.NaN;

    FakeGpuBackend(String name, FakeClock clock, long seed, List<String> log) {
      super(name, clock, seed, 100_000, 1, log, true);
    }

    @Override
    public void runPrepared() {
      last = step() / 2e6;
    }

    @Override
    public double lastGpuMillis() {
      return last;
    }
  }

  static Map<String, HostTensor> inputs(int batch) {
    return Map.of(
        "tokens", HostTensor.ofFloats("tokens", new long[] {batch, 1}, new double[batch]));
  }

  static final List<String> QUIET = new ArrayList<>();

  /** Benchmarks the fakes on the fake clock, one token per sample, logging nowhere. */
  static List<BenchResult> bench(
      FakeClock clock, List<Backend> backends, List<Integer> batches, LatencyBenchmark.Plan plan) {
    return LatencyBenchmark.run(
        backends, batches, LatencyBenchmarkTest::inputs, plan, clock, QUIET::add);
  }

  /**
   * ort-reference and ort-custom fakes of 50 us a run, the custom one {@code slowdown} times
   * slower: 2000 runs each at batch 64 in 20 rounds.
   */
  static List<BenchResult> referenceAndCustom(
      FakeClock clock, long referenceSeed, long customSeed, double slowdown) {
    return bench(
        clock,
        List.of(
            new FakeBackend("ort-reference", clock, referenceSeed, 50_000, 1, QUIET, true),
            new FakeBackend("ort-custom", clock, customSeed, 50_000, slowdown, QUIET, true)),
        List.of(64),
        new LatencyBenchmark.Plan(0, 2000, 0, 20));
  }

  @Test
  void roundRobinBlocksWithRotatingStart() throws Exception {
    FakeClock clock = new FakeClock();
    List<String> log = new ArrayList<>();
    FakeBackend a = new FakeBackend("a", clock, 1, 1000, 1, log, true);
    FakeBackend b = new FakeBackend("b", clock, 2, 1000, 1, log, true);
    // 10 runs each in 5 rounds: blocks of 2, the starting backend alternating; no warm-up
    List<BenchResult> r =
        bench(clock, List.of(a, b), List.of(4), new LatencyBenchmark.Plan(0, 10, 0, 5));
    assertEquals(
        String.join("", List.of("aabb", "bbaa", "aabb", "bbaa", "aabb")), String.join("", log));
    assertEquals(2, r.size());
    for (BenchResult x : r) {
      assertEquals(4, x.batch());
      assertEquals(10, x.iterations());
      assertTrue(x.prepared());
      assertNull(x.gpu_ms());
    }
    // every sample is exactly the time the fake took
    assertArrayEquals(a.taken.stream().mapToLong(Long::longValue).toArray(), r.get(0).samples_ns());
    assertArrayEquals(b.taken.stream().mapToLong(Long::longValue).toArray(), r.get(1).samples_ns());
    LatencyStats s = r.get(0).host_ms();
    assertEquals(LatencyStats.ofNanos(r.get(0).samples_ns()), s);
    assertEquals(4 * 1000.0 / s.mean(), r.get(0).throughput_samples_per_s(), 1e-9);
    // the HdrHistogram holds the same samples (3 significant digits)
    byte[] enc = Base64.getDecoder().decode(r.get(0).hdr_histogram());
    Histogram h = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(enc), 0);
    assertEquals(10, h.getTotalCount());
    assertEquals(s.max() * 1e6, h.getMaxValue(), s.max() * 1e6 * 1e-3);
  }

  @Test
  void warmupIsNotRecordedAndDurationSplitsIntoSlices() {
    FakeClock clock = new FakeClock();
    List<String> log = new ArrayList<>();
    // constant 100 us per run: warm-up 1 ms = 10 runs; 10 ms in 4 rounds = slices of 2.5 ms = 25
    // runs
    FakeBackend a =
        new FakeBackend("a", clock, 1, 100_000, 1, log, true) {
          @Override
          long step() {
            clock.now += 100_000;
            log.add(name);
            return 100_000;
          }
        };
    List<BenchResult> r =
        bench(clock, List.of(a), List.of(1, 2), new LatencyBenchmark.Plan(1, 0, 0.010, 4));
    assertEquals(2, r.size());
    assertEquals(100, r.get(0).iterations());
    assertEquals(0.010, r.get(0).measured_s(), 1e-12);
    assertEquals(0.1, r.get(0).host_ms().p99(), 1e-12);
    assertEquals(2 * (10 + 100), log.size(), "warm-up runs happen but are not samples");
  }

  @Test
  void unpreparedBackendsAreTimedThroughInferAndGpuTimeIsKeptApart() {
    FakeClock clock = new FakeClock();
    List<String> log = new ArrayList<>();
    FakeBackend plain = new FakeBackend("plain", clock, 1, 1000, 1, log, false);
    FakeGpuBackend gpu = new FakeGpuBackend("gpu", clock, 2, log);
    List<BenchResult> r =
        bench(clock, List.of(plain, gpu), List.of(8), new LatencyBenchmark.Plan(0, 7, 0, 3));
    assertFalse(r.get(0).prepared());
    assertEquals(7, plain.infers);
    assertEquals(7, r.get(0).iterations());
    assertNotNull(r.get(1).gpu_ms());
    assertEquals(7, r.get(1).gpu_samples_ms().length);
    for (int i = 0; i < 7; i++) {
      assertEquals(r.get(1).samples_ns()[i] / 2e6, r.get(1).gpu_samples_ms()[i], 1e-12);
    }
    assertEquals(r.get(1).host_ms().p50() / 2, r.get(1).gpu_ms().p50(), 1e-12);
  }

  /** The ratio gate of {@link #referenceAndCustom}'s results: ort-custom over ort-reference. */
  static GateResult customOverReference(
      List<BenchResult> r, double limit, LatencyGate.Settings settings) {
    return LatencyGate.ratio(
        "ort-custom",
        "ort-reference",
        64,
        r.get(1).samples_ns(),
        r.get(0).samples_ns(),
        limit,
        settings);
  }

  /**
   * End to end through the benchmark: a backend 30% slower fails the ratio gate, an equal one
   * passes 20 of 20 a 1.10 limit.
   */
  @Test
  void gatesOnBenchmarkedFakes() {
    LatencyGate.Settings s = LatencyGate.Settings.defaults();
    FakeClock clock = new FakeClock();
    List<BenchResult> slow = referenceAndCustom(clock, 1, 2, 1.3);
    GateResult g = customOverReference(slow, 1.0, s);
    assertEquals("fail", g.verdict(), g.message());

    int passes = 0;
    for (int trial = 0; trial < 20; trial++) {
      List<BenchResult> eq = referenceAndCustom(clock, 1000 + trial, 2000 + trial, 1);
      if (customOverReference(eq, 1.10, new LatencyGate.Settings(2000, 0.95, trial)).pass()) {
        passes++;
      }
    }
    assertEquals(20, passes, passes + " of 20");
  }
}
