package dev.msnexport.trt;

import java.util.Arrays;

/**
 * A named host tensor exchanged with an engine: float values ({@code floats}; float32, float16 and
 * bfloat16 tensors all arrive as float) or integer values ({@code longs}; int32 and int64).
 */
public record TensorData(String name, long[] shape, float[] floats, long[] longs) {
  public TensorData {
    shape = shape.clone();
    if ((floats == null) == (longs == null)) {
      throw new IllegalArgumentException(name + ": exactly one of floats and longs must be given");
    }
    long n = volume(shape);
    long have = floats != null ? floats.length : longs.length;
    if (have != n) {
      throw new IllegalArgumentException(
          name + ": " + have + " values for shape " + Arrays.toString(shape));
    }
  }

  public static TensorData ofFloats(String name, long[] shape, float[] values) {
    return new TensorData(name, shape, values, null);
  }

  public static TensorData ofLongs(String name, long[] shape, long[] values) {
    return new TensorData(name, shape, null, values);
  }

  public boolean isInteger() {
    return longs != null;
  }

  public int size() {
    return floats != null ? floats.length : longs.length;
  }

  static long volume(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorData t
        && name.equals(t.name)
        && Arrays.equals(shape, t.shape)
        && Arrays.equals(floats, t.floats)
        && Arrays.equals(longs, t.longs);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + (isInteger() ? " int" : " float") + Arrays.toString(shape);
  }
}
