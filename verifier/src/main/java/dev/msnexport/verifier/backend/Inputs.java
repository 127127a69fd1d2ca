package dev.msnexport.verifier.backend;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.ModelConfig;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/** Model inputs: seeded random tokens, and the checks every backend applies to given inputs. */
public final class Inputs {
  private Inputs() {}

  /**
   * {@code tokens [batch, T, D]} drawn from N(0, 1) with a fixed seed: the same on every machine.
   */
  public static Map<String, HostTensor> random(ModelConfig c, int batch, long seed) {
    if (batch < 1) {
      throw new BadInputException("batch must be at least 1, got " + batch);
    }
    SplittableRandom r = new SplittableRandom(seed);
    float[] data = new float[Math.multiplyExact(Math.multiplyExact(batch, c.T()), c.D())];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) r.nextGaussian();
    }
    return Map.of(
        MsnOnnxExporter.INPUT,
        HostTensor.ofFloats(MsnOnnxExporter.INPUT, new long[] {batch, c.T(), c.D()}, data));
  }

  /** The {@code tokens} input, checked against the config: rank, T, D and a batch of at least 1. */
  public static HostTensor tokens(Map<String, HostTensor> inputs, ModelConfig c) {
    HostTensor t = inputs.get(MsnOnnxExporter.INPUT);
    if (t == null) {
      throw new BadInputException(
          "input '" + MsnOnnxExporter.INPUT + "' is missing (have " + inputs.keySet() + ")");
    }
    long[] s = t.shape();
    if (s.length != 3 || s[1] != c.T() || s[2] != c.D() || s[0] < 1) {
      throw new BadInputException(
          "input '"
              + MsnOnnxExporter.INPUT
              + "' has shape "
              + Arrays.toString(s)
              + ", expected [batch>=1, "
              + c.T()
              + ", "
              + c.D()
              + "]");
    }
    if (t.isInteger()) {
      throw new BadInputException("input '" + MsnOnnxExporter.INPUT + "' must be float, got int64");
    }
    requireFinite(t);
    return t;
  }

  /**
   * Refuses NaN and infinite values, naming the first one by its index (for tokens: candidate,
   * token, feature). Every backend applies this before inference, so a non-finite input is the same
   * clear error everywhere (docs/robustness.md) instead of NaN outputs on some backends and a
   * kernel error on others.
   */
  public static void requireFinite(HostTensor t) {
    if (t.isInteger()) {
      return;
    }
    double[] v = t.floats();
    for (int i = 0; i < v.length; i++) {
      if (!Double.isFinite(v[i])) {
        throw new BadInputException(
            "input '"
                + t.name()
                + "' holds "
                + v[i]
                + " at "
                + Arrays.toString(index(t.shape(), i))
                + ": NaN and infinite inputs are refused");
      }
    }
  }

  /** The multi-dimensional index of row-major flat index {@code flat}. */
  static long[] index(long[] shape, long flat) {
    long[] idx = new long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = shape[d] == 0 ? 0 : flat % shape[d];
      flat = shape[d] == 0 ? 0 : flat / shape[d];
    }
    return idx;
  }
}
