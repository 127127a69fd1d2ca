package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Engines built from exported models on a real GPU, compared with ONNX Runtime (CPU) on the
 * reference graph: fp32 max abs error <= 1e-4 and identical retrieved slots except exact ties;
 * fp16 within the profile's fp16 tolerances. Skipped where there is no GPU and TensorRT (CI);
 * run by scripts/gpu-check.sh on the GPU machine.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EngineGpuTest {
  static final double FP32_ATOL = 1e-4;

  /** Builder optimization level of the test engines (low: fast builds; the tests check numbers, not speed). */
  static final int OPT_LEVEL = Integer.getInteger("msn.trt.test.optimizationLevel", 1);

  Path dir;

  final Map<String, Path> exports = new LinkedHashMap<>();
  Path timingCache;
  final PrintStream log = System.out;

  @BeforeAll
  void exportModels() throws java.io.IOException {
    assumeTrue(TensorRt.isAvailable(), () -> "no GPU/TensorRT: " + TensorRt.status().reason());
    assumeTrue(PluginLibrary.isPackaged(), "the plugin library is not built");
    dir = Files.createTempDirectory("msn-trt-gpu-test-"); // @TempDir fields are injected only per test method
    timingCache = dir.resolve("timing.cache");
    for (String name : List.of("tiny", "small")) {
      Profile p = Profiles.load(name);
      Path ck = dir.resolve(name + "-ck");
      SyntheticCheckpoint.write(p.model(), ck, 7);
      Path out = dir.resolve(name);
      try (Checkpoint c = Checkpoint.open(ck)) {
        MsnOnnxExporter.export(c, out, new MsnOnnxExporter.Options(MsnOnnxExporter.Options.defaults().valuesDtype(),
            MsnOnnxExporter.ExternalData.AUTO, true, name));
      }
      exports.put(name, out);
    }
  }

  Path build(String profile, String graph, Precision precision) {
    Profile p = Profiles.load(profile);
    Path out = exports.get(profile);
    Path plan = out.resolve("engine." + graph + "." + precision.label() + ".plan");
    if (!Files.exists(plan)) {
      EngineBuilder.build(new EngineBuilder.Request(out.resolve("model." + graph + ".onnx"), graph, precision, profile, p.batch(),
          timingCache, plan, 0, OPT_LEVEL), log);
    }
    return plan;
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({"tiny, custom, fp32", "tiny, custom, fp16", "tiny, reference, fp32", "small, custom, fp32", "small, custom, fp16",
      "small, reference, fp32"})
  void engineMatchesOnnxRuntimeReference(String profile, String graph, String precision) throws OrtException {
    Profile p = Profiles.load(profile);
    Precision prec = Precision.parse(precision);
    Path plan = build(profile, graph, prec);
    EngineMetadata meta = EngineMetadata.read(plan);
    assertEquals(graph, meta.graph());
    assertEquals(precision, meta.precision());
    assertEquals(p.batch(), meta.batch());
    Profile.Tolerance tol = p.tolerance(precision);
    double atol = prec == Precision.FP32 ? FP32_ATOL : tol.atol();
    double rtol = prec == Precision.FP32 ? 0 : tol.rtol();
    double tieEps = tol.tieEpsilon();
    Path model = exports.get(profile);
    try (TrtEngine e = TrtEngine.load(plan, model.resolve("model." + graph + ".onnx"))) {
      for (long batch : new long[] {p.batch().min(), 5, p.batch().max()}) {
        Map<String, TensorData> in = randomTokens(p, batch, 1000 + batch);
        e.poisonOutputs(0xff);
        Map<String, TensorData> got = e.infer(in);
        Map<String, TensorData> want = ortReference(model.resolve(MsnOnnxExporter.REFERENCE_FILE), in);
        assertEquals(want.keySet(), got.keySet(), "outputs");
        String where = String.format(Locale.ROOT, "%s %s %s batch %d", profile, graph, precision, batch);
        // Slots first, layer by layer, as the verifier does: a tie that changes a query's slot set makes
        // its sample diverge, and everything downstream of it (later layers, task outputs) is exempt.
        boolean[] diverged = new boolean[(int) batch];
        Map<String, boolean[]> weightsExempt = new java.util.HashMap<>();
        for (TensorData w : want.values()) {
          TensorData g = got.get(w.name());
          assertEquals(List.of(box(w.shape())), List.of(box(g.shape())), where + " " + w.name() + " shape");
        }
        for (String slots : want.keySet().stream().filter(n -> n.endsWith(".slots")).sorted().toList()) {
          String weights = slots.replace(".slots", ".weights");
          boolean[] exempt = new boolean[want.get(slots).size() / (int) want.get(slots).shape()[want.get(slots).shape().length - 1]];
          compareSlots(where, want.get(slots), got.get(slots), want.get(weights), got.get(weights), tieEps, diverged, exempt);
          weightsExempt.put(weights, exempt);
        }
        for (TensorData w : want.values()) {
          if (!w.isInteger()) {
            boolean weights = w.name().endsWith(".weights");
            // fp16: scores that move by tie_epsilon move a weight by up to 2 * tie_epsilon * w (as the verifier)
            double r = weights && prec != Precision.FP32 ? Math.max(rtol, 2 * tieEps) : rtol;
            compareFloats(where, w, got.get(w.name()), atol, r, weights ? weightsExempt.get(w.name()) : diverged);
          }
        }
        log.printf(Locale.ROOT, "%s: ok (gpu %.3f ms)%n", where, e.lastGpuMillis());
      }
    }
  }

  @Test
  void timesPreparedRunsWithAndWithoutCudaGraphs() {
    Path plan = build("small", "custom", Precision.FP32);
    Profile p = Profiles.load("small");
    try (TrtEngine e = TrtEngine.load(plan, exports.get("small").resolve(MsnOnnxExporter.CUSTOM_FILE))) {
      e.prepare(randomTokens(p, 64, 3));
      e.runPrepared();
      for (boolean graph : new boolean[] {false, true}) {
        TrtEngine.Timing t = e.time(3, 20, graph);
        assertEquals(20, t.gpuMillis().length);
        for (int i = 0; i < 20; i++) {
          assertTrue(t.gpuMillis()[i] > 0 && t.hostMillis()[i] >= t.gpuMillis()[i] * 0.5, "iteration " + i);
        }
        log.printf(Locale.ROOT, "small custom fp32 batch 64: gpu p50 %.4f ms p99 %.4f ms, host p50 %.4f ms, cuda graph %s%s%n",
            t.gpuPercentile(50), t.gpuPercentile(99), t.hostPercentile(50), t.cudaGraph(), t.note() == null ? "" : " (" + t.note() + ")");
      }
      assertThrows(BadInputException.class, () -> e.infer(randomTokens(p, p.batch().max() + 1, 1)), "batch above the profile");
    }
  }

  @Test
  void refusesAPlanForAnotherModel() throws Exception {
    Path plan = build("tiny", "custom", Precision.FP32);
    // the tiny plan against small's custom graph: the ONNX digest differs
    BadInputException e = assertThrows(BadInputException.class,
        () -> TrtEngine.load(plan, exports.get("small").resolve(MsnOnnxExporter.CUSTOM_FILE)));
    assertTrue(e.getMessage().contains("the model changed since the build"), e.getMessage());
    // a plan whose bytes were replaced
    Path copy = dir.resolve("copy.plan");
    Files.copy(plan, copy);
    Files.copy(EngineMetadata.sidecarOf(plan), EngineMetadata.sidecarOf(copy));
    Files.write(copy, new byte[] {1, 2, 3});
    BadInputException replaced = assertThrows(BadInputException.class, () -> TrtEngine.load(copy, null));
    assertTrue(replaced.getMessage().contains("was replaced"), replaced.getMessage());
  }

  static Map<String, TensorData> randomTokens(Profile p, long batch, long seed) {
    long[] shape = {batch, p.model().T(), p.model().D()};
    float[] v = new float[Math.toIntExact(TensorData.volume(shape))];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Map.of(MsnOnnxExporter.INPUT, TensorData.ofFloats(MsnOnnxExporter.INPUT, shape, v));
  }

  static Map<String, TensorData> ortReference(Path onnx, Map<String, TensorData> in) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(onnx.toString(), o)) {
      TensorData t = in.get(MsnOnnxExporter.INPUT);
      try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), t.shape());
          OrtSession.Result r = s.run(Map.of(t.name(), x))) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : r) {
          OnnxTensor v = (OnnxTensor) e.getValue();
          long[] shape = v.getInfo().getShape();
          if (v.getInfo().type == ai.onnxruntime.OnnxJavaType.INT64) {
            LongBuffer b = v.getLongBuffer();
            long[] a = new long[b.remaining()];
            b.get(a);
            out.put(e.getKey(), TensorData.ofLongs(e.getKey(), shape, a));
          } else {
            FloatBuffer b = v.getFloatBuffer();
            float[] a = new float[b.remaining()];
            b.get(a);
            out.put(e.getKey(), TensorData.ofFloats(e.getKey(), shape, a));
          }
        }
        return out;
      }
    }
  }

  /**
   * Float outputs element by element, except the elements of tie-exempt samples (the output's
   * elements split evenly over the batch rows).
   */
  static void compareFloats(String where, TensorData want, TensorData got, double atol, double rtol, boolean[] tieSamples) {
    double maxAbs = 0;
    double exemptMax = 0;
    int exempt = 0;
    int per = tieSamples == null ? Integer.MAX_VALUE : want.size() / tieSamples.length;
    for (int i = 0; i < want.size(); i++) {
      float g = got.floats()[i];
      assertFalse(Float.isNaN(g) || Float.isInfinite(g), where + " " + want.name() + "[" + i + "] = " + g + " (unwritten or overflow)");
      double d = Math.abs(g - want.floats()[i]);
      if (tieSamples != null && tieSamples[i / per]) {
        exempt++;
        exemptMax = Math.max(exemptMax, d);
        continue;
      }
      maxAbs = Math.max(maxAbs, d);
      assertTrue(d <= atol + rtol * Math.abs(want.floats()[i]), String.format(Locale.ROOT, "%s %s[%d]: got %.8g want %.8g (|d| %.3g > %.3g)",
          where, want.name(), i, g, want.floats()[i], d, atol + rtol * Math.abs(want.floats()[i])));
    }
    System.out.printf(Locale.ROOT, "  %s %-22s max abs err %.3g%s%n", where, want.name(), maxAbs,
        exempt == 0 ? "" : String.format(Locale.ROOT, " (%d tie-exempt elements, max abs %.3g)", exempt, exemptMax));
  }

  /**
   * Slots [.., k] per query: identical, or a tie: a difference that scores within {@code tieEps}
   * of each other explain. As in the verifier's RetrievalComparison (weights mode): log-weights are
   * scores up to one offset per list (estimated from the slots both lists hold); the best slot the
   * candidate left out may beat the worst it took instead by at most tieEps, each list's choice
   * must hold against the other's weakest slot, and the candidate's list must be non-increasing.
   * Queries of samples marked in {@code diverged} (an earlier layer's tie changed their slot set)
   * are skipped; a tie that changes the slot set marks its sample and its query in
   * {@code setChanged}. Every other query must be identical or a tie.
   */
  static void compareSlots(String where, TensorData want, TensorData got, TensorData wantW, TensorData gotW, double tieEps,
      boolean[] diverged, boolean[] setChanged) {
    int k = (int) want.shape()[want.shape().length - 1];
    int queries = want.size() / k;
    int perSample = queries / diverged.length;
    boolean[] before = diverged.clone();
    int identical = 0;
    int ties = 0;
    int setChanging = 0;
    int downstream = 0;
    double maxTieGap = 0;
    List<String> bad = new ArrayList<>();
    for (int q = 0; q < queries; q++) {
      int o = q * k;
      for (int m = 0; m < k; m++) {
        assertTrue(got.longs()[o + m] >= 0, where + " " + want.name() + "[" + (o + m) + "] = " + got.longs()[o + m] + " (unwritten)");
      }
      if (before[q / perSample]) {
        downstream++;
        setChanged[q] = true; // its weights are not comparable either
        continue;
      }
      if (java.util.Arrays.equals(want.longs(), o, o + k, got.longs(), o, o + k)) {
        identical++;
        continue;
      }
      double shift = 0;
      int common = 0;
      for (int m = 0; m < k; m++) {
        int r = indexOf(want.longs(), o, k, got.longs()[o + m]);
        if (r >= 0) {
          shift += Math.log(wantW.floats()[o + r]) - Math.log(gotW.floats()[o + m]);
          common++;
        }
      }
      shift = common == 0 ? 0 : shift / common;
      double refMin = Double.POSITIVE_INFINITY;
      double candMin = Double.POSITIVE_INFINITY;
      for (int m = 0; m < k; m++) {
        refMin = Math.min(refMin, Math.log(wantW.floats()[o + m]));
        candMin = Math.min(candMin, Math.log(gotW.floats()[o + m]) + shift);
      }
      double worstIntruder = Double.POSITIVE_INFINITY;
      double bestMissing = Double.NEGATIVE_INFINITY;
      double gap = 0;
      boolean setDiffers = false;
      for (int m = 0; m < k; m++) {
        double cand = Math.log(gotW.floats()[o + m]) + shift;
        double ref = Math.log(wantW.floats()[o + m]);
        if (indexOf(want.longs(), o, k, got.longs()[o + m]) < 0) {
          setDiffers = true;
          worstIntruder = Math.min(worstIntruder, cand);
          gap = Math.max(gap, cand - refMin);
        }
        if (indexOf(got.longs(), o, k, want.longs()[o + m]) < 0) {
          bestMissing = Math.max(bestMissing, ref);
          gap = Math.max(gap, ref - candMin);
        }
        if (m > 0) {
          gap = Math.max(gap, Math.log(gotW.floats()[o + m]) - Math.log(gotW.floats()[o + m - 1]));
        }
      }
      if (setDiffers) {
        gap = Math.max(gap, bestMissing - worstIntruder);
      }
      if (gap <= tieEps) {
        ties++;
        maxTieGap = Math.max(maxTieGap, gap);
        if (setDiffers) {
          setChanging++;
          setChanged[q] = true;
          diverged[q / perSample] = true;
        }
      } else if (bad.size() < 3) {
        bad.add(String.format(Locale.ROOT, "query %d (gap %.3g)", q, gap));
      }
    }
    System.out.printf(Locale.ROOT, "  %s %-22s %d/%d queries identical, %d ties (%d change the set; largest gap %.3g), %d downstream of a tie,"
        + " %d beyond ties%n", where, want.name(), identical, queries, ties, setChanging, maxTieGap, downstream,
        queries - downstream - identical - ties);
    assertEquals(queries - downstream, identical + ties,
        where + " " + want.name() + ": slots differ beyond ties (tie_epsilon " + tieEps + ") at " + bad);
  }

  private static int indexOf(long[] slots, int from, int k, long slot) {
    for (int m = 0; m < k; m++) {
      if (slots[from + m] == slot) {
        return m;
      }
    }
    return -1;
  }

  private static Long[] box(long[] a) {
    Long[] b = new Long[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = a[i];
    }
    return b;
  }
}
