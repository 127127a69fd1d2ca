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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad graphs and bad inputs end in an OrtException that names the node (and the tensor), never in a
 * crash; a session that reported an error keeps working.
 */
class OpErrorTest {
  @RegisterExtension static final OpTestSupport.ClassRunner ORT = new OpTestSupport.ClassRunner();

  /** Feeds for one run; made inside the test, where the runner is open. */
  @FunctionalInterface
  interface Feeds {
    Map<String, OnnxTensor> make() throws OrtException;
  }

  /**
   * One bad graph or bad feed: the node's name, its graph, the feeds (null where the session must
   * already be refused) and the parts the error message must mention.
   */
  record BadCase(String node, byte[] graph, Feeds feeds, List<String> mentions) {
    static BadCase atRun(String node, byte[] graph, Feeds feeds, String... mentions) {
      return new BadCase(node, graph, feeds, List.of(mentions));
    }

    static BadCase atLoad(String node, byte[] graph, String... mentions) {
      return new BadCase(node, graph, null, List.of(mentions));
    }

    @Override
    public String toString() {
      return node;
    }
  }

  private static void assertMentions(Exception e, List<String> parts) {
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

  private static byte[] gather(String node) {
    return OnnxGraphs.sparseGather(node, FLOAT, INT64, FLOAT);
  }

  private static byte[] pkmK(String node, int scoreType, long k) {
    return OnnxGraphs.pkm(node, scoreType, withPluginAttrs(intAttr("k", k)));
  }

  /** Ten rows of width four, the given indices and zero weights. */
  private static Feeds gatherFeeds(long... idx) {
    return () ->
        Map.of(
            "v", OrtRunner.floats(new float[10 * 4], 10, 4),
            "i", OrtRunner.longs(idx, 1, idx.length),
            "w", OrtRunner.floats(new float[idx.length], 1, idx.length));
  }

  /** values, indices and weights as the named tensors v, i and w. */
  private static Feeds feeds(OrtTensorMaker v, OrtTensorMaker i, OrtTensorMaker w) {
    return () -> Map.of("v", v.make(), "i", i.make(), "w", w.make());
  }

  /** Row and column scores as the named tensors r and c. */
  private static Feeds scores(OrtTensorMaker r, OrtTensorMaker c) {
    return () -> Map.of("r", r.make(), "c", c.make());
  }

  @FunctionalInterface
  interface OrtTensorMaker {
    OnnxTensor make() throws OrtException;
  }

  private static OrtTensorMaker zeros(int count, long... shape) {
    return () -> OrtRunner.floats(new float[count], shape);
  }

  private static OrtTensorMaker ones(long... shape) {
    return () -> OrtRunner.floats(new float[] {1}, shape);
  }

  private static OrtTensorMaker firstIndex() {
    return () -> OrtRunner.longs(new long[] {0}, 1, 1);
  }

  static Stream<BadCase> runTimeErrors() {
    float[] nanCols = new float[3 * 4];
    nanCols[2 * 4 + 1] = Float.NaN;
    return Stream.of(
        // ---- SparseGather
        BadCase.atRun(
            "sg_negative",
            gather("sg_negative"),
            gatherFeeds(0, 1, 2, -1),
            "msn.SparseGather",
            "sg_negative",
            "'indices'",
            "-1",
            "[0, 3]",
            "M = 10"),
        BadCase.atRun(
            "sg_past_end",
            gather("sg_past_end"),
            gatherFeeds(9, 10),
            "sg_past_end",
            "holds 10",
            "[0, 1]",
            "[0, M)"),
        BadCase.atRun(
            "sg_int_values",
            OnnxGraphs.sparseGather("sg_int_values", INT32, INT64, FLOAT),
            feeds(() -> OrtRunner.ints(new int[8], 2, 4), firstIndex(), ones(1, 1)),
            "sg_int_values",
            "'values'",
            "int32",
            "float32, float16 or bfloat16"),
        BadCase.atRun(
            "sg_int_indices",
            OnnxGraphs.sparseGather("sg_int_indices", FLOAT, INT32, FLOAT),
            feeds(zeros(8, 2, 4), () -> OrtRunner.ints(new int[] {0}, 1, 1), ones(1, 1)),
            "sg_int_indices",
            "'indices'",
            "int32",
            "expected int64"),
        BadCase.atRun(
            "sg_double_w",
            OnnxGraphs.sparseGather("sg_double_w", FLOAT, INT64, DOUBLE),
            feeds(zeros(8, 2, 4), firstIndex(), () -> OrtRunner.doubles(new double[] {1}, 1, 1)),
            "sg_double_w",
            "'weights'",
            "float64"),
        BadCase.atRun(
            "sg_shapes",
            gather("sg_shapes"),
            feeds(
                zeros(8, 2, 4),
                () -> OrtRunner.longs(new long[] {0, 1}, 1, 2),
                () -> OrtRunner.floats(new float[] {1, 1}, 2, 1)),
            "sg_shapes",
            "'weights'",
            "[2, 1]",
            "[1, 2]"),
        BadCase.atRun(
            "sg_rank",
            gather("sg_rank"),
            feeds(zeros(8, 2, 2, 2), firstIndex(), ones(1, 1)),
            "sg_rank",
            "'values'",
            "rank 2",
            "[2, 2, 2]"),
        // ---- PKMRetrieval
        BadCase.atRun(
            "pkm_big_k",
            pkmK("pkm_big_k", FLOAT, 9),
            scores(zeros(16, 2, 8), zeros(16, 2, 8)),
            "msn.PKMRetrieval",
            "pkm_big_k",
            "k = 9",
            "S = 8"),
        BadCase.atRun(
            "pkm_rank",
            OnnxGraphs.pkmAnyRank("pkm_rank", 2),
            scores(zeros(8, 2, 1, 4), zeros(8, 2, 1, 4)),
            "pkm_rank",
            "'row_scores'",
            "rank 2",
            "[2, 1, 4]"),
        BadCase.atRun(
            "pkm_mismatch",
            OnnxGraphs.pkmAnyRank("pkm_mismatch", 2),
            scores(zeros(8, 2, 4), zeros(6, 2, 3)),
            "pkm_mismatch",
            "[2, 4]",
            "[2, 3]",
            "same shape"),
        BadCase.atRun(
            "pkm_nan",
            pkmK("pkm_nan", FLOAT, 2),
            scores(zeros(12, 3, 4), () -> OrtRunner.floats(nanCols, 3, 4)),
            "pkm_nan",
            "'col_scores'",
            "NaN",
            "[2, 1]"));
  }

  static Stream<BadCase> loadTimeErrors() {
    return Stream.of(
        // k below one is refused when the session is created
        BadCase.atLoad("pkm_zero_k", pkmK("pkm_zero_k", FLOAT, 0), "pkm_zero_k", "k = 0", ">= 1"),
        // so is a missing k
        BadCase.atLoad(
            "pkm_no_k", OnnxGraphs.pkm("pkm_no_k", FLOAT, withPluginAttrs()), "pkm_no_k", "'k'"),
        // the loader refuses an unsupported score type, naming the node
        BadCase.atLoad("pkm_double", pkmK("pkm_double", DOUBLE, 2), "pkm_double"),
        // and mixed score types
        BadCase.atLoad(
            "pkm_mixed",
            OnnxGraphs.pkm("pkm_mixed", FLOAT, FLOAT16, withPluginAttrs(intAttr("k", 2))),
            "pkm_mixed"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("runTimeErrors")
  void badFeedIsAnErrorNamingTheNode(BadCase c) throws OrtException {
    OrtSession s = ORT.get().session(c.node(), c.graph());
    assertMentions(runFails(s, c.feeds().make()), c.mentions());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("loadTimeErrors")
  void badGraphIsRejectedWhenTheSessionIsCreated(BadCase c) {
    OrtException e =
        assertThrows(OrtException.class, () -> ORT.get().newSession(c.graph()).close());
    assertMentions(e, c.mentions());
  }

  @Test
  void sessionKeepsWorkingAfterAnIndexError() throws OrtException {
    OrtSession s = ORT.get().session("sg_recovers", gather("sg_recovers"));
    runFails(s, gatherFeeds(Long.MAX_VALUE).make());
    Map<String, OnnxTensor> ok = gatherFeeds(9, 0).make();
    try (OrtSession.Result r = s.run(ok)) {
      assertArrayEquals(new float[4], OrtRunner.readFloats((OnnxTensor) r.get(0)));
    } finally {
      ok.values().forEach(OnnxValue::close);
    }
  }
}
