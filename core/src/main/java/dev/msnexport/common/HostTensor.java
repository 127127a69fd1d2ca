package dev.msnexport.common;

import java.util.Arrays;

/**
 * A named tensor in host memory, the one type that every backend, engine runner and parity rule
 * exchanges: float values (held as double so the golden model loses nothing; float32, float16 and
 * bfloat16 tensors all arrive here widened) or integer values ({@code ints}; int32 and int64).
 * Exactly one of {@code floats} and {@code ints} is not null.
 */
public record HostTensor(String name, long[] shape, double[] floats, long[] ints) {
  public HostTensor {
    shape = shape.clone();
    if ((floats == null) == (ints == null)) {
      throw new IllegalArgumentException(name + ": give float values or integer values");
    }
    long n = volume(shape);
    long have = floats != null ? floats.length : ints.length;
    if (have != n) {
      throw new IllegalArgumentException(
          name + ": " + have + " values for shape " + Arrays.toString(shape));
    }
  }

  public static HostTensor ofFloats(String name, long[] shape, double[] data) {
    return new HostTensor(name, shape, data, null);
  }

  public static HostTensor ofFloats(String name, long[] shape, float[] data) {
    double[] d = new double[data.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = data[i];
    }
    return new HostTensor(name, shape, d, null);
  }

  public static HostTensor ofInts(String name, long[] shape, long[] data) {
    return new HostTensor(name, shape, null, data);
  }

  /** The number of elements of a shape; refuses negative dimensions and overflow. */
  public static long volume(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public boolean isInteger() {
    return ints != null;
  }

  public int size() {
    return floats != null ? floats.length : ints.length;
  }

  public double get(int i) {
    return floats != null ? floats[i] : ints[i];
  }

  public float[] toFloatArray() {
    float[] f = new float[size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) get(i);
    }
    return f;
  }

  public String dtype() {
    return ints != null ? "int64" : "float";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HostTensor h
        && name.equals(h.name)
        && Arrays.equals(shape, h.shape)
        && Arrays.equals(floats, h.floats)
        && Arrays.equals(ints, h.ints);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype() + Arrays.toString(shape);
  }
}
