package dev.msnexport.exporter.safetensors;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.common.AtomicFiles;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes safetensors files by streaming: the header is computed from the tensor specs first, then
 * each tensor's bytes are produced by its {@link Source}, so a multi-GiB checkpoint is never held
 * in memory. Every source writes at its own place in the file, so several may run at once ({@link
 * #write(Path, Map, Progress, int)}): a tensor added with {@link #addPieces} is cut into pieces
 * written concurrently, and the file's bytes do not depend on how many threads wrote them. The file
 * appears atomically (temporary sibling, then rename).
 */
public final class SafetensorsWriter {
  /** Produces exactly {@code numel * dtype.size()} little-endian bytes. */
  @FunctionalInterface
  public interface Source {
    void writeTo(WritableByteChannel out) throws IOException;
  }

  /**
   * Produces piece {@code piece} of a tensor's bytes: bytes {@code [piece * pieceBytes, min(size,
   * (piece + 1) * pieceBytes))} of its little-endian data, independently of the other pieces (they
   * may be written at the same time, by other threads, in any order).
   */
  @FunctionalInterface
  public interface PieceSource {
    void writePiece(long piece, WritableByteChannel out) throws IOException;
  }

  public record Spec(String name, DType dtype, long[] shape, Source source) {
    public long byteSize() {
      return TensorView.numel(shape) * dtype.size();
    }
  }

  /** A tensor and how its bytes are produced: in pieces of {@code pieceBytes} (one: the whole). */
  private record Entry(Spec spec, long pieceBytes, PieceSource pieces) {
    long count() {
      return Math.max(1, (spec.byteSize() + pieceBytes - 1) / pieceBytes);
    }
  }

  private final List<Entry> entries = new ArrayList<>();

  public SafetensorsWriter add(String name, DType dtype, long[] shape, Source source) {
    Spec s = new Spec(name, dtype, shape.clone(), source);
    entries.add(new Entry(s, Math.max(1, s.byteSize()), (piece, out) -> source.writeTo(out)));
    return this;
  }

  /**
   * Adds a tensor whose bytes are produced in pieces of {@code pieceBytes} (a positive multiple of
   * the element size), which {@link #write(Path, Map, Progress, int)} may write concurrently.
   */
  public SafetensorsWriter addPieces(
      String name, DType dtype, long[] shape, long pieceBytes, PieceSource pieces) {
    if (pieceBytes <= 0 || pieceBytes % dtype.size() != 0) {
      throw new IllegalArgumentException(
          name + ": piece of " + pieceBytes + " bytes is not a positive multiple of " + dtype);
    }
    Entry[] self = new Entry[1];
    Spec s =
        new Spec(
            name,
            dtype,
            shape.clone(),
            out -> {
              for (long p = 0; p < self[0].count(); p++) {
                pieces.writePiece(p, out);
              }
            });
    self[0] = new Entry(s, pieceBytes, pieces);
    entries.add(self[0]);
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
    write(file, metadata, progress, 1);
  }

  /**
   * As {@link #write(Path, Map, Progress)}, with up to {@code threads} tensors or pieces written at
   * once; the same bytes whatever {@code threads}.
   */
  public void write(Path file, Map<String, String> metadata, Progress progress, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    AtomicFiles.write(file, tmp -> writeTo(tmp, metadata, progress, threads));
  }

  private void writeTo(Path tmp, Map<String, String> metadata, Progress progress, int threads)
      throws IOException {
    ObjectNode header = SafetensorsFile.json().createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode m = header.putObject("__metadata__");
      // sorted: the same bytes whatever the map's iteration order (Map.of's varies from JVM to JVM)
      new java.util.TreeMap<>(metadata).forEach(m::put);
    }
    long offset = 0;
    for (Entry e : entries) {
      Spec s = e.spec();
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
      List<PieceWrite> work = new ArrayList<>();
      long at = ch.position();
      for (Entry e : entries) {
        long size = e.spec().byteSize();
        for (long p = 0; p < e.count(); p++) {
          long start = p * e.pieceBytes();
          long length = Math.min(e.pieceBytes(), size - start);
          work.add(new PieceWrite(e, p, at + start, Math.max(0, length), ch, progress));
        }
        at += size;
      }
      run(work, threads);
      ch.force(false);
    }
  }

  /** One piece of one tensor, written at its place in the file. */
  private record PieceWrite(
      Entry entry, long piece, long position, long length, FileChannel ch, Progress progress) {
    Void call() throws IOException {
      PositionedChannel out = new PositionedChannel(ch, position, progress);
      entry.pieces().writePiece(piece, out);
      long wrote = out.position - position;
      if (wrote != length) {
        throw new IllegalStateException(
            "tensor "
                + entry.spec().name()
                + ": source wrote "
                + wrote
                + " bytes, expected "
                + length
                + (entry.count() > 1 ? " (piece " + piece + ")" : ""));
      }
      return null;
    }
  }

  /**
   * Runs the writes, in order on this thread or on {@code threads} threads; the first error wins.
   */
  private static void run(List<PieceWrite> work, int threads) throws IOException {
    if (threads == 1 || work.size() < 2) {
      for (PieceWrite w : work) {
        w.call();
      }
      return;
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.min(threads, work.size()),
            r -> {
              Thread t = new Thread(r, "safetensors-writer");
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<Void>> done = new ArrayList<>();
      for (PieceWrite w : work) {
        done.add(pool.submit(w::call));
      }
      for (Future<Void> f : done) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while writing tensors");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /** Writes at a moving position of a shared file channel (thread-safe), reporting each write. */
  private static final class PositionedChannel implements WritableByteChannel {
    private final FileChannel ch;
    private final Progress progress;
    private long position;

    PositionedChannel(FileChannel ch, long position, Progress progress) {
      this.ch = ch;
      this.position = position;
      this.progress = progress;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = ch.write(src, position);
      position += n;
      progress.advance(n);
      return n;
    }

    @Override
    public boolean isOpen() {
      return ch.isOpen();
    }

    @Override
    public void close() {
      // the shared channel is closed by its owner
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
