package dev.msnexport.trt;

import java.util.function.Supplier;

/**
 * A value computed once, on first use, for the whole process (double-checked locking). An {@code
 * init} that throws leaves it unset: the next use tries again.
 */
final class Lazy<T> implements Supplier<T> {
  private final Supplier<T> init;
  private volatile T value;

  Lazy(Supplier<T> init) {
    this.init = init;
  }

  @Override
  public T get() {
    T v = value;
    if (v == null) {
      synchronized (this) {
        v = value;
        if (v == null) {
          v = init.get();
          value = v;
        }
      }
    }
    return v;
  }
}
