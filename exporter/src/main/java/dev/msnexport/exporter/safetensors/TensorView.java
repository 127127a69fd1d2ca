package dev.msnexport.exporter.safetensors;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.progress.CountingChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;

/**
 * A read-only, memory-mapped view of one tensor in a file: no copy of the data is made until an
 * element is read. Tensors larger than 2 GiB are mapped in 1 GiB segments (a single
 * MappedByteBuffer is limited to 2^31-1 bytes); element sizes divide the segment size, so an
 * element never straddles two segments.
 */
public final class TensorView {
  private static final int SEGMENT_SHIFT = 30;
  private static final long SEGMENT = 1L << SEGMENT_SHIFT;

  private final String name;
  private final DType dtype;
  private final long[] shape;
  private final long numel;
  private final FileChannel channel;
  private final long fileOffset;
  private final ByteBuffer[] segments;

  TensorView(String name, DType dtype, long[] shape, FileChannel channel, long fileOffset)
      throws IOException {
    this.name = name;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.numel = numel(shape);
    this.channel = channel;
    this.fileOffset = fileOffset;
    long bytes = numel * dtype.size();
    int n = (int) ((bytes + SEGMENT - 1) / SEGMENT);
    this.segments = new ByteBuffer[n];
    for (int s = 0; s < n; s++) {
      long len = Math.min(SEGMENT, bytes - s * SEGMENT);
      MappedByteBuffer m =
          channel.map(FileChannel.MapMode.READ_ONLY, fileOffset + s * SEGMENT, len);
      segments[s] = m.order(ByteOrder.LITTLE_ENDIAN);
    }
  }

  /** Wraps an in-memory little-endian buffer (tests, small derived tensors). */
  public static TensorView ofBuffer(String name, DType dtype, long[] shape, ByteBuffer data) {
    return new TensorView(name, dtype, shape, data);
  }

  private TensorView(String name, DType dtype, long[] shape, ByteBuffer data) {
    this.name = name;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.numel = numel(shape);
    if (data.remaining() != numel * dtype.size()) {
      throw new IllegalArgumentException(
          name + ": " + data.remaining() + " bytes for " + numel + " elements of " + dtype);
    }
    this.channel = null;
    this.fileOffset = -1;
    this.segments = new ByteBuffer[] {data.slice().order(ByteOrder.LITTLE_ENDIAN)};
  }

  /**
   * The same data under another name (a checkpoint opened through a name map): nothing is copied or
   * mapped again.
   */
  public TensorView withName(String newName) {
    return newName.equals(name) ? this : new TensorView(newName, this);
  }

  private TensorView(String name, TensorView of) {
    this.name = name;
    this.dtype = of.dtype;
    this.shape = of.shape;
    this.numel = of.numel;
    this.channel = of.channel;
    this.fileOffset = of.fileOffset;
    this.segments = of.segments;
  }

  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public String name() {
    return name;
  }

  public DType dtype() {
    return dtype;
  }

  /**
   * Bad input "WHERE: tensor 'NAME' has dtype D" then {@code rule} (what the reader accepts);
   * {@code name} is the tensor's name where it is read (a name map may rename it).
   */
  public BadInputException wrongDtype(String where, String name, String rule) {
    return new BadInputException(
        where + ": tensor '" + name + "' has dtype " + dtype.safetensorsName() + rule);
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int i) {
    return shape[i];
  }

  public long numel() {
    return numel;
  }

  public long byteSize() {
    return numel * dtype.size();
  }

  private ByteBuffer seg(long byteIndex) {
    return segments[(int) (byteIndex >>> SEGMENT_SHIFT)];
  }

  private static int off(long byteIndex) {
    return (int) (byteIndex & (SEGMENT - 1));
  }

  /** Element {@code i} (flat, row-major) converted to float32. */
  public float getFloat(long i) {
    long b = i * dtype.size();
    ByteBuffer s = seg(b);
    int o = off(b);
    return switch (dtype) {
      case F32 -> s.getFloat(o);
      case F64 -> (float) s.getDouble(o);
      case F16 -> DType.halfToFloat(s.getShort(o));
      case BF16 -> DType.bf16ToFloat(s.getShort(o));
      case F8_E4M3 -> DType.e4m3ToFloat(s.get(o));
      default -> getLong(i); // the integer types
    };
  }

  /** Element {@code i} as double (exact for every float type). */
  public double getDouble(long i) {
    if (dtype == DType.F64) {
      long b = i * 8;
      return seg(b).getDouble(off(b));
    }
    return getFloat(i);
  }

  public long getLong(long i) {
    long b = i * dtype.size();
    ByteBuffer s = seg(b);
    int o = off(b);
    return switch (dtype) {
      case F32, F64, F16, BF16, F8_E4M3 -> (long) getDouble(i);
      case I64 -> s.getLong(o);
      case I32 -> s.getInt(o);
      case I16 -> s.getShort(o);
      case I8 -> s.get(o);
      case U8, BOOL -> s.get(o) & 0xff;
    };
  }

  /**
   * Copies {@code len} elements starting at flat index {@code start} into {@code dst}, as float32.
   */
  public void readFloats(long start, float[] dst, int dstOff, int len) {
    if (dtype == DType.F32) {
      long b = start * 4;
      int done = 0;
      while (done < len) {
        ByteBuffer s = seg(b);
        int o = off(b);
        int n = (int) Math.min(len - done, (SEGMENT - o) / 4);
        s.slice(o, n * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst, dstOff + done, n);
        done += n;
        b += n * 4L;
      }
      return;
    }
    for (int j = 0; j < len; j++) {
      dst[dstOff + j] = getFloat(start + j);
    }
  }

  /** The whole tensor as float32; only for tensors below 2^31 elements. */
  public float[] toFloatArray() {
    float[] out = new float[Math.toIntExact(numel)];
    readFloats(0, out, 0, out.length);
    return out;
  }

  public double[] toDoubleArray() {
    double[] out = new double[Math.toIntExact(numel)];
    for (int i = 0; i < out.length; i++) {
      out[i] = getDouble(i);
    }
    return out;
  }

  /** The index of the first element that is NaN or infinite, or -1. Integer tensors have none. */
  public long firstNonFinite() {
    if (!dtype.isFloating()) {
      return -1;
    }
    if (dtype == DType.F32) {
      long b = 0;
      long base = 0;
      for (ByteBuffer s : segments) {
        java.nio.FloatBuffer f = s.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        int n = f.limit();
        for (int j = 0; j < n; j++) {
          // exponent all ones: NaN or infinity
          if ((Float.floatToRawIntBits(f.get(j)) & 0x7f800000) == 0x7f800000) {
            return base + j;
          }
        }
        base += n;
        b += s.limit();
      }
      return -1;
    }
    if (dtype == DType.F16 || dtype == DType.BF16) {
      return firstNonFiniteHalf(dtype == DType.F16 ? 0x7c00 : 0x7f80);
    }
    for (long i = 0; i < numel; i++) {
      if (!Double.isFinite(getDouble(i))) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Bulk scan of a 2-byte float type: an element is NaN or infinite when its exponent bits ({@code
   * mask}) are all ones. A 6 GB fp16 table is scanned at memory speed, not element by element.
   */
  private long firstNonFiniteHalf(int mask) {
    long base = 0;
    for (ByteBuffer s : segments) {
      java.nio.ShortBuffer h = s.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
      int n = h.limit();
      for (int j = 0; j < n; j++) {
        if ((h.get(j) & mask) == mask) {
          return base + j;
        }
      }
      base += n;
    }
    return -1;
  }

  /**
   * Streams the raw bytes to {@code out}. From a file this is a kernel-side copy (transferTo), so
   * multi-GiB tensors pass through without touching the Java heap. To a {@link CountingChannel} it
   * copies to the underlying file in pieces and reports each one.
   */
  public void transferTo(WritableByteChannel out) throws IOException {
    if (channel != null) {
      long pos = fileOffset;
      long end = fileOffset + byteSize();
      CountingChannel counting = out instanceof CountingChannel cc ? cc : null;
      WritableByteChannel to = counting != null ? counting.target() : out;
      while (pos < end) {
        long piece = counting != null ? Math.min(CountingChannel.PIECE, end - pos) : end - pos;
        long n = channel.transferTo(pos, piece, to);
        if (counting != null && n > 0) {
          counting.counted(n);
        }
        if (n <= 0) {
          throw new IOException("short transfer of tensor " + name);
        }
        pos += n;
      }
      return;
    }
    ByteBuffer b = segments[0].duplicate();
    while (b.hasRemaining()) {
      out.write(b);
    }
  }

  /** Raw little-endian bytes of elements [start, start+count), as a read-only buffer. */
  public ByteBuffer rawSlice(long start, int count) {
    long b = start * dtype.size();
    int len = count * dtype.size();
    ByteBuffer s = seg(b);
    int o = off(b);
    if (o + (long) len <= s.limit()) {
      return s.slice(o, len).order(ByteOrder.LITTLE_ENDIAN);
    }
    ByteBuffer copy = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
    for (long p = b; p < b + len; ) {
      ByteBuffer ss = seg(p);
      int oo = off(p);
      int n = (int) Math.min(ss.limit() - oo, b + len - p);
      copy.put(ss.slice(oo, n));
      p += n;
    }
    return copy.flip();
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape);
  }
}
