package dev.msnexport.verifier.latency;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The CPU's ceilings for the floor model, measured on this host when a bench starts (about a
 * second): the copy bandwidth of one large array copy (bytes read plus bytes written, best of a
 * few), and ONNX Runtime's float32 MatMul rate on square products with the bench's thread count
 * (best of a few). Both are what this host showed, not datasheet figures.
 */
public final class HostCeilings {
  private HostCeilings() {}

  private static final Map<Integer, FloorModel.Ceilings> MEASURED =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** {@link #measure} once per thread count in this process. */
  public static FloorModel.Ceilings cached(int threads) {
    return MEASURED.computeIfAbsent(threads, HostCeilings::measure);
  }

  /**
   * Copy bandwidth and ONNX Runtime's MatMul peak at {@code threads} intra-op threads (0: ORT's
   * choice).
   */
  public static FloorModel.Ceilings measure(int threads) {
    double copy = copyBytesPerSecond(64 << 20, 6);
    double flops = ortMatMulFlopsPerSecond(768, threads, 6);
    return new FloorModel.Ceilings(
        copy,
        flops,
        String.format(
            java.util.Locale.ROOT,
            "host %d cpus: array copy %.1f GB/s, ONNX Runtime float32 MatMul %.1f GFLOP/s (%s threads), measured",
            Runtime.getRuntime().availableProcessors(),
            copy / 1e9,
            flops / 1e9,
            threads > 0 ? String.valueOf(threads) : "default"));
  }

  /**
   * Best rate of copying {@code bytes} between two arrays, counting bytes read plus bytes written.
   */
  static double copyBytesPerSecond(int bytes, int repeats) {
    long[] a = new long[bytes / 8];
    long[] b = new long[a.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = i * 0x9E3779B97F4A7C15L; // touch every page of both arrays before timing
      b[i] = ~a[i];
    }
    long best = Long.MAX_VALUE;
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      System.arraycopy(a, 0, b, 0, a.length);
      best = Math.min(best, System.nanoTime() - t0);
      a[r] = b[a.length - 1 - r]; // keep the copies observable
    }
    return 2.0 * a.length * 8 / (best / 1e9);
  }

  /**
   * Best float32 rate of ONNX Runtime multiplying two {@code n x n} matrices (2n^3 per product).
   */
  static double ortMatMulFlopsPerSecond(int n, int threads, int repeats) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      if (threads > 0) {
        opts.setIntraOpNumThreads(threads);
      }
      try (OrtSession s = env.createSession(matMulModel(n).toByteArray(), opts)) {
        float[] data = new float[n * n];
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < data.length; i++) {
          data[i] = (float) rnd.nextDouble(-1, 1);
        }
        try (OnnxTensor a =
                OnnxTensor.createTensor(env, FloatBuffer.wrap(data), new long[] {n, n});
            OnnxTensor b =
                OnnxTensor.createTensor(env, FloatBuffer.wrap(data), new long[] {n, n})) {
          Map<String, OnnxTensor> in = Map.of("a", a, "b", b);
          s.run(in).close(); // warm-up
          long best = Long.MAX_VALUE;
          for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            s.run(in).close();
            best = Math.min(best, System.nanoTime() - t0);
          }
          return 2.0 * n * n * n / (best / 1e9);
        }
      }
    } catch (OrtException e) {
      throw new IllegalStateException(
          "ONNX Runtime could not run the MatMul ceiling probe: " + e.getMessage(), e);
    }
  }

  static ModelProto matMulModel(int n) {
    TypeProto type =
        TypeProto.newBuilder()
            .setTensorType(
                TypeProto.Tensor.newBuilder()
                    .setElemType(TensorProto.DataType.FLOAT_VALUE)
                    .setShape(
                        TensorShapeProto.newBuilder()
                            .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(n))
                            .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(n))))
            .build();
    GraphProto g =
        GraphProto.newBuilder()
            .setName("matmul_ceiling")
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("MatMul")
                    .setName("MatMul")
                    .addInput("a")
                    .addInput("b")
                    .addOutput("c"))
            .addInput(ValueInfoProto.newBuilder().setName("a").setType(type))
            .addInput(ValueInfoProto.newBuilder().setName("b").setType(type))
            .addOutput(ValueInfoProto.newBuilder().setName("c").setType(type))
            .build();
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("msn-export")
        .setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .build();
  }
}
