package dev.msnexport.verifier;

import static dev.msnexport.verifier.OutputSetFixtures.floats;
import static dev.msnexport.verifier.OutputSetFixtures.outputs;
import static dev.msnexport.verifier.OutputSetFixtures.tinyOutputs;
import static dev.msnexport.verifier.OutputSetFixtures.tokens;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.MarkOutputsTest.Fixed;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.OrtBackend;
import dev.msnexport.verifier.io.GoldenFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verifier never passes what it did not compare: outputs are compared as a set with shapes and
 * dtypes first (between backends a failure naming the output and both backends, in a golden file
 * bad input naming the file and tensor), backends are distinct, and each pair uses the tolerances
 * of its own lower precision. (A graph with float slots: cli's VerifyTrustCliTest.)
 */
class OutputSetTest {
  static final Profile TINY = Profiles.load("tiny");
  static final Verifier.Tolerances FP32 =
      new Verifier.Tolerances(TINY.tolerance("fp32"), Map.of(), Map.of(), "fp32");

  @TempDir Path tmp;

  /**
   * Candidate {@code cand} (backend "cand") against reference {@code ref} (backend "ref", listed
   * first).
   */
  static VerifyReport verify(Map<String, HostTensor> cand, Map<String, HostTensor> ref) {
    return Verifier.run(
        new Verifier.Subject(
            "m",
            "tiny",
            "fp32",
            List.of(new Fixed("ref", ref), new Fixed("cand", cand)),
            Inputs.random(TINY.model(), 2, 0),
            0),
        FP32);
  }

  static VerifyReport.OutputSetMismatch onlyMismatch(VerifyReport r) {
    assertFalse(r.pass());
    VerifyReport.Comparison c = r.comparisons().get(0);
    assertFalse(c.pass());
    assertEquals(1, c.output_set().size(), c.output_set().toString());
    return c.output_set().get(0);
  }

  @Test
  void anOutputMissingFromEitherSideFailsNamingItAndBothBackends() {
    Map<String, HostTensor> without = outputs();
    without.remove("click");
    VerifyReport.OutputSetMismatch m = onlyMismatch(verify(without, outputs()));
    assertEquals(new VerifyReport.OutputSetMismatch("click", "absent", "float [2, 1]"), m);
    assertEquals(
        "output click: cand gives absent, ref gives float [2, 1]", m.message("cand", "ref"));
    assertEquals(
        new VerifyReport.OutputSetMismatch("click", "float [2, 1]", "absent"),
        onlyMismatch(verify(outputs(), without)));
    assertTrue(verify(outputs(), outputs()).pass(), "the same outputs pass");
  }

  @Test
  void anotherShapeOrDtypeFailsAndTheRestIsStillCompared() {
    for (long[] shape : new long[][] {{1, 2}, {2, 1, 1}}) {
      Map<String, HostTensor> other = outputs();
      other.put("click", floats("click", shape, 0.25));
      VerifyReport r = verify(other, outputs());
      assertEquals("click", onlyMismatch(r).output());
      assertEquals(
          List.of("retrieval.0.weights"),
          r.comparisons().get(0).outputs().stream().map(o -> o.name()).toList());
      assertEquals(1, r.comparisons().get(0).retrieval().size(), "the slots are still compared");
    }
    // float slots (an edited graph) against int64 ones: a failure, not a NullPointerException
    Map<String, HostTensor> floatSlots = outputs();
    floatSlots.put("retrieval.0.slots", floats("retrieval.0.slots", new long[] {2, 4, 2}, 1));
    VerifyReport r = verify(floatSlots, outputs());
    assertEquals(
        new VerifyReport.OutputSetMismatch(
            "retrieval.0.slots", "float [2, 4, 2]", "int64 [2, 4, 2]"),
        onlyMismatch(r));
    assertTrue(r.comparisons().get(0).retrieval().isEmpty());
    // weights missing: that layer's slots cannot be classified and are left out with it (the
    // weights' absence fails)
    Map<String, HostTensor> noWeights = outputs();
    noWeights.remove("retrieval.0.weights");
    r = verify(noWeights, outputs());
    assertEquals("retrieval.0.weights", onlyMismatch(r).output());
    assertEquals(
        List.of("click"), r.comparisons().get(0).outputs().stream().map(o -> o.name()).toList());
  }

  @Test
  void aBackendListedTwiceIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Verifier.run(
                    new Verifier.Subject(
                        "m",
                        "tiny",
                        "fp32",
                        List.of(new Fixed("a", outputs()), new Fixed("a", outputs())),
                        Inputs.random(TINY.model(), 2, 0),
                        0),
                    FP32));
    assertTrue(e.getMessage().contains("a is listed twice"), e.getMessage());
  }

  @Test
  void eachPairUsesTheTolerancesOfItsOwnLowerPrecision() {
    // click differs by 1e-3 between a and the others: beyond tiny's fp32 atol (1e-5), within its
    // fp16 atol (5e-3)
    Map<String, HostTensor> a = outputs();
    Map<String, HostTensor> b = outputs();
    b.put("click", floats("click", new long[] {2, 1}, 0.251));
    Map<String, HostTensor> c = new LinkedHashMap<>(b);
    Verifier.PairTolerances tol =
        Verifier.PairTolerances.byLowerPrecision(
            TINY,
            new Verifier.Tolerances(TINY.tolerance("fp32"), Map.of(), Map.of()),
            Map.of("c", "fp16"),
            "fp32");
    VerifyReport r =
        Verifier.run(
            new Verifier.Subject(
                "m",
                "tiny",
                "fp32",
                List.of(new Fixed("a", a), new Fixed("b", b), new Fixed("c", c)),
                Inputs.random(TINY.model(), 2, 0),
                0),
            tol,
            null,
            List.of());
    Map<String, VerifyReport.Comparison> byPair = new LinkedHashMap<>();
    r.comparisons().forEach(x -> byPair.put(x.candidate() + "-" + x.reference(), x));
    assertEquals("fp32", byPair.get("b-a").tolerances().precision());
    assertFalse(
        byPair.get("b-a").pass(),
        "fp32 against fp32 keeps fp32 tolerances with an fp16 backend in the run");
    assertEquals(1e-5, byPair.get("b-a").outputs().get(1).atol());
    assertEquals("fp16", byPair.get("c-a").tolerances().precision());
    assertTrue(byPair.get("c-a").pass());
    assertEquals(5e-3, byPair.get("c-a").outputs().get(1).atol());
    assertEquals(0.029, byPair.get("c-b").tolerances().tie_epsilon());
    assertEquals(
        0.029,
        byPair.get("c-b").retrieval().get(0).tie_epsilon(),
        "the pair's tie_epsilon classifies its ties");
    assertEquals(1e-4, byPair.get("b-a").retrieval().get(0).tie_epsilon());
  }

  @Test
  void aRaisedRetrievalWeightsRtolIsReportedWithItsReason() {
    // tiny fp32: rtol 1e-5, tie_epsilon 1e-4, so the weights' rtol is 2e-4
    VerifyReport.Comparison c = verify(outputs(), outputs()).comparisons().get(0);
    VerifyReport.AppliedTolerances t = c.tolerances();
    assertEquals(new VerifyReport.AppliedTolerances("fp32", 1e-5, 1e-5, 1e-4, t.raised_rtol()), t);
    assertEquals(1, t.raised_rtol().size());
    VerifyReport.RaisedRtol x = t.raised_rtol().get(0);
    assertEquals("retrieval.0.weights", x.output());
    assertEquals(1e-5, x.requested());
    assertEquals(2e-4, x.applied());
    assertTrue(
        x.reason().contains("2 * tie_epsilon") && x.reason().contains("above the profile's rtol"),
        x.reason());
    assertEquals(
        2e-4,
        c.outputs().stream()
            .filter(o -> o.name().equals("retrieval.0.weights"))
            .findFirst()
            .orElseThrow()
            .rtol());
    assertNull(t.raisedNote("click"));
    // a typed global rtol is named as such; one set for the weights by name is never raised
    Verifier.Tolerances typed =
        new Verifier.Tolerances(TINY.tolerance("fp32"), Map.of(), Map.of("", 1e-6), "fp32");
    assertTrue(
        typed
            .applied(List.of("retrieval.0.weights"))
            .raised_rtol()
            .get(0)
            .reason()
            .contains("the rtol given with --rtol"));
    Verifier.Tolerances byName =
        new Verifier.Tolerances(
            TINY.tolerance("fp32"), Map.of(), Map.of("retrieval.0.weights", 1e-6), "fp32");
    assertTrue(byName.applied(List.of("retrieval.0.weights", "click")).raised_rtol().isEmpty());
  }

  Map<String, HostTensor> checkGolden(
      String file,
      Map<String, HostTensor> inputs,
      Map<String, HostTensor> outs,
      List<String> marked,
      List<String> warnings) {
    long batch = inputs.get(MsnOnnxExporter.INPUT).shape()[0];
    return OutputSet.checkGolden(
        tmp.resolve(file),
        new GoldenFile(inputs, outs, "test", null),
        TINY.model(),
        OutputSet.of(TINY.model(), true, batch),
        marked,
        warnings::add);
  }

  void assertGoldenBadInput(
      Map<String, HostTensor> inputs, Map<String, HostTensor> outs, String... expected) {
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> checkGolden("g.safetensors", inputs, outs, List.of(), new ArrayList<>()));
    assertTrue(e.getMessage().contains(tmp.resolve("g.safetensors").toString()), e.getMessage());
    for (String s : expected) {
      assertTrue(e.getMessage().contains(s), e.getMessage() + " lacks " + s);
    }
  }

  @Test
  void aGoldenFileMustHoldEveryOutputOfTheExportAtItsInputsBatch() {
    Map<String, HostTensor> good = tinyOutputs(8);
    assertEquals(good, checkGolden("g.safetensors", tokens(8), good, List.of(), new ArrayList<>()));
    Map<String, HostTensor> noClick = tinyOutputs(8);
    noClick.remove("click");
    assertGoldenBadInput(tokens(8), noClick, "lacks tensor outputs.click", "float [8, 1]");
    Map<String, HostTensor> tasksOnly = tinyOutputs(8);
    tasksOnly.keySet().removeIf(name -> name.startsWith("retrieval."));
    assertGoldenBadInput(
        tokens(8),
        tasksOnly,
        "lacks tensor outputs.retrieval.0.slots",
        "int64 [8, 4, 4]",
        "--no-retrieval-outputs");
    for (long[] shape : new long[][] {{4, 2}, {2, 4, 1}}) {
      Map<String, HostTensor> bad = tinyOutputs(8);
      bad.put("click", floats("click", shape, 0.5));
      assertGoldenBadInput(
          tokens(8),
          bad,
          "tensor outputs.click is float " + java.util.Arrays.toString(shape),
          "float [8, 1]");
    }
    Map<String, HostTensor> floatSlots = tinyOutputs(8);
    floatSlots.put("retrieval.1.slots", floats("retrieval.1.slots", new long[] {8, 4, 4}, 1));
    assertGoldenBadInput(
        tokens(8), floatSlots, "outputs.retrieval.1.slots is float [8, 4, 4]", "int64 [8, 4, 4]");
    // inputs of batch 4, outputs of batch 8 (was ArrayIndexOutOfBounds, exit 70)
    assertGoldenBadInput(tokens(4), tinyOutputs(8), "outputs.retrieval.0.slots", "batch 4");
    // Polygraphy's form names the output as it is
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> checkGolden("g.json", tokens(8), noClick, List.of(), new ArrayList<>()));
    assertTrue(e.getMessage().contains("lacks tensor 'click'"), e.getMessage());
  }

  @Test
  void aGoldenFilesExtraTensorsAreModelOutputsItCannotHaveOrIntermediatesLeftOutWithAWarning() {
    Map<String, HostTensor> outs = tinyOutputs(8);
    outs.put("ctr", floats("ctr", new long[] {8, 1}, 0.5)); // not a task of tiny
    outs.put("blocks.0.ffn/Mul_3:0", floats("blocks.0.ffn/Mul_3:0", new long[] {8, 4, 16}, 0.5));
    List<String> warnings = new ArrayList<>();
    Map<String, HostTensor> kept =
        checkGolden("g.safetensors", tokens(8), outs, List.of(), warnings);
    assertEquals(tinyOutputs(8).keySet(), kept.keySet());
    assertEquals(2, warnings.size(), warnings.toString());
    assertTrue(
        warnings.get(1).contains("blocks.0.ffn/Mul_3:0")
            && warnings.get(1).contains("not compared"),
        warnings.toString());
    assertTrue(
        checkGolden(
                "g.safetensors",
                tokens(8),
                outs,
                List.of("blocks.0.ffn/Mul_3:0"),
                new ArrayList<>())
            .containsKey("blocks.0.ffn/Mul_3:0"),
        "a marked tensor is kept");
    // retrieval outputs of an export made without them
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                OutputSet.checkGolden(
                    tmp.resolve("g.safetensors"),
                    new GoldenFile(tokens(8), tinyOutputs(8), "test", null),
                    TINY.model(),
                    OutputSet.of(TINY.model(), false, 8),
                    List.of(),
                    w -> {}));
    assertTrue(
        e.getMessage().contains("outputs.retrieval.0.slots is not an output of this export"),
        e.getMessage());
  }

  /** A tiny export (no external data) and its checkpoint. */
  Path export(boolean retrievalOutputs) {
    Path ck = tmp.resolve("ck");
    if (!Files.exists(ck)) {
      SyntheticCheckpoint.write(TINY.model(), ck, 2);
    }
    Path out = tmp.resolve("out-" + retrievalOutputs);
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c,
          out,
          new MsnOnnxExporter.Options(
              DType.F32, MsnOnnxExporter.ExternalData.NEVER, retrievalOutputs, "tiny"));
    }
    return out;
  }

  /**
   * The golden model (with or without its retrieval outputs) against the reference graph of {@code
   * out}, on three random samples.
   */
  VerifyReport goldenAgainstReferenceGraph(Path out, boolean goldenRetrievalOutputs) {
    try (Checkpoint c = Checkpoint.open(tmp.resolve("ck"));
        Backend golden = new GoldenBackend(c, goldenRetrievalOutputs);
        Backend ort =
            new OrtBackend(
                OrtBackend.REFERENCE, out.resolve(MsnOnnxExporter.REFERENCE_FILE), false, 1)) {
      return Verifier.run(
          new Verifier.Subject(
              "m", "tiny", "fp32", List.of(golden, ort), Inputs.random(TINY.model(), 3, 0), 0),
          FP32);
    }
  }

  @Test
  void theGoldenBackendGivesRetrievalOutputsOnlyWhereTheExportHasThem() {
    Path out = export(false);
    VerifyReport r = goldenAgainstReferenceGraph(out, false);
    assertTrue(r.pass(), r.comparisons().get(0).output_set().toString());
    assertEquals(
        List.of("click", "finish"),
        r.comparisons().get(0).outputs().stream().map(o -> o.name()).toList());
    VerifyReport withRetrieval = goldenAgainstReferenceGraph(out, true);
    assertFalse(
        withRetrieval.pass(),
        "golden's retrieval outputs that the graph lacks are never skipped silently");
    assertEquals(4, withRetrieval.comparisons().get(0).output_set().size());
  }
}
