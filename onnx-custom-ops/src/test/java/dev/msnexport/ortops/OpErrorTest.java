package dev.msnexport.ortops;

import static dev.msnexport.ortops.OnnxGraphs.DOUBLE;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT16;
import static dev.msnexport.ortops.OnnxGraphs.INT32;
import static dev.msnexport.ortops.OnnxGraphs.INT64;
import static dev.msnexport.ortops.OnnxGraphs.intAttr;
import static dev.msnexport.ortops.OnnxGraphs.withPluginAttrs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bad graphs and bad inputs end in an OrtException that names the node (and the tensor), never in a
 * crash; a session that reported an error keeps working.
 */
class OpErrorTest {
  @RegisterExtension static final OpTestSupport.ClassRunner ORT = new OpTestSupport.ClassRunner();

  private static void assertMentions(Exception e, String... parts) {
    String msg = e.getMessage();
    for (String p : parts) {
      assertTrue(msg.contains(p), () -> "message should mention '" + p + "': " + msg);
    }
  }

  private static OrtException runFails(OrtSession s, Map<String, OnnxTensor> inputs) {
    try {
      return assertThrows(OrtException.class, () -> s.run(inputs).close());
    } finally {
      inputs.values().forEach(OnnxValue::close);
    }
  }

  // ---- SparseGather
  // -------------------------------------------------------------------------------

  private static OrtException gatherFails(
      OrtSession s, OnnxTensor values, OnnxTensor indices, OnnxTensor weights) {
    return runFails(s, Map.of("v", values, "i", indices, "w", weights));
  }

  private static OrtSession gather(String node) throws OrtException {
    return ORT.get().session(node, OnnxGraphs.sparseGather(node, FLOAT, INT64, FLOAT));
  }

  private static Map<String, OnnxTensor> gatherInputs(long[] idx) throws OrtException {
    return Map.of(
        "v", OrtRunner.floats(new float[10 * 4], 10, 4),
        "i", OrtRunner.longs(idx, 1, idx.length),
        "w", OrtRunner.floats(new float[idx.length], 1, idx.length));
  }

  @Test
  void negativeIndexIsAnErrorNamingNodeAndPosition() throws OrtException {
    OrtSession s = gather("sg_negative");
    OrtException e = runFails(s, gatherInputs(new long[] {0, 1, 2, -1}));
    assertMentions(e, "msn.SparseGather", "sg_negative", "'indices'", "-1", "[0, 3]", "M = 10");
  }

  @Test
  void indexEqualToRowCountIsAnError() throws OrtException {
    OrtSession s = gather("sg_past_end");
    OrtException e = runFails(s, gatherInputs(new long[] {9, 10}));
    assertMentions(e, "sg_past_end", "holds 10", "[0, 1]", "[0, M)");
  }

  @Test
  void sessionKeepsWorkingAfterAnIndexError() throws OrtException {
    OrtSession s = gather("sg_recovers");
    runFails(s, gatherInputs(new long[] {Long.MAX_VALUE}));
    Map<String, OnnxTensor> ok = gatherInputs(new long[] {9, 0});
    try (OrtSession.Result r = s.run(ok)) {
      assertArrayEquals(new float[4], OrtRunner.readFloats((OnnxTensor) r.get(0)));
    } finally {
      ok.values().forEach(OnnxValue::close);
    }
  }

  @Test
  void wrongValueTypeIsAnError() throws OrtException {
    OrtSession s =
        ORT.get()
            .session(
                "sg_int_values", OnnxGraphs.sparseGather("sg_int_values", INT32, INT64, FLOAT));
    OrtException e =
        gatherFails(
            s,
            OrtRunner.ints(new int[8], 2, 4),
            OrtRunner.longs(new long[] {0}, 1, 1),
            OrtRunner.floats(new float[] {1}, 1, 1));
    assertMentions(e, "sg_int_values", "'values'", "int32", "float32, float16 or bfloat16");
  }

  @Test
  void wrongIndexTypeIsAnError() throws OrtException {
    OrtSession s =
        ORT.get()
            .session(
                "sg_int_indices", OnnxGraphs.sparseGather("sg_int_indices", FLOAT, INT32, FLOAT));
    OrtException e =
        gatherFails(
            s,
            OrtRunner.floats(new float[8], 2, 4),
            OrtRunner.ints(new int[] {0}, 1, 1),
            OrtRunner.floats(new float[] {1}, 1, 1));
    assertMentions(e, "sg_int_indices", "'indices'", "int32", "expected int64");
  }

  @Test
  void wrongWeightTypeIsAnError() throws OrtException {
    OrtSession s =
        ORT.get()
            .session("sg_double_w", OnnxGraphs.sparseGather("sg_double_w", FLOAT, INT64, DOUBLE));
    OrtException e =
        gatherFails(
            s,
            OrtRunner.floats(new float[8], 2, 4),
            OrtRunner.longs(new long[] {0}, 1, 1),
            OrtRunner.doubles(new double[] {1}, 1, 1));
    assertMentions(e, "sg_double_w", "'weights'", "float64");
  }

  @Test
  void weightShapeMustMatchIndices() throws OrtException {
    OrtSession s = gather("sg_shapes");
    OrtException e =
        gatherFails(
            s,
            OrtRunner.floats(new float[8], 2, 4),
            OrtRunner.longs(new long[] {0, 1}, 1, 2),
            OrtRunner.floats(new float[] {1, 1}, 2, 1));
    assertMentions(e, "sg_shapes", "'weights'", "[2, 1]", "[1, 2]");
  }

  @Test
  void valuesMustBeRankTwo() throws OrtException {
    OrtSession s = gather("sg_rank");
    OrtException e =
        gatherFails(
            s,
            OrtRunner.floats(new float[8], 2, 2, 2),
            OrtRunner.longs(new long[] {0}, 1, 1),
            OrtRunner.floats(new float[] {1}, 1, 1));
    assertMentions(e, "sg_rank", "'values'", "rank 2", "[2, 2, 2]");
  }

  // ---- PKMRetrieval
  // -------------------------------------------------------------------------------

  @Test
  void kLargerThanSIsAnErrorAtRunTime() throws OrtException {
    OrtSession s =
        ORT.get()
            .session(
                "pkm_big_k", OnnxGraphs.pkm("pkm_big_k", FLOAT, withPluginAttrs(intAttr("k", 9))));
    OrtException e =
        runFails(
            s,
            Map.of(
                "r",
                OrtRunner.floats(new float[16], 2, 8),
                "c",
                OrtRunner.floats(new float[16], 2, 8)));
    assertMentions(e, "msn.PKMRetrieval", "pkm_big_k", "k = 9", "S = 8");
  }

  @Test
  void kBelowOneIsRejectedWhenTheSessionIsCreated() {
    OrtException e =
        assertThrows(
            OrtException.class,
            () ->
                ORT.get()
                    .newSession(
                        OnnxGraphs.pkm("pkm_zero_k", FLOAT, withPluginAttrs(intAttr("k", 0))))
                    .close());
    assertMentions(e, "pkm_zero_k", "k = 0", ">= 1");
  }

  @Test
  void missingKIsRejectedWhenTheSessionIsCreated() {
    OrtException e =
        assertThrows(
            OrtException.class,
            () ->
                ORT.get().newSession(OnnxGraphs.pkm("pkm_no_k", FLOAT, withPluginAttrs())).close());
    assertMentions(e, "pkm_no_k", "'k'");
  }

  @Test
  void scoresMustBeRankTwo() throws OrtException {
    OrtSession s = ORT.get().session("pkm_rank", OnnxGraphs.pkmAnyRank("pkm_rank", 2));
    OrtException e =
        runFails(
            s,
            Map.of(
                "r",
                OrtRunner.floats(new float[8], 2, 1, 4),
                "c",
                OrtRunner.floats(new float[8], 2, 1, 4)));
    assertMentions(e, "pkm_rank", "'row_scores'", "rank 2", "[2, 1, 4]");
  }

  @Test
  void scoreShapesMustMatch() throws OrtException {
    OrtSession s = ORT.get().session("pkm_mismatch", OnnxGraphs.pkmAnyRank("pkm_mismatch", 2));
    OrtException e =
        runFails(
            s,
            Map.of(
                "r",
                OrtRunner.floats(new float[8], 2, 4),
                "c",
                OrtRunner.floats(new float[6], 2, 3)));
    assertMentions(e, "pkm_mismatch", "[2, 4]", "[2, 3]", "same shape");
  }

  @Test
  void nanScoreIsAnErrorNamingThePosition() throws OrtException {
    OrtSession s =
        ORT.get()
            .session("pkm_nan", OnnxGraphs.pkm("pkm_nan", FLOAT, withPluginAttrs(intAttr("k", 2))));
    float[] cols = new float[3 * 4];
    cols[2 * 4 + 1] = Float.NaN;
    OrtException e =
        runFails(
            s,
            Map.of("r", OrtRunner.floats(new float[12], 3, 4), "c", OrtRunner.floats(cols, 3, 4)));
    assertMentions(e, "pkm_nan", "'col_scores'", "NaN", "[2, 1]");
  }

  @Test
  void unsupportedScoreTypeIsRejectedByTheLoaderNamingTheNode() {
    OrtException e =
        assertThrows(
            OrtException.class,
            () ->
                ORT.get()
                    .newSession(
                        OnnxGraphs.pkm("pkm_double", DOUBLE, withPluginAttrs(intAttr("k", 2))))
                    .close());
    assertMentions(e, "pkm_double");
  }

  @Test
  void mixedScoreTypesAreRejectedByTheLoaderNamingTheNode() {
    OrtException e =
        assertThrows(
            OrtException.class,
            () ->
                ORT.get()
                    .newSession(
                        OnnxGraphs.pkm(
                            "pkm_mixed", FLOAT, FLOAT16, withPluginAttrs(intAttr("k", 2))))
                    .close());
    assertMentions(e, "pkm_mixed");
  }
}
