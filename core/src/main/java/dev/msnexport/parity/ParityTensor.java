package dev.msnexport.parity;

/**
 * One output of a run as the parity rules read it: int64 values (retrieval slots) or float values,
 * held as double. The verifier's {@code HostTensor} is one; {@link #ofFloats} and {@link #ofInts}
 * wrap plain arrays (e.g. a TensorRT engine's outputs in trt-plugins' tests).
 */
public interface ParityTensor {
  String name();

  long[] shape();

  /** The float values, or null for an int64 tensor. */
  double[] floats();

  /** The int64 values, or null for a float tensor. */
  long[] ints();

  default boolean isInteger() {
    return ints() != null;
  }

  default int size() {
    return floats() != null ? floats().length : ints().length;
  }

  static ParityTensor ofFloats(String name, long[] shape, float[] values) {
    double[] d = new double[values.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = values[i];
    }
    return new Values(name, shape.clone(), d, null);
  }

  static ParityTensor ofInts(String name, long[] shape, long[] values) {
    return new Values(name, shape.clone(), null, values);
  }

  /** Plain arrays; exactly one of {@code floats} and {@code ints} is not null. */
  record Values(String name, long[] shape, double[] floats, long[] ints) implements ParityTensor {
    public Values {
      if ((floats == null) == (ints == null)) {
        throw new IllegalArgumentException(name + ": give float values or int64 values");
      }
    }
  }
}
