package dev.msnexport.verifier.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.verifier.backend.BackendSpec.Graph;
import dev.msnexport.verifier.backend.BackendSpec.Precision;
import dev.msnexport.verifier.backend.BackendSpec.Runtime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Every string {@code --backends} accepts, its canonical form, the round trip, the reference graph
 * and the errors.
 */
class BackendSpecTest {
  /** Every canonical spec: golden, both ONNX Runtime graphs, TensorRT with every part or none. */
  static List<BackendSpec> all() {
    List<BackendSpec> all =
        new ArrayList<>(
            List.of(BackendSpec.GOLDEN, BackendSpec.ORT_REFERENCE, BackendSpec.ORT_CUSTOM));
    for (Precision p : new Precision[] {null, Precision.FP32, Precision.FP16}) {
      for (Graph g : new Graph[] {null, Graph.CUSTOM, Graph.REFERENCE}) {
        all.add(new BackendSpec(Runtime.TRT, g, p));
      }
    }
    return all;
  }

  @Test
  void everyCanonicalStringParsesToItsSpec() {
    assertEquals(BackendSpec.GOLDEN, BackendSpec.parse("golden"));
    assertEquals(
        new BackendSpec(Runtime.ORT, Graph.REFERENCE, null), BackendSpec.parse("ort-reference"));
    assertEquals(new BackendSpec(Runtime.ORT, Graph.CUSTOM, null), BackendSpec.parse("ort-custom"));
    assertEquals(new BackendSpec(Runtime.TRT, null, null), BackendSpec.parse("trt"));
    assertEquals(new BackendSpec(Runtime.TRT, null, Precision.FP16), BackendSpec.parse("trt:fp16"));
    assertEquals(new BackendSpec(Runtime.TRT, null, Precision.FP32), BackendSpec.parse("trt:fp32"));
    assertEquals(
        new BackendSpec(Runtime.TRT, Graph.REFERENCE, null), BackendSpec.parse("trt:reference"));
    assertEquals(new BackendSpec(Runtime.TRT, Graph.CUSTOM, null), BackendSpec.parse("trt:custom"));
    assertEquals(
        new BackendSpec(Runtime.TRT, Graph.REFERENCE, Precision.FP16),
        BackendSpec.parse("trt:fp16:reference"));
    assertEquals(
        new BackendSpec(Runtime.TRT, Graph.CUSTOM, Precision.FP32),
        BackendSpec.parse("trt:fp32:custom"));
  }

  @Test
  void formatRoundTripsEverySpec() {
    Set<String> texts = new HashSet<>();
    for (BackendSpec s : all()) {
      String text = s.format();
      assertEquals(s, BackendSpec.parse(text), text);
      assertEquals(text, BackendSpec.parse(text).format());
      assertEquals(text, s.toString());
      assertTrue(texts.add(text), "two specs format as " + text);
    }
    assertEquals(12, texts.size());
  }

  @Test
  void partsInEitherOrderAndBlanksAroundAreTheSameSpec() {
    assertEquals(BackendSpec.parse("trt:fp16:reference"), BackendSpec.parse("trt:reference:fp16"));
    assertEquals("trt:fp16:reference", BackendSpec.parse("trt:reference:fp16").format());
    assertEquals("trt:fp32:custom", BackendSpec.parse("trt:custom:fp32").format());
    assertEquals(BackendSpec.ORT_CUSTOM, BackendSpec.parse(" ort-custom "));
    assertEquals(BackendSpec.TRT, BackendSpec.parse("\ttrt "));
  }

  @Test
  void badSpecsNameThemselvesAndTheChoices() {
    for (String bad : new String[] {"ort-nope", "", "onnx", "TRT", "golden:fp16", "trtx", "ort"}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> BackendSpec.parse(bad), bad);
      assertTrue(e.getMessage().contains("'" + bad.trim() + "'"), e.getMessage());
      assertTrue(e.getMessage().contains(BackendSpec.CHOICES), e.getMessage());
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> BackendSpec.parse("trt:fp8"));
    assertTrue(e.getMessage().contains("unknown option 'fp8'"), e.getMessage());
    assertTrue(e.getMessage().contains(BackendSpec.TRT_SPECS), e.getMessage());
    for (String bad : new String[] {"trt:", "trt::fp16", "trt:fp16:"}) {
      assertThrows(IllegalArgumentException.class, () -> BackendSpec.parse(bad), bad);
    }
    e = assertThrows(IllegalArgumentException.class, () -> BackendSpec.parse("trt:fp16:fp32"));
    assertTrue(e.getMessage().contains("precision twice"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> BackendSpec.parse("trt:custom:reference"));
    assertTrue(e.getMessage().contains("graph twice"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BackendSpec.parse(null));
  }

  @Test
  void inconsistentSpecsCannotBeMade() {
    assertThrows(IllegalArgumentException.class, () -> new BackendSpec(null, null, null));
    assertThrows(IllegalArgumentException.class, () -> new BackendSpec(Runtime.ORT, null, null));
    assertThrows(
        IllegalArgumentException.class,
        () -> new BackendSpec(Runtime.ORT, Graph.CUSTOM, Precision.FP16));
    assertThrows(
        IllegalArgumentException.class, () -> new BackendSpec(Runtime.GOLDEN, Graph.CUSTOM, null));
  }

  /** What LatencyGate.referenceOf answered, for every spec. */
  @Test
  void referenceGraphOfEveryCandidate() {
    assertEquals("ort-reference", ref("ort-custom"));
    assertEquals("trt:reference", ref("trt"));
    assertEquals("trt:reference", ref("trt:custom"));
    assertEquals("trt:fp16:reference", ref("trt:fp16"));
    assertEquals("trt:fp16:reference", ref("trt:fp16:custom"));
    assertEquals("trt:fp16:reference", ref("trt:custom:fp16"));
    assertEquals("trt:fp32:reference", ref("trt:fp32"));
    assertNull(ref("trt:reference"));
    assertNull(ref("trt:fp16:reference"));
    assertNull(ref("ort-reference"));
    assertNull(ref("golden"));
    for (BackendSpec s : all()) {
      BackendSpec r = s.reference();
      if (r != null) {
        assertEquals(s.runtime(), r.runtime());
        assertEquals(s.precision(), r.precision());
        assertEquals(Graph.REFERENCE, r.graph());
        assertNull(r.reference(), "a reference graph has no reference: " + r);
      }
    }
  }

  @Test
  void onlyTensorRtSpecsAreTrt() {
    for (BackendSpec s : all()) {
      assertEquals(s.format().startsWith("trt"), s.isTrt(), s.format());
    }
    assertFalse(BackendSpec.ORT_CUSTOM.isTrt());
  }

  private static String ref(String spec) {
    BackendSpec r = BackendSpec.parse(spec).reference();
    return r == null ? null : r.format();
  }
}
