package dev.msnexport.ortops;

import static dev.msnexport.ortops.OnnxGraphs.FLOAT;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT16;
import static dev.msnexport.ortops.OnnxGraphs.INT64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The shared helpers of the op tests do what those tests rely on. */
class OpTestSupportTest {
  @Test
  void floatsInBothTypes() throws OrtException {
    float[] x = OpTestSupport.gaussian(new Random(5), 6, 3.0);
    try (OnnxTensor f = OpTestSupport.floats(FLOAT, x, 2, 3);
        OnnxTensor h = OpTestSupport.floats(FLOAT16, x, 2, 3)) {
      assertEquals(OnnxJavaType.FLOAT, f.getInfo().type);
      assertArrayEquals(new long[] {2, 3}, f.getInfo().getShape());
      assertArrayEquals(x, OrtRunner.readFloats(f));
      assertEquals(OnnxJavaType.FLOAT16, h.getInfo().type);
      short[] bits = OrtRunner.readShorts(h);
      float[] back = new float[bits.length];
      for (int i = 0; i < bits.length; i++) {
        back[i] = ContractReference.halfToFloat(bits[i]);
      }
      assertArrayEquals(OpTestSupport.roundToHalf(x), back);
    }
    assertThrows(IllegalArgumentException.class, () -> OpTestSupport.floats(INT64, x, 6));
  }

  @Test
  void aClassRunnerIsOnlyOpenInsideItsTestClass() {
    assertThrows(IllegalStateException.class, () -> new OpTestSupport.ClassRunner().get());
  }
}
