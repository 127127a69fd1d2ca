package dev.msnexport.trt;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.profiles.Profiles;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Side-by-side GPU latency of several engines in one process: for each batch size, every engine
 * runs on the same fresh N(0,1) inputs, in alternating rounds (so drift of the machine affects all
 * engines alike), each launch waited for before the next; p50/p99 with trtexec's percentile rule. A
 * tool for the maintainers' GPU checks (see scripts/gpu-check.sh), not a CI gate; the verifier's
 * {@code bench} is the user-facing benchmark.
 *
 * <pre>
 * java -cp ... dev.msnexport.trt.EngineLatency --model DIR --engine A.plan --engine B.plan \
 *     --batch 1,64,512,2048 [--iterations 200] [--warmup 20] [--rounds 2] [--cuda-graph] [--out FILE.json]
 * </pre>
 *
 * Each plan is checked against {@code DIR/model.<graph>.onnx} through its sidecar, DIR being the
 * last {@code --model} before that {@code --engine}: engines of two exports (say, two export
 * options) can be timed side by side; plans of the same file name are then labelled by their folder
 * too.
 */
public final class EngineLatency {
  @JsonPropertyOrder({
    "engine",
    "graph",
    "precision",
    "batch",
    "iterations",
    "cuda_graph",
    "gpu_p50_ms",
    "gpu_p99_ms",
    "gpu_mean_ms",
    "gpu_min_ms",
    "gpu_max_ms",
    "host_p50_ms",
    "host_p99_ms",
    "samples_per_s",
    "note"
  })
  public record Row(
      String engine,
      String graph,
      String precision,
      long batch,
      int iterations,
      boolean cuda_graph,
      double gpu_p50_ms,
      double gpu_p99_ms,
      double gpu_mean_ms,
      double gpu_min_ms,
      double gpu_max_ms,
      double host_p50_ms,
      double host_p99_ms,
      double samples_per_s,
      String note) {}

  @JsonPropertyOrder({"schema", "tensorrt_version", "gpu", "rows"})
  public record Report(String schema, String tensorrt_version, String gpu, List<Row> rows) {}

  private EngineLatency() {}

  public static void main(String[] args) {
    try {
      System.exit(run(args, System.out));
    } catch (BadInputException | TensorRtUnavailableException e) {
      System.err.println("engine-latency: error: " + e.getMessage());
      System.exit(4);
    }
  }

  static int run(String[] args, PrintStream out) {
    Path model = null;
    Path json = null;
    List<Path[]> plans = new ArrayList<>(); // {plan, model dir}
    List<Long> batches = new ArrayList<>();
    int iterations = 200;
    int warmup = 20;
    int rounds = 2;
    boolean graph = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--model" -> model = Path.of(next(args, ++i, a));
        case "--engine" -> {
          if (model == null) {
            throw new BadInputException("--engine needs a --model before it");
          }
          plans.add(new Path[] {Path.of(next(args, ++i, a)), model});
        }
        case "--batch" -> {
          for (String b : next(args, ++i, a).split(",")) {
            batches.add(Long.parseLong(b.trim()));
          }
        }
        case "--iterations" -> iterations = Integer.parseInt(next(args, ++i, a));
        case "--warmup" -> warmup = Integer.parseInt(next(args, ++i, a));
        case "--rounds" -> rounds = Integer.parseInt(next(args, ++i, a));
        case "--cuda-graph" -> graph = true;
        case "--out" -> json = Path.of(next(args, ++i, a));
        default -> throw new BadInputException("unknown argument " + a);
      }
    }
    if (model == null
        || plans.isEmpty()
        || batches.isEmpty()
        || rounds < 1
        || iterations < rounds) {
      throw new BadInputException(
          "usage: --model DIR --engine PLAN [[--model DIR] --engine PLAN]... --batch B[,B]... [--iterations N] [--warmup N] "
              + "[--rounds R] [--cuda-graph] [--out FILE]");
    }
    List<TrtEngine> engines = new ArrayList<>();
    List<Row> rows = new ArrayList<>();
    try {
      for (Path[] pm : plans) {
        EngineMetadata meta = EngineMetadata.read(pm[0]);
        engines.add(TrtEngine.load(pm[0], pm[1].resolve("model." + meta.graph() + ".onnx")));
      }
      boolean sameNames =
          plans.stream().map(pm -> pm[0].getFileName()).distinct().count() < plans.size();
      SplittableRandom rnd = new SplittableRandom(42);
      for (long batch : batches) {
        TrtEngine.IoTensor in =
            engines.get(0).tensors().stream()
                .filter(TrtEngine.IoTensor::input)
                .findFirst()
                .orElseThrow();
        long[] shape = in.maxShape().clone();
        shape[0] = batch;
        float[] tokens = new float[Math.toIntExact(HostTensor.volume(shape))];
        for (int j = 0; j < tokens.length; j++) {
          tokens[j] = (float) rnd.nextGaussian();
        }
        Map<String, HostTensor> inputs =
            Map.of(in.name(), HostTensor.ofFloats(in.name(), shape, tokens));
        Map<TrtEngine, List<TrtEngine.Timing>> timings = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
          for (TrtEngine e : engines) {
            e.prepare(inputs);
            timings
                .computeIfAbsent(e, k -> new ArrayList<>())
                .add(e.time(r == 0 ? warmup : warmup / 4, iterations / rounds, graph));
          }
        }
        for (TrtEngine e : engines) {
          rows.add(row(e, batch, timings.get(e), sameNames));
        }
      }
    } finally {
      for (int i = engines.size() - 1; i >= 0; i--) {
        engines.get(i).close();
      }
    }
    out.printf(
        Locale.ROOT,
        "%-44s %-9s %-5s %6s %10s %10s %10s %10s %12s%n",
        "engine",
        "graph",
        "prec",
        "batch",
        "gpu p50",
        "gpu p99",
        "host p50",
        "host p99",
        "samples/s");
    for (Row r : rows) {
      out.printf(
          Locale.ROOT,
          "%-44s %-9s %-5s %6d %8.3fms %8.3fms %8.3fms %8.3fms %12.0f%s%n",
          r.engine(),
          r.graph(),
          r.precision(),
          r.batch(),
          r.gpu_p50_ms(),
          r.gpu_p99_ms(),
          r.host_p50_ms(),
          r.host_p99_ms(),
          r.samples_per_s(),
          r.note() == null ? "" : "  (" + r.note() + ")");
    }
    if (json != null) {
      TensorRt.Gpu g = TensorRt.gpu();
      AtomicFiles.writeString(
          json,
          Profiles.toJson(
                  new Report(
                      "msn-export.engine-latency/1",
                      TensorRt.version(),
                      g.name() + " (sm " + g.computeCapability() + ")",
                      rows))
              + "\n");
    }
    return 0;
  }

  private static Row row(TrtEngine e, long batch, List<TrtEngine.Timing> ts, boolean withFolder) {
    int n = ts.stream().mapToInt(t -> t.gpuMillis().length).sum();
    double[] gpu = new double[n];
    double[] host = new double[n];
    int k = 0;
    String note = null;
    boolean graph = true;
    for (TrtEngine.Timing t : ts) {
      System.arraycopy(t.gpuMillis(), 0, gpu, k, t.gpuMillis().length);
      System.arraycopy(t.hostMillis(), 0, host, k, t.hostMillis().length);
      k += t.gpuMillis().length;
      graph &= t.cudaGraph();
      note = note != null ? note : t.note();
    }
    double mean = 0;
    double min = Double.MAX_VALUE;
    double max = 0;
    for (double g : gpu) {
      mean += g / n;
      min = Math.min(min, g);
      max = Math.max(max, g);
    }
    double p50 = TrtEngine.Timing.percentile(gpu, 50);
    Path parent = e.plan().toAbsolutePath().getParent();
    String label =
        withFolder && parent != null && parent.getFileName() != null
            ? parent.getFileName() + "/" + e.plan().getFileName()
            : e.plan().getFileName().toString();
    return new Row(
        label,
        e.metadata().graph(),
        e.metadata().precision(),
        batch,
        n,
        graph,
        p50,
        TrtEngine.Timing.percentile(gpu, 99),
        mean,
        min,
        max,
        TrtEngine.Timing.percentile(host, 50),
        TrtEngine.Timing.percentile(host, 99),
        batch / (mean / 1e3),
        note);
  }

  private static String next(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new BadInputException(option + " needs a value");
    }
    return args[i];
  }
}
