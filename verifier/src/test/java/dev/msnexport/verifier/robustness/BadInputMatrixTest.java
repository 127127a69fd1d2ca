package dev.msnexport.verifier.robustness;

import static dev.msnexport.verifier.robustness.BadInputs.assumeCustomOps;
import static dev.msnexport.verifier.robustness.BadInputs.gatherFeeds;
import static dev.msnexport.verifier.robustness.BadInputs.nativeOpsPresent;
import static dev.msnexport.verifier.robustness.BadInputs.tokens;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.ortops.MsnOrtOps;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.Verifier;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.OrtBackend;
import dev.msnexport.verifier.backend.TrtBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bad-input matrix of docs/robustness.md: every bad input a user or an upstream system can hand
 * a backend, on every backend, with the outcome the contract defines. Model inputs are checked the
 * same way by every backend (a {@link BadInputException} that names {@code tokens}); the op-level
 * cases (k > S, indices outside the table) use hand-made single-op graphs, since an exported model
 * never produces them.
 *
 * <p>Backends: golden and ort-reference always; ort-custom when the onnx-custom-ops jar carries its
 * native library; trt when TensorRT and a GPU are present (otherwise skipped, with the reason).
 */
class BadInputMatrixTest {
  static final String PROFILE = "tiny";
  @TempDir static Path tmp;
  static Profile profile;
  static ModelConfig config;
  static Path checkpointDir;
  static ExportedModel model;
  static Checkpoint checkpoint;

  @BeforeAll
  static void exportTiny() {
    profile = Profiles.load(PROFILE);
    config = profile.model();
    checkpointDir = tmp.resolve("ck");
    SyntheticCheckpoint.write(config, checkpointDir, 11);
    checkpoint = Checkpoint.open(checkpointDir);
    Path out = tmp.resolve("model");
    MsnOnnxExporter.export(
        checkpoint,
        out,
        new MsnOnnxExporter.Options(DType.F32, MsnOnnxExporter.ExternalData.NEVER, true, PROFILE));
    model = ExportedModel.open(out);
  }

  @AfterAll
  static void close() {
    if (checkpoint != null) {
      checkpoint.close();
    }
  }

  static Stream<String> backends() {
    return Stream.of(GoldenBackend.NAME, OrtBackend.REFERENCE, OrtBackend.CUSTOM, TrtBackend.NAME);
  }

  /** Opens a backend, or skips the test with the reason the backend cannot exist here. */
  static Backend open(String name) {
    switch (name) {
      case GoldenBackend.NAME:
        return new GoldenBackend(checkpoint);
      case OrtBackend.REFERENCE:
        return new OrtBackend(name, model.reference(), false, 1);
      case OrtBackend.CUSTOM:
        assumeTrue(
            nativeOpsPresent(),
            "ort-custom: "
                + MsnOrtOps.RESOURCE
                + " is not in the onnx-custom-ops jar (built with "
                + "-Dmsn.native.skip=true, or not on linux-x86_64)");
        return new OrtBackend(name, model.custom(), true, 1);
      case TrtBackend.NAME:
        try {
          return TrtBackend.open(
              model,
              profile,
              TrtBackend.Options.defaults(profile),
              new PrintStream(new ByteArrayOutputStream()));
        } catch (BackendException e) {
          if (e.getMessage() != null && e.getMessage().startsWith("TensorRT is not available")) {
            abort("trt: " + e.getMessage());
          }
          throw e;
        }
      default:
        throw new IllegalArgumentException(name);
    }
  }

  static void assertBadInputNamingTokens(
      String backend, Map<String, HostTensor> inputs, String... alsoNamed) {
    try (Backend b = open(backend)) {
      BadInputException e = assertThrows(BadInputException.class, () -> b.infer(inputs), backend);
      assertTrue(
          e.getMessage().contains("'" + MsnOnnxExporter.INPUT + "'"),
          backend + ": " + e.getMessage());
      for (String s : alsoNamed) {
        assertTrue(e.getMessage().contains(s), backend + ": '" + s + "' in: " + e.getMessage());
      }
    }
  }

  // ---- model inputs: the same outcome on every backend ----------------------------------------

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void emptyBatchIsBadInput(String backend) {
    assertBadInputNamingTokens(
        backend, tokens(new long[] {0, config.T(), config.D()}, 0f), "[0, " + config.T());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void wrongRankIsBadInput(String backend) {
    assertBadInputNamingTokens(backend, tokens(new long[] {2, (long) config.T() * config.D()}, 0f));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void wrongTokenCountOrWidthIsBadInput(String backend) {
    assertBadInputNamingTokens(backend, tokens(new long[] {2, config.T() + 1, config.D()}, 0f));
    assertBadInputNamingTokens(backend, tokens(new long[] {2, config.T(), config.D() - 1}, 0f));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void integerTokensAreBadInput(String backend) {
    long[] shape = {2, config.T(), config.D()};
    long[] v = new long[2 * config.T() * config.D()];
    assertBadInputNamingTokens(
        backend,
        Map.of(MsnOnnxExporter.INPUT, HostTensor.ofInts(MsnOnnxExporter.INPUT, shape, v)),
        "int64");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void missingTokensAreBadInput(String backend) {
    assertBadInputNamingTokens(backend, Map.of());
  }

  static Stream<Arguments> nonFinite() {
    return backends()
        .flatMap(
            b ->
                Stream.of(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY)
                    .map(v -> Arguments.of(b, v)));
  }

  /**
   * NaN and +-Inf tokens are refused before inference, naming the first bad element: candidate,
   * token, feature.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("nonFinite")
  void nonFiniteTokensAreBadInput(String backend, float bad) {
    Map<String, HostTensor> in = Inputs.random(config, 3, 5);
    double[] v = in.get(MsnOnnxExporter.INPUT).floats().clone();
    int at = (1 * config.T() + 2) * config.D() + 3; // candidate 1, token 2, feature 3
    v[at] = bad;
    v[v.length - 1] = bad;
    Map<String, HostTensor> poisoned =
        Map.of(
            MsnOnnxExporter.INPUT,
            HostTensor.ofFloats(MsnOnnxExporter.INPUT, new long[] {3, config.T(), config.D()}, v));
    assertBadInputNamingTokens(backend, poisoned, String.valueOf((double) bad), "[1, 2, 3]");
  }

  /**
   * Finite but huge tokens are computed, not refused. LayerNorm squares its input, so float32
   * backends overflow from |x| ~ 1.8e19 (sqrt of the float32 maximum) and collapse the norm to its
   * bias, while the float64 golden model does not: outputs stay finite, the float32 backends agree
   * with each other, and parity against golden fails (verify exits 1), which is the signal.
   */
  @Test
  void hugeFiniteTokensOverflowFloat32BackendsAndFailParityAgainstGolden() {
    Map<String, HostTensor> in = Inputs.random(config, 2, 1);
    double[] v = in.get(MsnOnnxExporter.INPUT).floats().clone();
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (v[i] * 1e25);
    }
    Map<String, HostTensor> huge =
        Map.of(
            MsnOnnxExporter.INPUT,
            HostTensor.ofFloats(MsnOnnxExporter.INPUT, new long[] {2, config.T(), config.D()}, v));
    try (Backend golden = open(GoldenBackend.NAME);
        Backend ort = open(OrtBackend.REFERENCE)) {
      Verifier.Tolerances tol =
          new Verifier.Tolerances(profile.tolerance("fp32"), Map.of(), Map.of());
      VerifyReport r =
          Verifier.run(
              new Verifier.Subject("model", PROFILE, "fp32", List.of(golden, ort), huge, 1), tol);
      assertTrue(!r.pass(), "float32 overflow is caught by parity");
      for (VerifyReport.BackendRun run : r.backends()) {
        assertEquals(
            "ok", run.status(), run.name() + " computes huge finite inputs: " + run.error());
      }
      for (var c : r.comparisons()) {
        c.outputs().forEach(o -> assertEquals(0, o.non_finite(), o.name() + " stays finite"));
      }
      if (nativeOpsPresent()) {
        try (Backend custom = open(OrtBackend.CUSTOM)) {
          VerifyReport same =
              Verifier.run(
                  new Verifier.Subject("model", PROFILE, "fp32", List.of(ort, custom), huge, 1),
                  tol);
          assertTrue(same.pass(), () -> "the float32 backends agree: " + Profiles.toJson(same));
        }
      }
    }
  }

  /**
   * The profile's batch.max is what engines are built for; the backends themselves compute any
   * batch (a defined result, the same as within range) except trt, whose engine refuses it as bad
   * input (its optimization profile ends at batch.max). The CLI refuses it up front for every
   * backend (cli's robustness tests).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  void batchAboveTheProfileMaxComputesTheSameResultOutsideTrt(String backend) {
    Map<String, HostTensor> in = Inputs.random(config, profile.batch().max() + 1, 3);
    try (Backend golden = open(GoldenBackend.NAME);
        Backend b = open(backend)) {
      if (backend.equals(TrtBackend.NAME)) {
        // seen on the GPU machine: the engine's optimization profile refuses it as bad input naming
        // the tensor and range
        BadInputException e = assertThrows(BadInputException.class, () -> b.infer(in));
        assertTrue(
            e.getMessage().contains("'tokens'") && e.getMessage().contains("optimization profile"),
            e.getMessage());
        return;
      }
      List<Backend> pair =
          backend.equals(GoldenBackend.NAME) ? List.of(golden) : List.of(golden, b);
      if (pair.size() == 1) {
        Map<String, HostTensor> out = golden.infer(in);
        assertEquals(profile.batch().max() + 1, out.get(config.tasks().get(0)).shape()[0]);
        return;
      }
      VerifyReport r =
          Verifier.run(
              new Verifier.Subject("model", PROFILE, "fp32", pair, in, 3),
              new Verifier.Tolerances(profile.tolerance("fp32"), Map.of(), Map.of()));
      assertTrue(r.pass(), () -> Profiles.toJson(r));
    }
  }

  // ---- op level: hand-made graphs ------------------------------------------------------------

  @Test
  void kAboveSInTheCustomOpIsABackendErrorNamingKAndS() throws IOException {
    assumeCustomOps();
    Path g = HandMadeGraphs.pkmRetrieval(tmp, 4, 5);
    try (Backend b = new OrtBackend(OrtBackend.CUSTOM, g, true, 1)) {
      Map<String, HostTensor> in =
          Map.of(
              "row_scores",
              HostTensor.ofFloats("row_scores", new long[] {2, 4}, new float[8]),
              "col_scores",
              HostTensor.ofFloats("col_scores", new long[] {2, 4}, new float[8]));
      BackendException e = assertThrows(BackendException.class, () -> b.infer(in));
      assertTrue(
          e.getMessage().contains("k = 5") && e.getMessage().contains("S = 4"), e.getMessage());
    }
  }

  @Test
  void kBelowOneInTheCustomOpFailsWhenTheModelIsLoaded() throws IOException {
    assumeCustomOps();
    Path g = HandMadeGraphs.pkmRetrieval(tmp, 4, 0);
    BackendException e =
        assertThrows(
            BackendException.class, () -> new OrtBackend(OrtBackend.CUSTOM, g, true, 1).close());
    assertTrue(e.getMessage().contains("k = 0"), e.getMessage());
  }

  @Test
  void kAboveSInTheReferenceTopKIsABackendError() throws IOException {
    Path g = HandMadeGraphs.topK(tmp, 4, 5);
    BackendException e =
        assertThrows(
            BackendException.class,
            () -> {
              try (Backend b = new OrtBackend(OrtBackend.REFERENCE, g, false, 1)) {
                b.infer(
                    Map.of(
                        "scores", HostTensor.ofFloats("scores", new long[] {2, 4}, new float[8])));
              }
            });
    assertTrue(e.getMessage().contains("5") && e.getMessage().contains("4"), e.getMessage());
  }

  @Test
  void kAboveSInAGoldenConfigIsBadInputNamingTheField() {
    String json =
        Profiles.toJson(config).replace("\"k\" : " + config.k(), "\"k\" : " + (config.S() + 1));
    BadInputException e =
        assertThrows(BadInputException.class, () -> Profiles.parseModelConfig(json, "config.json"));
    assertTrue(e.getMessage().contains("field 'k'"), e.getMessage());
  }

  @ParameterizedTest(name = "index {0}")
  @ValueSource(longs = {8, -1, Long.MAX_VALUE, Long.MIN_VALUE})
  void sparseGatherIndexOutsideTheTableIsABackendErrorNamingIt(long index) throws IOException {
    assumeCustomOps();
    Path g = HandMadeGraphs.sparseGather(tmp, 8, 4);
    try (Backend b = new OrtBackend(OrtBackend.CUSTOM, g, true, 1)) {
      Map<String, HostTensor> ok = gatherFeeds(new long[] {3, 7}, 0.5f, 0.25f);
      assertEquals(0.5 * 3 + 0.25 * 7, b.infer(ok).get("out").floats()[0], 1e-6);
      Map<String, HostTensor> bad = gatherFeeds(new long[] {3, index}, 0.5f, 0.25f);
      BackendException e = assertThrows(BackendException.class, () -> b.infer(bad));
      assertTrue(
          e.getMessage().contains("indices") && e.getMessage().contains(Long.toString(index)),
          e.getMessage());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.msnexport.verifier.robustness.BadInputs#badQuantizedTables")
  void aBadQuantizedTableIsABackendErrorNamingTheTensor(
      String name, int type, byte[] codes, float[] scales, String names) throws IOException {
    assumeCustomOps();
    Path g = HandMadeGraphs.quantizedSparseGather(tmp, "q-" + name, type, 4, 2, codes, scales);
    try (Backend b = new OrtBackend(OrtBackend.CUSTOM, g, true, 1)) {
      Map<String, HostTensor> in = gatherFeeds(new long[] {0}, 1f);
      BackendException e = assertThrows(BackendException.class, () -> b.infer(in));
      assertTrue(e.getMessage().contains(names), e.getMessage());
    }
  }

  @Test
  void referenceGatherRefusesAnIndexPastTheTableAndWrapsANegativeOne() throws IOException {
    Path g = HandMadeGraphs.gather(tmp, 8, 4);
    try (Backend b = new OrtBackend(OrtBackend.REFERENCE, g, false, 1)) {
      BackendException e =
          assertThrows(
              BackendException.class,
              () ->
                  b.infer(
                      Map.of(
                          "indices",
                          HostTensor.ofInts("indices", new long[] {1, 2}, new long[] {3, 8}))));
      assertTrue(e.getMessage().contains("8"), e.getMessage());
      // ONNX Gather semantics: -1 is the last row. Exported graphs never feed it one (TopK
      // indices).
      double[] out =
          b.infer(
                  Map.of(
                      "indices", HostTensor.ofInts("indices", new long[] {1, 1}, new long[] {-1})))
              .get("out")
              .floats();
      assertEquals(7.0, out[0]);
    }
  }
}
