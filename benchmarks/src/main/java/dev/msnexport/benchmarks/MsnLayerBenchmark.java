package dev.msnexport.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.msnexport.exporter.onnx.RetrievalGraph;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.ortops.MsnOrtOps;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The MSN retrieval layer in ONNX Runtime (CPU): our two custom ops ({@code custom}) against the
 * standard-op decomposition TopK/Add/GatherElements/Softmax/Gather/Mul/ReduceSum ({@code
 * reference}), built by the exporter's own {@link RetrievalGraph}. Paper size: S=256 (65,536
 * slots), k=32, D=768. Each invocation runs the layer on N queries with fresh-per-trial random
 * scores.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx6g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MsnLayerBenchmark {
  @Param({"custom", "reference"})
  public String graph;

  @Param({"64", "1024", "8192"})
  public int n;

  @Param({"256"})
  public int s;

  @Param({"32"})
  public int k;

  @Param({"768"})
  public int d;

  /** ONNX Runtime intra-op threads; 0 = its default (all cores). */
  @Param({"0"})
  public int threads;

  private OrtEnvironment env;
  private OrtSession.SessionOptions options;
  private OrtSession session;
  private Map<String, OnnxTensor> inputs;

  @Setup(Level.Trial)
  public void setUp() throws OrtException {
    SplittableRandom r = new SplittableRandom(42);
    float[] values = new float[s * s * d];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) r.nextGaussian();
    }
    byte[] model =
        RetrievalGraph.layerModel(s, k, d, values, DType.F32, graph.equals("custom")).toByteArray();
    env = OrtEnvironment.getEnvironment();
    options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    if (threads > 0) {
      options.setIntraOpNumThreads(threads);
    }
    if (graph.equals("custom")) {
      MsnOrtOps.register(options);
    }
    session = env.createSession(model, options);
    float[] a = new float[n * s];
    float[] b = new float[n * s];
    for (int i = 0; i < a.length; i++) {
      a[i] =
          (float) (4 * r.nextGaussian()); // LN'd queries against LN'd keys: scores of a few units
      b[i] = (float) (4 * r.nextGaussian());
    }
    inputs =
        Map.of(
            "row_scores",
            OnnxTensor.createTensor(env, FloatBuffer.wrap(a), new long[] {n, s}),
            "col_scores",
            OnnxTensor.createTensor(env, FloatBuffer.wrap(b), new long[] {n, s}));
  }

  @Benchmark
  public long layer() throws OrtException {
    try (OrtSession.Result out = session.run(inputs)) {
      return out.size();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws OrtException {
    inputs.values().forEach(OnnxTensor::close);
    session.close();
    options.close();
  }
}
