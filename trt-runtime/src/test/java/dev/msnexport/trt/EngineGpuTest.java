package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.Fp16Policy;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.parity.ParityTolerances;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Engines built from exported models on a real GPU, compared with ONNX Runtime (CPU) on the
 * reference graph by the verifier's rules ({@link EngineParity}): fp32 within atol 1e-4 (rtol 0;
 * retrieval weights rtol 2 * tie_epsilon), fp16 within the profile's fp16 tolerances; retrieved
 * slots identical except ties within the profile's tie_epsilon, and what lies downstream of a tie
 * that changed a slot set exempt. Skipped where there is no GPU and TensorRT (CI); run by
 * scripts/gpu-check.sh on the GPU machine.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EngineGpuTest {
  /**
   * Builder optimization level of the test engines (low: fast builds; the tests check numbers, not
   * speed).
   */
  static final int OPT_LEVEL = Integer.getInteger("msn.trt.test.optimizationLevel", 1);

  /** The exporter's fp16 policy, as the CLI and the verifier pass it. */
  static final PrecisionPolicy FP16_POLICY =
      new PrecisionPolicy(Fp16Policy::stronglyTypedVariant, Fp16Policy::inFloat32Scope);

  Path dir;

  final Map<String, Path> exports = new LinkedHashMap<>();
  Path timingCache;
  final PrintStream log = System.out;

  @BeforeAll
  void exportModels() throws java.io.IOException {
    assumeTrue(TensorRt.isAvailable(), () -> "no GPU/TensorRT: " + TensorRt.status().reason());
    assumeTrue(
        PluginLibrary.isPackaged(),
        "the plugin library is not built (CUDA was skipped: no nvcc, or -Dmsn.cuda.skip=true)");
    dir =
        Files.createTempDirectory(
            "msn-trt-gpu-test-"); // @TempDir fields are injected only per test method
    timingCache = dir.resolve("timing.cache");
    for (String name : List.of("tiny", "small")) {
      exports.put(name, exportSynthetic(name, dir));
    }
  }

  /** Exports a synthetic checkpoint (seed 7) of built-in profile {@code name} to DIR/name. */
  static Path exportSynthetic(String name, Path dir) throws java.io.IOException {
    Path ck = dir.resolve(name + "-ck");
    SyntheticCheckpoint.write(Profiles.load(name).model(), ck, 7);
    Path out = dir.resolve(name);
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c,
          out,
          new MsnOnnxExporter.Options(
              MsnOnnxExporter.Options.defaults().valuesDtype(),
              MsnOnnxExporter.ExternalData.AUTO,
              true,
              name));
    }
    return out;
  }

  /** Builds {@code plan} from {@code onnx} at the tests' optimization level, quietly. */
  static void buildPlan(
      Path onnx,
      String graph,
      Precision precision,
      String profile,
      Profile.BatchShapes batch,
      Path timingCache,
      Path plan,
      PrintStream log) {
    EngineBuilder.build(
        new EngineBuilder.Request(
            onnx,
            graph,
            precision,
            profile,
            batch,
            timingCache,
            plan,
            0,
            OPT_LEVEL,
            List.of(),
            FP16_POLICY,
            QuantizedTables.NONE),
        log);
  }

  Path build(String profile, String graph, Precision precision) {
    Profile p = Profiles.load(profile);
    Path out = exports.get(profile);
    Path plan = out.resolve("engine." + graph + "." + precision.label() + ".plan");
    if (!Files.exists(plan)) {
      buildPlan(
          out.resolve("model." + graph + ".onnx"),
          graph,
          precision,
          profile,
          p.batch(),
          timingCache,
          plan,
          log);
    }
    return plan;
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({
    "tiny, custom, fp32",
    "tiny, custom, fp16",
    "tiny, reference, fp32",
    "small, custom, fp32",
    "small, custom, fp16",
    "small, reference, fp32"
  })
  void engineMatchesOnnxRuntimeReference(String profile, String graph, String precision)
      throws OrtException {
    Profile p = Profiles.load(profile);
    Precision prec = Precision.parse(precision);
    Path plan = build(profile, graph, prec);
    EngineMetadata meta = EngineMetadata.read(plan);
    assertEquals(graph, meta.graph());
    assertEquals(precision, meta.precision());
    assertEquals(p.batch(), meta.batch());
    ParityTolerances tols = EngineParity.tolerances(p.tolerance(precision), prec);
    Path model = exports.get(profile);
    try (TrtEngine e = TrtEngine.load(plan, model.resolve("model." + graph + ".onnx"))) {
      checkBatchesAgainstReference(
          e,
          p,
          model,
          1000,
          tols,
          batch ->
              String.format(Locale.ROOT, "%s %s %s batch %d", profile, graph, precision, batch),
          log);
    }
  }

  @Test
  void timesPreparedRunsWithAndWithoutCudaGraphs() {
    Path plan = build("small", "custom", Precision.FP32);
    Profile p = Profiles.load("small");
    try (TrtEngine e =
        TrtEngine.load(plan, exports.get("small").resolve(MsnOnnxExporter.CUSTOM_FILE))) {
      e.prepare(randomTokens(p, 64, 3));
      e.runPrepared();
      for (boolean graph : new boolean[] {false, true}) {
        TrtEngine.Timing t = e.time(3, 20, graph);
        assertEquals(20, t.gpuMillis().length);
        for (int i = 0; i < 20; i++) {
          assertTrue(
              t.gpuMillis()[i] > 0 && t.hostMillis()[i] >= t.gpuMillis()[i] * 0.5,
              "iteration " + i);
        }
        log.printf(
            Locale.ROOT,
            "small custom fp32 batch 64: gpu p50 %.4f ms p99 %.4f ms, host p50 %.4f ms, cuda graph %s%s%n",
            t.gpuPercentile(50),
            t.gpuPercentile(99),
            t.hostPercentile(50),
            t.cudaGraph(),
            t.note() == null ? "" : " (" + t.note() + ")");
      }
      assertThrows(
          BadInputException.class,
          () -> e.infer(randomTokens(p, p.batch().max() + 1, 1)),
          "batch above the profile");
    }
  }

  /** Prepared runs replay a captured CUDA graph, report device time, and leave infer() exact. */
  @Test
  void preparedRunsReplayACudaGraphWithDeviceTime() throws OrtException {
    Path plan = build("small", "custom", Precision.FP32);
    Profile p = Profiles.load("small");
    Path model = exports.get("small");
    try (TrtEngine e = TrtEngine.load(plan, model.resolve(MsnOnnxExporter.CUSTOM_FILE))) {
      e.prepare(randomTokens(p, 64, 9), true);
      assertTrue(e.replaysCudaGraph(), "no CUDA graph: " + e.replayNote());
      for (int i = 0; i < 5; i++) {
        e.runPrepared();
        assertTrue(e.lastGpuMillis() > 0, "run " + i + ": " + e.lastGpuMillis());
      }
      e.prepare(randomTokens(p, 8, 10), false); // a new shape drops the graph
      assertTrue(!e.replaysCudaGraph());
      e.runPrepared();
      assertTrue(e.lastGpuMillis() > 0);
      Map<String, HostTensor> in = randomTokens(p, 5, 11);
      EngineParity.check(
          "small custom fp32 batch 5 after graph replay",
          ortReference(model.resolve(MsnOnnxExporter.REFERENCE_FILE), in),
          e.infer(in),
          EngineParity.tolerances(p.tolerance("fp32"), Precision.FP32),
          log);
    }
  }

  /**
   * The layer profiler's ABI against the real library: TensorRT calls our object through the first
   * virtual slot once per layer and run, with the engine's own layer names, and the profiled time
   * is real GPU time.
   */
  @Test
  void layerProfilerReceivesEveryLayerOfEveryRun() {
    assumeTrue(LayerProfiler.isPackaged(), "the layer profiler library is not built");
    Path plan = build("small", "custom", Precision.FP32);
    Profile p = Profiles.load("small");
    try (TrtEngine e =
        TrtEngine.load(plan, exports.get("small").resolve(MsnOnnxExporter.CUSTOM_FILE))) {
      e.prepare(randomTokens(p, 64, 5));
      List<LayerProfiler.Layer> layers = e.profileLayers(4);
      assertTrue(!layers.isEmpty(), "no layer reported");
      double total = 0;
      for (LayerProfiler.Layer l : layers) {
        assertTrue(!l.name().isBlank() && l.totalMs() >= 0, l.toString());
        assertEquals(0, l.calls() % 4, "each layer reported once per run: " + l);
        total += l.meanMs();
      }
      java.util.Set<String> engineLayers =
          new java.util.HashSet<>(
              e.layers().layers().stream().map(EngineLayers.Layer::name).toList());
      long known = layers.stream().filter(l -> engineLayers.contains(l.name())).count();
      assertTrue(
          known > 0, "no reported name is an engine layer: " + layers + " vs " + engineLayers);
      TrtEngine.Timing t = e.time(2, 10, false);
      log.printf(
          Locale.ROOT,
          "small custom fp32 batch 64: %d profiled layers (%d named as the inspector names them), %.4f ms summed, "
              + "unprofiled gpu p50 %.4f ms%n",
          layers.size(),
          known,
          total,
          t.gpuPercentile(50));
      assertTrue(
          total > 0.05 * t.gpuPercentile(50),
          "profiled time " + total + " ms is far below the run's " + t.gpuPercentile(50));
    }
  }

  @Test
  void refusesAPlanForAnotherModel() throws Exception {
    Path plan = build("tiny", "custom", Precision.FP32);
    // the tiny plan against small's custom graph: the ONNX digest differs
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> TrtEngine.load(plan, exports.get("small").resolve(MsnOnnxExporter.CUSTOM_FILE)));
    assertTrue(e.getMessage().contains("the model changed since the build"), e.getMessage());
    // a plan whose bytes were replaced
    Path copy = dir.resolve("copy.plan");
    Files.copy(plan, copy);
    Files.copy(EngineMetadata.sidecarOf(plan), EngineMetadata.sidecarOf(copy));
    Files.write(copy, new byte[] {1, 2, 3});
    BadInputException replaced =
        assertThrows(BadInputException.class, () -> TrtEngine.load(copy, null));
    assertTrue(replaced.getMessage().contains("was replaced"), replaced.getMessage());
  }

  /**
   * Runs the engine at the profile's smallest batch, at 5 and at its largest on random tokens (seed
   * {@code seedBase + batch}), its outputs poisoned first so that nothing stale passes, and checks
   * each run against ONNX Runtime on the reference graph of {@code export}; logs the GPU time of
   * each run that passed.
   *
   * @param where names the check of one batch
   */
  static void checkBatchesAgainstReference(
      TrtEngine e,
      Profile p,
      Path export,
      long seedBase,
      ParityTolerances tols,
      LongFunction<String> where,
      PrintStream log)
      throws OrtException {
    for (long batch : new long[] {p.batch().min(), 5, p.batch().max()}) {
      Map<String, HostTensor> in = randomTokens(p, batch, seedBase + batch);
      e.poisonOutputs(0xff);
      Map<String, HostTensor> got = e.infer(in);
      Map<String, HostTensor> want =
          ortReference(export.resolve(MsnOnnxExporter.REFERENCE_FILE), in);
      String at = where.apply(batch);
      EngineParity.check(at, want, got, tols, log);
      log.printf(Locale.ROOT, "%s: ok (gpu %.3f ms)%n", at, e.lastGpuMillis());
    }
  }

  static Map<String, HostTensor> randomTokens(Profile p, long batch, long seed) {
    long[] shape = {batch, p.model().T(), p.model().D()};
    float[] v = new float[Math.toIntExact(HostTensor.volume(shape))];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Map.of(MsnOnnxExporter.INPUT, HostTensor.ofFloats(MsnOnnxExporter.INPUT, shape, v));
  }

  static Map<String, HostTensor> ortReference(Path onnx, Map<String, HostTensor> in)
      throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(onnx.toString(), o)) {
      HostTensor t = in.get(MsnOnnxExporter.INPUT);
      try (OnnxTensor x =
              OnnxTensor.createTensor(env, FloatBuffer.wrap(t.toFloatArray()), t.shape());
          OrtSession.Result r = s.run(Map.of(t.name(), x))) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : r) {
          OnnxTensor v = (OnnxTensor) e.getValue();
          long[] shape = v.getInfo().getShape();
          if (v.getInfo().type == ai.onnxruntime.OnnxJavaType.INT64) {
            LongBuffer b = v.getLongBuffer();
            long[] a = new long[b.remaining()];
            b.get(a);
            out.put(e.getKey(), HostTensor.ofInts(e.getKey(), shape, a));
          } else {
            FloatBuffer b = v.getFloatBuffer();
            float[] a = new float[b.remaining()];
            b.get(a);
            out.put(e.getKey(), HostTensor.ofFloats(e.getKey(), shape, a));
          }
        }
        return out;
      }
    }
  }
}
