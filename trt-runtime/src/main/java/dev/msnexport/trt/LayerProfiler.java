package dev.msnexport.trt;

import dev.msnexport.common.NativeLibraryExtractor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.nvinfer.IProfiler;

/**
 * TensorRT's per-layer times ({@code IProfiler}), like trtexec's {@code --dumpProfile}: an object
 * of our small native library ({@value #RESOURCE}) that TensorRT calls once per layer and inference
 * while it is set on an execution context; {@link #layers()} reads the sums. Owns the native
 * object; close it after unsetting it from every context.
 */
public final class LayerProfiler implements AutoCloseable {
  public static final String RESOURCE = "native/linux-x86_64/libmsn_trt_profiler.so";

  /** One layer: its name, the sum of its reported times, and how many times it was reported. */
  public record Layer(String name, double totalMs, long calls) {
    public double meanMs() {
      return calls == 0 ? 0 : totalMs / calls;
    }
  }

  private static volatile boolean loaded;
  private long handle;

  public LayerProfiler() {
    load();
    handle = create();
    if (handle == 0) {
      throw new OutOfMemoryError("cannot allocate the native layer profiler");
    }
  }

  /** True when the native library is packaged (it is built wherever the JDK's jni.h was found). */
  public static boolean isPackaged() {
    return LayerProfiler.class.getClassLoader().getResource(RESOURCE) != null;
  }

  private static synchronized void load() {
    if (loaded) {
      return;
    }
    try (InputStream in = LayerProfiler.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new TrtException(
            "the layer profiler library "
                + RESOURCE
                + " is not on the class path (trt-plugins was built "
                + "without the JDK's jni.h)");
      }
      System.load(NativeLibraryExtractor.extract(in, "libmsn_trt_profiler.so", null).toString());
      loaded = true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + RESOURCE + " to a temporary file", e);
    }
  }

  /** The object as TensorRT's interface, for {@code IExecutionContext.setProfiler}. */
  public IProfiler asTensorRt() {
    return new IProfiler(pointerTo(live()));
  }

  /** The native object's address, as {@link #asTensorRt()} hands it to TensorRT. */
  long address() {
    return live();
  }

  /** A plain pointer at a native address (the IProfiler wrapper itself needs TensorRT loaded). */
  static Pointer pointerTo(long nativeAddress) {
    return new NativeAddress(nativeAddress);
  }

  /**
   * A pointer at a given native address. A named class, not an anonymous one: inside an anonymous
   * {@code Pointer} subclass the name {@code address} means the inherited field, which shadows any
   * local variable of that name; that once handed TensorRT a null profiler.
   */
  private static final class NativeAddress extends Pointer {
    NativeAddress(long nativeAddress) {
      this.address = nativeAddress;
    }
  }

  /** Reports one layer time through the interface, as TensorRT does (for tests). */
  public void report(String layer, float ms) {
    report(live(), layer, ms);
  }

  /** Forgets every time reported so far. */
  public void reset() {
    reset(live());
  }

  /** Every layer reported since creation or {@link #reset()}, in the order first reported. */
  public List<Layer> layers() {
    long h = live();
    int n = count(h);
    List<Layer> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new Layer(name(h, i), totalMs(h, i), calls(h, i)));
    }
    return out;
  }

  /** Reports the native side could not record (out of memory); nonzero means the sums are short. */
  public long dropped() {
    return dropped(live());
  }

  private long live() {
    if (handle == 0) {
      throw new IllegalStateException("layer profiler is closed");
    }
    return handle;
  }

  @Override
  public void close() {
    if (handle != 0) {
      destroy(handle);
      handle = 0;
    }
  }

  private static native long create();

  private static native void destroy(long handle);

  private static native void reset(long handle);

  private static native void report(long handle, String layer, float ms);

  private static native int count(long handle);

  private static native String name(long handle, int i);

  private static native double totalMs(long handle, int i);

  private static native long calls(long handle, int i);

  private static native long dropped(long handle);
}
