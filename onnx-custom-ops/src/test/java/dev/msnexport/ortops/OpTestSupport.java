package dev.msnexport.ortops;

import static dev.msnexport.ortops.OnnxGraphs.FLOAT;
import static dev.msnexport.ortops.OnnxGraphs.FLOAT16;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import java.util.Random;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the op tests share: one {@link OrtRunner} per test class, and inputs in the ops' float
 * types.
 */
final class OpTestSupport {
  private OpTestSupport() {}

  /**
   * An {@link OrtRunner} with two intra-op threads, opened before a test class's first test and
   * closed after its last: {@code @RegisterExtension static final OpTestSupport.ClassRunner ORT =
   * new OpTestSupport.ClassRunner();} then {@code ORT.get()}.
   */
  static final class ClassRunner implements BeforeAllCallback, AfterAllCallback {
    private OrtRunner runner;

    @Override
    public void beforeAll(ExtensionContext context) throws OrtException {
      runner = new OrtRunner(2);
    }

    @Override
    public void afterAll(ExtensionContext context) throws OrtException {
      runner.close();
      runner = null;
    }

    OrtRunner get() {
      if (runner == null) {
        throw new IllegalStateException(
            "ClassRunner is used outside its test class (register it with @RegisterExtension static)");
      }
      return runner;
    }
  }

  /**
   * A float32 tensor, or a float16 one (type {@link OnnxGraphs#FLOAT16}) of the values rounded to
   * half.
   */
  static OnnxTensor floats(int type, float[] x, long... shape) throws OrtException {
    if (type == FLOAT16) {
      short[] bits = new short[x.length];
      for (int i = 0; i < x.length; i++) {
        bits[i] = ContractReference.floatToHalf(x[i]);
      }
      return OrtRunner.halves(bits, OnnxJavaType.FLOAT16, shape);
    }
    if (type != FLOAT) {
      throw new IllegalArgumentException("float32 or float16 only, got ONNX type " + type);
    }
    return OrtRunner.floats(x, shape);
  }

  static float[] gaussian(Random rnd, int count, double scale) {
    float[] x = new float[count];
    for (int i = 0; i < count; i++) {
      x[i] = (float) (rnd.nextGaussian() * scale);
    }
    return x;
  }

  /** Each value rounded to the nearest float16, as a float. */
  static float[] roundToHalf(float[] x) {
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = ContractReference.halfToFloat(ContractReference.floatToHalf(x[i]));
    }
    return y;
  }
}
