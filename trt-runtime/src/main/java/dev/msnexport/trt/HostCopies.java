package dev.msnexport.trt;

import dev.msnexport.common.HostTensor;
import java.util.Locale;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.tensorrt.global.nvinfer;

/**
 * Host tensors to and from an IO tensor's pinned host buffer, in the engine's data type (float32,
 * fp16, bf16, int64, int32), and TensorRT's data types by name and size.
 */
final class HostCopies {
  private HostCopies() {}

  /**
   * Writes {@code t} into {@code host} as {@code dtype} ({@code name}: the IO tensor, for errors).
   */
  static void write(Pointer host, nvinfer.DataType dtype, String name, HostTensor t) {
    int n = t.size();
    float[] floats = t.isInteger() ? null : t.toFloatArray();
    switch (dtype) {
      case kFLOAT -> new FloatPointer(host).put(floats, 0, n);
      case kHALF -> {
        short[] h = new short[n];
        for (int i = 0; i < n; i++) {
          h[i] = Half.fromFloat(floats[i]);
        }
        new ShortPointer(host).put(h, 0, n);
      }
      case kBF16 -> {
        short[] h = new short[n];
        for (int i = 0; i < n; i++) {
          int bits = Float.floatToRawIntBits(floats[i]);
          h[i] = (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16); // round to nearest even
        }
        new ShortPointer(host).put(h, 0, n);
      }
      case kINT64 -> new LongPointer(host).put(t.ints(), 0, n);
      case kINT32 -> {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = Math.toIntExact(t.ints()[i]);
        }
        new IntPointer(host).put(v, 0, n);
      }
      default ->
          throw new TrtException("input '" + name + "' has unsupported type " + dtypeName(dtype));
    }
  }

  /** Reads the tensor {@code name} of {@code shape} from {@code host}, stored as {@code dtype}. */
  static HostTensor read(Pointer host, nvinfer.DataType dtype, String name, long[] shape) {
    int n = Math.toIntExact(HostTensor.volume(shape));
    switch (dtype) {
      case kFLOAT -> {
        float[] v = new float[n];
        new FloatPointer(host).get(v, 0, n);
        return HostTensor.ofFloats(name, shape, v);
      }
      case kHALF, kBF16 -> {
        short[] h = new short[n];
        new ShortPointer(host).get(h, 0, n);
        float[] v = new float[n];
        boolean half = dtype == nvinfer.DataType.kHALF;
        for (int i = 0; i < n; i++) {
          v[i] = half ? Half.toFloat(h[i]) : Half.bf16ToFloat(h[i]);
        }
        return HostTensor.ofFloats(name, shape, v);
      }
      case kINT64 -> {
        long[] v = new long[n];
        new LongPointer(host).get(v, 0, n);
        return HostTensor.ofInts(name, shape, v);
      }
      case kINT32 -> {
        int[] iv = new int[n];
        new IntPointer(host).get(iv, 0, n);
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
          v[i] = iv[i];
        }
        return HostTensor.ofInts(name, shape, v);
      }
      default ->
          throw new TrtException("output '" + name + "' has unsupported type " + dtypeName(dtype));
    }
  }

  static int elementBytes(String name, nvinfer.DataType t) {
    return switch (t) {
      case kFLOAT, kINT32 -> 4;
      case kHALF, kBF16 -> 2;
      case kINT64 -> 8;
      case kINT8, kUINT8, kBOOL, kFP8 -> 1;
      default -> throw new TrtException("IO tensor '" + name + "' has unsupported type " + t);
    };
  }

  static String dtypeName(nvinfer.DataType t) {
    return switch (t) {
      case kFLOAT -> "float32";
      case kHALF -> "float16";
      case kBF16 -> "bfloat16";
      case kINT32 -> "int32";
      case kINT64 -> "int64";
      case kINT8 -> "int8";
      case kUINT8 -> "uint8";
      case kBOOL -> "bool";
      default -> t.name().substring(1).toLowerCase(Locale.ROOT);
    };
  }
}
