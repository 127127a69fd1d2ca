package dev.msnexport.verifier.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.Defaults;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.BackendSpec.Graph;
import dev.msnexport.verifier.backend.BackendSpec.Precision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry opens each spec for an export (names are the specs' strings); TensorRT specs resolve
 * their open parts in one order (spec, settings, profile, fp32/custom); the defaults.
 */
class BackendsTest {
  @TempDir Path tmp;

  ExportedModel export(String profile) {
    return export(profile, dev.msnexport.exporter.safetensors.DType.F32, "m");
  }

  ExportedModel export(
      String profile, dev.msnexport.exporter.safetensors.DType values, String dir) {
    Path ck = tmp.resolve("ck");
    SyntheticCheckpoint.write(Profiles.load("tiny").model(), ck, 5);
    Path out = tmp.resolve(dir);
    try (Checkpoint c = Checkpoint.open(ck, null)) {
      MsnOnnxExporter.export(
          c,
          out,
          new MsnOnnxExporter.Options(values, MsnOnnxExporter.ExternalData.AUTO, true, profile));
    }
    return ExportedModel.open(out);
  }

  static Profile withPrecision(Profile p, String precision) {
    return new Profile(
        p.name(),
        p.description(),
        p.model(),
        p.batch(),
        precision,
        p.valuesDtype(),
        p.tolerances(),
        p.latency());
  }

  @Test
  void opensEverySpecOfTheListInOrderNamedByItsString() {
    ExportedModel m = export("tiny");
    Profile p = Profiles.load("tiny");
    List<BackendSpec> specs =
        BackendSpec.parseAll(List.of("ort-custom", " golden", "ort-reference"));
    try (Backends.Opened o = Backends.open(specs, m, p, Backends.Options.defaults(System.out))) {
      assertEquals(
          List.of("ort-custom", "golden", "ort-reference"),
          o.backends().stream().map(Backend::name).toList());
      assertInstanceOf(OrtBackend.class, o.backends().get(0));
      assertInstanceOf(GoldenBackend.class, o.backends().get(1));
      assertNotNull(o.checkpoint(), "golden opened the export's checkpoint");
    }
    try (Backends.Opened o =
        Backends.open(
            List.of(BackendSpec.ORT_REFERENCE), m, p, Backends.Options.defaults(System.out))) {
      assertNull(o.checkpoint(), "no golden, no checkpoint");
    }
  }

  @Test
  void aFailureClosesWhatWasOpened() throws Exception {
    ExportedModel m = export("tiny");
    Files.delete(m.reference());
    List<BackendSpec> specs = List.of(BackendSpec.GOLDEN, BackendSpec.ORT_REFERENCE);
    assertThrows(
        BadInputException.class,
        () ->
            Backends.open(specs, m, Profiles.load("tiny"), Backends.Options.defaults(System.out)));
  }

  @Test
  void trtSpecsResolveSpecThenSettingsThenProfileThenDefaults() {
    Profile fp32 = withPrecision(Profiles.load("tiny"), "fp32");
    Profile fp16 = withPrecision(Profiles.load("tiny"), "fp16");
    Profile none = withPrecision(Profiles.load("tiny"), null);
    TrtSettings plain = TrtSettings.DEFAULTS;
    TrtSettings given = new TrtSettings(null, Precision.FP16, Graph.REFERENCE, null);
    BackendSpec trt = BackendSpec.TRT;
    BackendSpec trt32custom = BackendSpec.parse("trt:fp32:custom");
    assertEquals(
        new TrtSettings.Resolved(Precision.FP32, Graph.CUSTOM, null), plain.resolve(trt, none));
    assertEquals(
        new TrtSettings.Resolved(Precision.FP16, Graph.CUSTOM, null), plain.resolve(trt, fp16));
    assertEquals(
        new TrtSettings.Resolved(Precision.FP16, Graph.REFERENCE, null), given.resolve(trt, fp32));
    assertEquals(
        new TrtSettings.Resolved(Precision.FP32, Graph.CUSTOM, null),
        given.resolve(trt32custom, fp16));
    assertThrows(IllegalArgumentException.class, () -> plain.resolve(BackendSpec.GOLDEN, fp32));
  }

  @Test
  void graphsAndToleranceKeysOfEachSpec() {
    ExportedModel m = export("tiny");
    Profile fp16 = withPrecision(Profiles.load("tiny"), "fp16");
    TrtSettings t = TrtSettings.DEFAULTS;
    assertEquals(m.custom(), t.onnxOf(BackendSpec.ORT_CUSTOM, m, fp16));
    assertEquals(m.reference(), t.onnxOf(BackendSpec.ORT_REFERENCE, m, fp16));
    assertEquals(m.custom(), t.onnxOf(BackendSpec.TRT, m, fp16));
    assertEquals(m.reference(), t.onnxOf(BackendSpec.parse("trt:reference"), m, fp16));
    assertNull(t.onnxOf(BackendSpec.GOLDEN, m, fp16));
    assertEquals("fp16", t.toleranceKey(BackendSpec.TRT, m, fp16), "the profile's fp16");
    assertEquals("fp32", t.toleranceKey(BackendSpec.parse("trt:fp32"), m, fp16));
    assertEquals("fp32", t.toleranceKey(BackendSpec.ORT_CUSTOM, m, fp16));
    assertEquals("fp32", t.toleranceKey(BackendSpec.GOLDEN, m, fp16));
  }

  @Test
  void quantizedTablesTakeTheToleranceOfEachBackendsArithmetic() {
    Profile fp16 = withPrecision(Profiles.load("tiny"), "fp16");
    TrtSettings t = TrtSettings.DEFAULTS;
    for (var dtype :
        List.of(
            dev.msnexport.exporter.safetensors.DType.I8,
            dev.msnexport.exporter.safetensors.DType.F8_E4M3)) {
      ExportedModel q = export("tiny", dtype, "q-" + dtype);
      assertEquals("fp16", t.toleranceKey(BackendSpec.TRT, q, fp16), dtype + ": trt in fp16");
      assertEquals("fp32", t.toleranceKey(BackendSpec.parse("trt:fp32"), q, fp16), dtype.name());
      assertEquals("fp32", t.toleranceKey(BackendSpec.ORT_CUSTOM, q, fp16), dtype.name());
      assertEquals("fp32", t.toleranceKey(BackendSpec.GOLDEN, q, fp16), dtype.name());
    }
    ExportedModel half = export("tiny", dev.msnexport.exporter.safetensors.DType.F16, "half");
    assertEquals("fp16", t.toleranceKey(BackendSpec.ORT_CUSTOM, half, fp16), "fp16 tables");
  }

  @Test
  void theProfileFallsBackToTinyAloudAndOnlyWhenNothingNamesOne() {
    ExportedModel recorded = export("small");
    List<String> warnings = new ArrayList<>();
    assertEquals("paper", Defaults.profileName("paper", recorded, warnings::add));
    assertEquals("small", Defaults.profileName(null, recorded, warnings::add));
    assertTrue(warnings.isEmpty(), warnings.toString());
    ExportedModel none =
        new ExportedModel(
            recorded.dir(),
            recorded.config(),
            null,
            "fp32",
            recorded.checkpoint(),
            recorded.checkpointSha256(),
            true);
    assertEquals(Defaults.FALLBACK_PROFILE, Defaults.profileName(null, none, warnings::add));
    assertEquals(1, warnings.size());
    assertTrue(
        warnings.get(0).contains("records no profile and --profile is not given: using tiny's"),
        warnings.get(0));
  }

  @Test
  void planFileNamesGraphPrecisionAndProfile() {
    assertEquals("engine.custom.fp16.small.plan", Defaults.planFile("custom", "fp16", "small"));
    assertEquals(
        "engine.reference.fp32.tiny.plan",
        Defaults.planFile(Graph.REFERENCE.label(), Precision.FP32.label(), "tiny"));
  }
}
