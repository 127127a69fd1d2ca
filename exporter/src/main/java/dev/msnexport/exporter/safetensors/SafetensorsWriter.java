package dev.msnexport.exporter.safetensors;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.exporter.progress.CountingChannel;
import dev.msnexport.exporter.progress.Progress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors files by streaming: the header is computed from the tensor specs first, then
 * each tensor's bytes are produced in order by its {@link Source}, so a multi-GiB checkpoint is
 * never held in memory. The file appears atomically (temporary sibling, then rename).
 */
public final class SafetensorsWriter {
  /** Produces exactly {@code numel * dtype.size()} little-endian bytes. */
  @FunctionalInterface
  public interface Source {
    void writeTo(WritableByteChannel out) throws IOException;
  }

  public record Spec(String name, DType dtype, long[] shape, Source source) {
    public long byteSize() {
      return TensorView.numel(shape) * dtype.size();
    }
  }

  private final List<Spec> specs = new ArrayList<>();

  public SafetensorsWriter add(String name, DType dtype, long[] shape, Source source) {
    specs.add(new Spec(name, dtype, shape.clone(), source));
    return this;
  }

  /** Adds an in-memory float32 tensor. */
  public SafetensorsWriter addF32(String name, long[] shape, float[] data) {
    if (data.length != TensorView.numel(shape)) {
      throw new IllegalArgumentException(
          name + ": " + data.length + " values for shape " + java.util.Arrays.toString(shape));
    }
    return add(name, DType.F32, shape, out -> writeFloats(out, data, 0, data.length));
  }

  public void write(Path file, Map<String, String> metadata) {
    write(file, metadata, Progress.NONE);
  }

  /** As {@link #write(Path, Map)}, reporting the tensor bytes written to {@code progress}. */
  public void write(Path file, Map<String, String> metadata, Progress progress) {
    AtomicFiles.write(file, tmp -> writeTo(tmp, metadata, progress));
  }

  private void writeTo(Path tmp, Map<String, String> metadata, Progress progress)
      throws IOException {
    ObjectNode header = SafetensorsFile.json().createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode m = header.putObject("__metadata__");
      // sorted: the same bytes whatever the map's iteration order (Map.of's varies from JVM to JVM)
      new java.util.TreeMap<>(metadata).forEach(m::put);
    }
    long offset = 0;
    for (Spec s : specs) {
      long end = offset + s.byteSize();
      header.set(s.name(), SafetensorsFile.headerEntry(s.dtype(), s.shape(), offset, end));
      offset = end;
    }
    byte[] json = SafetensorsFile.json().writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8; // data starts 8-byte aligned; pad with spaces
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    head.flip();
    try (FileChannel ch =
        FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      while (head.hasRemaining()) {
        ch.write(head);
      }
      WritableByteChannel counted = CountingChannel.of(ch, progress);
      for (Spec s : specs) {
        long before = ch.position();
        s.source().writeTo(counted);
        long wrote = ch.position() - before;
        if (wrote != s.byteSize()) {
          throw new IllegalStateException(
              "tensor "
                  + s.name()
                  + ": source wrote "
                  + wrote
                  + " bytes, expected "
                  + s.byteSize());
        }
      }
      ch.force(false);
    }
  }

  /** Writes float32 values little-endian through a 64 KiB buffer. */
  public static void writeFloats(WritableByteChannel out, float[] data, int off, int len)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    int i = off;
    int end = off + len;
    while (i < end) {
      buf.clear();
      int n = Math.min(end - i, buf.capacity() / 4);
      buf.asFloatBuffer().put(data, i, n);
      buf.limit(n * 4);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      i += n;
    }
  }

  /** A float tensor stored as {@code dtype}: values are converted chunk by chunk. */
  public static void writeConverted(
      WritableByteChannel out, DType dtype, float[] data, int off, int len) throws IOException {
    if (dtype == DType.F32) {
      writeFloats(out, data, off, len);
      return;
    }
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = off; i < off + len; i++) {
      if (buf.remaining() < 8) {
        buf.flip();
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        buf.clear();
      }
      float v = data[i];
      switch (dtype) {
        case F64 -> buf.putDouble(v);
        case F16 -> buf.putShort(DType.floatToHalf(v));
        case BF16 -> buf.putShort(DType.floatToBf16(v));
        default -> throw new IllegalArgumentException("not a float type: " + dtype);
      }
    }
    buf.flip();
    while (buf.hasRemaining()) {
      out.write(buf);
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
