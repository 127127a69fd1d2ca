package dev.msnexport.verifier.latency;

import dev.msnexport.common.HostTensor;
import dev.msnexport.verifier.backend.Backend;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;

/**
 * Measures host latency of several backends on the same inputs, written once for every backend
 * ({@link Backend#prepare}/{@link Backend#runPrepared}).
 *
 * <p>Per batch size: every backend is prepared with the same inputs and warmed up, then the
 * backends take turns in rounds, one block of runs each (round robin, the starting backend rotating
 * from round to round), so that machine drift (thermal state, other processes, frequency) falls on
 * all backends alike instead of on whichever ran last. Each run's host wall time goes into an
 * HdrHistogram (ns) and a raw sample list (for the bootstrap gates); backends that implement {@link
 * GpuTimed} also give their device time.
 */
public final class LatencyBenchmark {
  /** Time source (tests drive the benchmark with a fake one). */
  @FunctionalInterface
  public interface Clock {
    long nanoTime();

    Clock SYSTEM = System::nanoTime;
  }

  /**
   * What to measure per batch size and backend: a warm-up of {@code warmupMs}, then either {@code
   * iterations} timed runs or {@code durationS} seconds of timed runs, spread over {@code rounds}
   * round-robin rounds.
   */
  public record Plan(double warmupMs, int iterations, double durationS, int rounds) {
    public Plan {
      if (!Double.isFinite(warmupMs) || !Double.isFinite(durationS)) {
        throw new IllegalArgumentException(
            "warm-up and duration must be finite, got " + warmupMs + " ms and " + durationS + " s");
      }
      if ((iterations > 0) == (durationS > 0)) {
        throw new IllegalArgumentException("give exactly one of iterations and duration");
      }
      if (rounds < 1 || warmupMs < 0) {
        throw new IllegalArgumentException("rounds must be >= 1 and warm-up >= 0");
      }
    }
  }

  private LatencyBenchmark() {}

  public static List<BenchResult> run(
      List<Backend> backends,
      List<Integer> batches,
      IntFunction<Map<String, HostTensor>> inputs,
      Plan plan,
      Clock clock,
      Consumer<String> log) {
    List<BenchResult> out = new ArrayList<>();
    for (int batch : batches) {
      out.addAll(runBatch(backends, batch, inputs.apply(batch), plan, clock, log));
    }
    return out;
  }

  static List<BenchResult> runBatch(
      List<Backend> backends,
      int batch,
      Map<String, HostTensor> in,
      Plan plan,
      Clock clock,
      Consumer<String> log) {
    int nb = backends.size();
    Runnable[] runs = new Runnable[nb];
    boolean[] prepared = new boolean[nb];
    for (int i = 0; i < nb; i++) {
      Backend b = backends.get(i);
      prepared[i] = b.prepare(in);
      runs[i] = prepared[i] ? b::runPrepared : () -> b.infer(in);
    }
    long warmupNs = (long) (plan.warmupMs() * 1e6);
    for (int i = 0; i < nb; i++) {
      long t0 = clock.nanoTime();
      while (clock.nanoTime() - t0 < warmupNs) {
        runs[i].run();
      }
    }
    Samples[] host = new Samples[nb];
    Samples[] gpu = new Samples[nb];
    Histogram[] hist = new Histogram[nb];
    for (int i = 0; i < nb; i++) {
      host[i] = new Samples();
      gpu[i] = backends.get(i) instanceof GpuTimed ? new Samples() : null;
      hist[i] = new Histogram(3);
    }
    int block =
        plan.iterations() > 0
            ? (int) (((long) plan.iterations() + plan.rounds() - 1) / plan.rounds())
            : 0;
    long sliceNs = (long) (plan.durationS() * 1e9 / plan.rounds());
    for (int round = 0; round < plan.rounds(); round++) {
      for (int j = 0; j < nb; j++) {
        int i = (round + j) % nb;
        GpuTimed g = backends.get(i) instanceof GpuTimed t ? t : null;
        if (block > 0) {
          int todo = Math.min(block, plan.iterations() - host[i].size);
          for (int k = 0; k < todo; k++) {
            timeOne(runs[i], clock, host[i], hist[i], g, gpu[i]);
          }
        } else {
          long start = clock.nanoTime();
          do {
            timeOne(runs[i], clock, host[i], hist[i], g, gpu[i]);
          } while (clock.nanoTime() - start < sliceNs);
        }
      }
    }
    List<BenchResult> out = new ArrayList<>();
    for (int i = 0; i < nb; i++) {
      long[] s = host[i].toArray();
      LatencyStats st = LatencyStats.ofNanos(s);
      long sum = 0;
      for (long v : s) {
        sum += v;
      }
      double[] g = gpu[i] == null ? null : gpu[i].toMillis();
      boolean hasGpu = g != null && Arrays.stream(g).allMatch(Double::isFinite);
      BenchResult r =
          new BenchResult(
              backends.get(i).name(),
              batch,
              prepared[i],
              s.length,
              sum / 1e9,
              batch * 1000.0 / st.mean(),
              st,
              hasGpu ? LatencyStats.ofMillis(g) : null,
              s,
              hasGpu ? g : null,
              encode(hist[i]));
      out.add(r);
      log.accept(
          String.format(
              Locale.ROOT,
              "  %-14s batch %4d: %6d runs  p50 %9.4f ms  p99 %9.4f ms  %,12.0f samples/s%s",
              r.backend(),
              batch,
              r.iterations(),
              st.p50(),
              st.p99(),
              r.throughput_samples_per_s(),
              hasGpu ? String.format(Locale.ROOT, "  gpu p50 %.4f ms", r.gpu_ms().p50()) : ""));
    }
    return out;
  }

  private static void timeOne(
      Runnable run, Clock clock, Samples host, Histogram hist, GpuTimed g, Samples gpu) {
    long t0 = clock.nanoTime();
    run.run();
    long dt = clock.nanoTime() - t0;
    host.add(dt);
    hist.recordValue(Math.max(dt, 0));
    if (g != null) {
      gpu.add(Double.doubleToRawLongBits(g.lastGpuMillis()));
    }
  }

  static String encode(Histogram h) {
    ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int len = h.encodeIntoCompressedByteBuffer(buf);
    return Base64.getEncoder().encodeToString(Arrays.copyOf(buf.array(), len));
  }

  /** A growable long array (no boxing while timing). */
  private static final class Samples {
    long[] data = new long[1024];
    int size;

    void add(long v) {
      if (size == data.length) {
        data = Arrays.copyOf(data, size * 2);
      }
      data[size++] = v;
    }

    long[] toArray() {
      return Arrays.copyOf(data, size);
    }

    double[] toMillis() {
      double[] d = new double[size];
      for (int i = 0; i < size; i++) {
        d[i] = Double.longBitsToDouble(data[i]);
      }
      return d;
    }
  }
}
