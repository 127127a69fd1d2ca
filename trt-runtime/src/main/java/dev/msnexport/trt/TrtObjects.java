package dev.msnexport.trt;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.Pointer;

/**
 * Ownership of TensorRT objects returned by factory calls ({@code createInferBuilder}, {@code
 * deserializeCudaEngine}, ...). TensorRT 10 frees them with C++ {@code delete}, but the JavaCPP
 * bindings attach no deallocator to returned pointers, so {@code close()} alone would leak them (a
 * whole engine's weights on the GPU). {@link #own} attaches the deallocator that JavaCPP generated
 * for the class ({@code delete (T*) p}, which runs TensorRT's virtual destructor), taken once per
 * class from a throw-away instance. After that, {@code close()} deletes the object exactly once.
 *
 * <p>The caller must keep the returned Java object reachable for as long as the native object is in
 * use: JavaCPP may also run the deallocator when the Java object is collected. Classes without a
 * JavaCPP allocator (the ONNX parser, an abstract interface) cannot be owned; {@link #own} returns
 * them unchanged, they stay allocated until the process exits (documented where used).
 */
final class TrtObjects {
  private static final Map<Class<?>, Long> DELETERS = new ConcurrentHashMap<>();
  private static volatile String disabledReason;

  private TrtObjects() {}

  /** Makes {@code p} own its native object (null stays null); returns {@code p}. */
  static <P extends Pointer> P own(P p) {
    if (p == null || p.isNull() || disabledReason != null) {
      return p;
    }
    try {
      long deleter = DELETERS.computeIfAbsent(p.getClass(), TrtObjects::deleterOf);
      if (deleter != 0) {
        Method init =
            Pointer.class.getDeclaredMethod("init", long.class, long.class, long.class, long.class);
        init.setAccessible(true);
        init.invoke(p, p.address(), 0L, p.address(), deleter);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      // A JavaCPP release without these internals: leak rather than fail (the process frees all at
      // exit).
      disabledReason = e.toString();
      System.err.println(
          "msn-export: warning: TensorRT objects will not be freed before exit (" + e + ")");
    }
    return p;
  }

  /** Deletes the native object now if owned (no-op otherwise, and on null). */
  static void delete(Pointer p) {
    if (p != null && !p.isNull()) {
      p.deallocate();
    }
  }

  /** The address of JavaCPP's {@code delete (T*) p} for {@code cls}, or 0 when it has none. */
  private static long deleterOf(Class<?> cls) {
    Pointer probe;
    try {
      probe =
          (Pointer)
              cls.getConstructor().newInstance(); // native "new T()": registers the deallocator
    } catch (NoSuchMethodException e) {
      return 0;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot instantiate " + cls.getName() + ": " + e, e);
    }
    try {
      Field f = Pointer.class.getDeclaredField("deallocator");
      f.setAccessible(true);
      Object d = f.get(probe);
      if (d == null
          || !d.getClass().getName().equals("org.bytedeco.javacpp.Pointer$NativeDeallocator")) {
        return 0;
      }
      Method address = d.getClass().getDeclaredMethod("deallocatorAddress");
      address.setAccessible(true);
      return (Long) address.invoke(d);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(
          "cannot read the JavaCPP deallocator of " + cls.getName() + ": " + e, e);
    } finally {
      probe.deallocate();
    }
  }
}
