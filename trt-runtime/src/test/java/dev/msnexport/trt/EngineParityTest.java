package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.HostTensor;
import dev.msnexport.parity.ParityTolerances;
import dev.msnexport.parity.RunComparison;
import dev.msnexport.profiles.Profiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * EngineGpuTest's comparison without a GPU: synthetic engine and ONNX Runtime outputs of tiny's
 * shape (B = 2, T = 2, k = 2, layers 0 and 1; sample b owns queries 2b and 2b+1).
 */
class EngineParityTest {
  /** The lines scripts/gpu-check.sh keeps in its summary (its grep -E pattern). */
  static final Pattern GPU_CHECK_LINES =
      Pattern.compile("^\\s+(tiny|small) .*(max abs err|queries identical)");

  static final String WHERE = "tiny custom fp16 batch 2";
  static final ParityTolerances FP16 =
      EngineParity.tolerances(Profiles.load("tiny").tolerance("fp16"), Precision.FP16);

  static final long[] SLOTS0 = {3, 1, 7, 2, 4, 6, 5, 0};
  static final float[] W0 = {0.55f, 0.45f, 0.8f, 0.2f, 0.65f, 0.35f, 0.75f, 0.25f};
  static final long[] SLOTS1 = {10, 11, 12, 13, 14, 15, 16, 17};
  static final float[] W1 = {0.6f, 0.4f, 0.9f, 0.1f, 0.7f, 0.3f, 0.5f, 0.5f};

  static Map<String, HostTensor> outputs(
      float[] click, long[] slots0, float[] w0, long[] slots1, float[] w1) {
    Map<String, HostTensor> m = new LinkedHashMap<>();
    m.put("click", HostTensor.ofFloats("click", new long[] {2, 1}, click));
    m.put("finish", HostTensor.ofFloats("finish", new long[] {2, 1}, new float[] {0.1f, 0.2f}));
    m.put("retrieval.0.slots", HostTensor.ofInts("retrieval.0.slots", new long[] {4, 2}, slots0));
    m.put("retrieval.0.weights", HostTensor.ofFloats("retrieval.0.weights", new long[] {4, 2}, w0));
    m.put("retrieval.1.slots", HostTensor.ofInts("retrieval.1.slots", new long[] {4, 2}, slots1));
    m.put("retrieval.1.weights", HostTensor.ofFloats("retrieval.1.weights", new long[] {4, 2}, w1));
    return m;
  }

  static final Map<String, HostTensor> WANT =
      outputs(new float[] {0.3f, 0.6f}, SLOTS0, W0, SLOTS1, W1);

  /** EngineParity.check's printed lines, and its verdict (null when it passed). */
  record Checked(List<String> lines, AssertionError failure) {}

  static Checked check(Map<String, HostTensor> got) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    AssertionError failure = null;
    try (PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      EngineParity.check(WHERE, WANT, got, FP16, log);
    } catch (AssertionError e) {
      failure = e;
    }
    return new Checked(bytes.toString(StandardCharsets.UTF_8).lines().toList(), failure);
  }

  @Test
  void setChangingTiePassesWithItsSampleExemptDownstream() {
    // query 3 (sample 1), layer 0: slot 9 replaces slot 0 with the same weight, a tie that changes
    // the set;
    // downstream, sample 1's layer-1 slots and weights and its click differ
    long[] slots0 = {3, 1, 7, 2, 4, 6, 5, 9};
    long[] slots1 = {10, 11, 12, 13, 20, 21, 22, 23};
    float[] w1 = {0.6f, 0.4f, 0.9f, 0.1f, 0.95f, 0.05f, 0.85f, 0.15f};
    Checked c = check(outputs(new float[] {0.3f, 0.9f}, slots0, W0, slots1, w1));
    assertEquals(null, c.failure());
    assertEquals(6, c.lines().size(), c.lines().toString()); // 2 layers' slots, 4 float outputs
    for (String line : c.lines()) {
      assertTrue(GPU_CHECK_LINES.matcher(line).find(), "gpu-check.sh would drop: " + line);
    }
    assertEquals(
        "  tiny custom fp16 batch 2 retrieval.0.slots      3/4 queries identical, 1 ties (1 change the set; largest gap 0.00),"
            + " 0 downstream of a tie, 0 beyond ties",
        c.lines().get(0));
    assertTrue(
        c.lines()
            .get(1)
            .contains(
                "2/4 queries identical, 0 ties (0 change the set; largest gap 0.00), 2 downstream of a tie"),
        c.lines().get(1));
    assertEquals(
        "  tiny custom fp16 batch 2 click                  max abs err 0.00 (1 tie-exempt elements, max abs 0.300)",
        c.lines().get(2));
    assertTrue(
        c.lines().get(4).contains("retrieval.0.weights    max abs err 0.00 (2 tie-exempt elements"),
        c.lines().get(4));
    assertTrue(
        c.lines().get(5).contains("retrieval.1.weights    max abs err 0.00 (4 tie-exempt elements"),
        c.lines().get(5));
  }

  @Test
  void realMismatchFailsAndSaysWhere() {
    // query 0: slot 9 with a far smaller weight than the slot 1 it replaced
    long[] slots0 = {3, 9, 7, 2, 4, 6, 5, 0};
    float[] w0 = {0.95f, 0.05f, 0.8f, 0.2f, 0.65f, 0.35f, 0.75f, 0.25f};
    Checked c = check(outputs(new float[] {0.3f, 0.6f}, slots0, w0, SLOTS1, W1));
    assertTrue(c.failure() != null, "passed");
    assertTrue(
        c.failure()
            .getMessage()
            .contains(
                WHERE
                    + ": retrieval.0.slots: 1 of 4 queries differ beyond ties (tie_epsilon 0.0290"),
        c.failure().getMessage());
    assertTrue(c.lines().get(0).endsWith("1 beyond ties"), c.lines().get(0));
  }

  @Test
  void errorOutsideTiesFails() {
    Checked c = check(outputs(new float[] {0.31f, 0.6f}, SLOTS0, W0, SLOTS1, W1));
    assertTrue(
        c.failure().getMessage().contains("click: 1 of 2 elements beyond atol 0.00500"),
        c.failure().getMessage());
  }

  @Test
  void unwrittenSlotsAndValuesFail() {
    long[] slots0 = SLOTS0.clone();
    slots0[5] = -1; // what poisonOutputs(0xff) leaves in an int64 output nobody wrote
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () ->
                EngineParity.check(
                    WHERE,
                    WANT,
                    outputs(new float[] {0.3f, 0.6f}, slots0, W0, SLOTS1, W1),
                    FP16,
                    System.out));
    assertTrue(e.getMessage().contains("retrieval.0.slots[5] = -1 (unwritten)"), e.getMessage());
    // ... and in a float output: NaN, failing even in a sample that a tie exempts
    long[] tie = {3, 1, 7, 2, 4, 6, 5, 9};
    Checked c =
        check(outputs(new float[] {0.3f, Float.intBitsToFloat(0xffffffff)}, tie, W0, SLOTS1, W1));
    assertTrue(
        c.failure().getMessage().contains("click: 1 of 2 elements"), c.failure().getMessage());
    assertTrue(
        c.lines().get(2).endsWith("(1 non-finite: unwritten or overflow)"), c.lines().get(2));
  }

  @Test
  void tolerancesAreTheVerifiersForThePrecision() {
    var tiny = Profiles.load("tiny");
    ParityTolerances fp32 = EngineParity.tolerances(tiny.tolerance("fp32"), Precision.FP32);
    assertEquals(1e-4, fp32.atolFor("click"), 0);
    assertEquals(0, fp32.rtolFor("click"), 0);
    assertEquals(
        2 * tiny.tolerance("fp32").tieEpsilon(), fp32.rtolFor(RunComparison.weightsOutput(0)), 0);
    assertEquals(tiny.tolerance("fp16").atol(), FP16.atolFor("click"), 0);
    assertEquals(tiny.tolerance("fp16").rtol(), FP16.rtolFor("click"), 0);
    assertEquals(
        Math.max(tiny.tolerance("fp16").rtol(), 2 * tiny.tolerance("fp16").tieEpsilon()),
        FP16.rtolFor("retrieval.1.weights"),
        0);
  }
}
