package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import org.junit.jupiter.api.Test;

/**
 * The floor model against figures worked out by hand from each built-in profile's config
 * (docs/performance.md, "Floor model", gives the formulas). H = ffn_mult*D, hh = head_hidden, m =
 * number of MSN layers, t = tasks, N = B*T.
 *
 * <pre>
 * parameters = L*(4D + T*(2HD + H + D)) + m*(2dk*D + 2dk + 4dk + 2S*dk) + t*(hh*D + 2hh + 1)
 * flops/token = L*4DH + m*(4D*dk + 4S*dk + 2kD);  flops/sample = t*(2D*hh + 2hh)
 * values = m*N*k*D*vb;  with reuse m*min(N*k, S^2)*D*vb;  activations = 4*N*D + 4*B*t
 * </pre>
 */
class FloorModelTest {
  private static final FloorModel.DataBytes FP32 = FloorModel.DataBytes.of("fp32", "fp32");
  private static final FloorModel.DataBytes FP16 = FloorModel.DataBytes.of("fp16", "fp32");

  private static ModelConfig model(String profile) {
    return Profiles.load(profile).model();
  }

  private static void assertWork(
      String profile,
      int batch,
      FloorModel.DataBytes b,
      long weights,
      long values,
      long reuse,
      long activations,
      double flops) {
    FloorModel.Work w = FloorModel.work(model(profile), batch, b);
    String at = profile + " batch " + batch;
    assertEquals(weights, w.weight_bytes(), at + " weights");
    assertEquals(values, w.value_bytes(), at + " values");
    assertEquals(reuse, w.value_bytes_reuse(), at + " values with reuse");
    assertEquals(activations, w.activation_bytes(), at + " activations");
    assertEquals(flops, w.flops(), 0.5, at + " flops");
  }

  @Test
  void tiny() {
    // parameters 2*(64 + 4*(2*32*16 + 32 + 16)) + 2*(256 + 16 + 32 + 128) + 2*(256 + 32 + 1) =
    // 10,146
    // flops/token 2*4*16*32 + 2*(4*16*8 + 4*8*8 + 2*4*16) = 4,096 + 1,792 = 5,888; flops/sample
    // 2*(512 + 32) = 1,088
    assertWork("tiny", 1, FP32, 40_584, 2_048, 2_048, 264, 4 * 5_888 + 1_088);
    // N = 2,048 queries * k 4 = 8,192 rows > 64 slots: reuse reads each table once (64 * 16 * 2 B *
    // 2 layers)
    assertWork("tiny", 512, FP16, 20_292, 524_288, 4_096, 135_168, 12_615_680);
  }

  @Test
  void small() {
    assertWork("small", 1, FP32, 1_163_784, 65_536, 65_536, 2_056, 835_840);
    assertWork("small", 512, FP16, 581_892, 16_777_216, 1_048_576, 1_052_672, 427_950_080);
  }

  @Test
  void paper() {
    // parameters 2*(3,072 + 16*(2*1536*768 + 1536 + 768)) + 2*(393,216 + 512 + 1,024 + 131,072) +
    // 2*(196,608 + 513)
    //   = 75,583,488 + 1,051,648 + 394,242 = 77,023,234 (the per-token FFN's 75.5 M of them)
    // flops/token 2*4*768*1536 + 2*(4*768*256 + 4*256*256 + 2*32*768) = 9,437,184 + 2,195,456 =
    // 11,632,640
    assertWork("paper", 1, FP32, 308_092_936, 3_145_728, 3_145_728, 49_160, 186_909_696);
    assertWork(
        "paper", 512, FP16, 154_046_468, 805_306_368, 201_326_592, 25_169_920, 95_697_764_352.0);
    assertWork(
        "paper",
        2048,
        FP32,
        308_092_936,
        6_442_450_944L,
        402_653_184,
        100_679_680,
        382_791_057_408.0);
  }

  @Test
  void large() {
    // one MSN layer of 1,048,576 slots: at batch 2,048 the 262,144 rows read are still fewer than
    // the slots
    assertWork("large", 1, FP32, 67_880_712, 262_144, 262_144, 16_392, 35_389_696);
    assertWork(
        "large", 2048, FP32, 67_880_712, 536_870_912, 536_870_912, 33_570_816, 72_478_097_408.0);
  }

  @Test
  void floorIsTheLargerOfBytesAndArithmetic() {
    FloorModel.Ceilings h100 = new FloorModel.Ceilings(3.0e12, 67e12, "test");
    // paper fp32 batch 1: (308,092,936 + 3,145,728 + 49,160) B / 3 TB/s = 103.76 us; 186.9 MFLOP /
    // 67 TFLOP/s = 2.79 us
    FloorModel.Floor f1 = FloorModel.floor(model("paper"), 1, FP32, h100);
    assertEquals(103.762608, f1.bytes_us(), 1e-6);
    assertEquals(2.789697, f1.flops_us(), 1e-6);
    assertEquals(f1.bytes_us(), f1.floor_us());
    assertEquals(2.0, f1.multiple(2 * 103.762608), 1e-9);
    // paper fp32 batch 2048: 382.8 GFLOP / 67 TFLOP/s = 5,713.30 us beats 6.85 GB / 3 TB/s =
    // 2,283.74 us
    FloorModel.Floor f2 = FloorModel.floor(model("paper"), 2048, FP32, h100);
    assertEquals(2283.741187, f2.bytes_us(), 1e-6);
    assertEquals(5713.299364, f2.flops_us(), 1e-6);
    assertEquals(f2.flops_us(), f2.floor_us());
    assertEquals(f2.flops_us(), f2.floor_reuse_us());
  }

  @Test
  void dataBytesFollowThePrecision() {
    assertEquals(new FloorModel.DataBytes(4, 4), FloorModel.DataBytes.of("fp32", "fp32"));
    assertEquals(new FloorModel.DataBytes(4, 2), FloorModel.DataBytes.of("fp32", "fp16"));
    assertEquals(new FloorModel.DataBytes(2, 2), FloorModel.DataBytes.of("fp16", "fp32"));
    assertEquals(new FloorModel.DataBytes(2, 1), FloorModel.DataBytes.of("fp16", "int8"));
  }

  @Test
  void refusesNonsense() {
    assertThrows(IllegalArgumentException.class, () -> FloorModel.work(model("tiny"), 0, FP32));
    assertThrows(IllegalArgumentException.class, () -> new FloorModel.Ceilings(Double.NaN, 1, "x"));
    assertThrows(IllegalArgumentException.class, () -> new FloorModel.Ceilings(1, 0, "x"));
    assertThrows(
        IllegalArgumentException.class,
        () -> new FloorModel.Ceilings(Double.POSITIVE_INFINITY, 1, "x"));
  }
}
