package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.msnexport.exporter.progress.CountingChannel;
import dev.msnexport.exporter.progress.Progress;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where initializer bytes go: inside the model ({@code raw_data}) or appended to one external data
 * file that both exported graphs reference (ONNX external data: location, offset, length). External
 * tensors are streamed straight from their source, so their bytes never sit on the heap.
 */
final class TensorStore implements AutoCloseable {
  /** External-data offsets are aligned so runtimes may map tensors directly. */
  static final int ALIGN = 64;

  /**
   * Tensors below this size stay inside the model even in external mode (ONNX's own convention).
   */
  static final long EXTERNAL_MIN_BYTES = 1024;

  private final FileChannel external; // null: embed everything
  private final WritableByteChannel counted; // external, reporting to a progress bar
  private final String location;
  private long externalBytes;
  private long embeddedBytes;

  private TensorStore(FileChannel external, String location, Progress progress) {
    this.external = external;
    this.counted = external != null ? CountingChannel.of(external, progress) : null;
    this.location = location;
  }

  static TensorStore embedded() {
    return new TensorStore(null, null, Progress.NONE);
  }

  /**
   * Appends external tensors to {@code tmpFile}; models name it {@code location} (relative to the
   * model). Their bytes are reported to {@code progress}.
   */
  static TensorStore external(Path tmpFile, String location, Progress progress) throws IOException {
    return new TensorStore(
        FileChannel.open(tmpFile, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING),
        location,
        progress);
  }

  boolean isExternal() {
    return external != null;
  }

  long externalBytes() {
    return externalBytes;
  }

  long embeddedBytes() {
    return embeddedBytes;
  }

  /**
   * Where an external tensor's bytes lie (ONNX external data: a file relative to the model, the
   * offset in it and the length; -1 when the entry is missing).
   */
  record External(String location, long offset, long length) {
    /** The external-data entries of {@code t} (location null when it has none). */
    static External of(TensorProto t) {
      String location = null;
      long offset = 0;
      long length = -1;
      for (StringStringEntryProto e : t.getExternalDataList()) {
        switch (e.getKey()) {
          case "location" -> location = e.getValue();
          case "offset" -> offset = Long.parseLong(e.getValue());
          case "length" -> length = Long.parseLong(e.getValue());
          default -> {}
        }
      }
      return new External(location, offset, length);
    }

    /** {@code t} pointing at these bytes (its earlier external-data entries replaced). */
    TensorProto.Builder applyTo(TensorProto.Builder t) {
      return t.setDataLocation(TensorProto.DataLocation.EXTERNAL)
          .clearExternalData()
          .addExternalData(entry("location", location))
          .addExternalData(entry("offset", Long.toString(offset)))
          .addExternalData(entry("length", Long.toString(length)));
    }
  }

  TensorProto add(
      String name, DType dtype, long[] dims, SafetensorsWriter.Source source, long byteSize) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(dtype.onnxCode());
    for (long d : dims) {
      t.addDims(d);
    }
    try {
      if (external != null && byteSize >= EXTERNAL_MIN_BYTES) {
        long pad = (ALIGN - external.position() % ALIGN) % ALIGN;
        if (pad > 0) {
          external.write(ByteBuffer.allocate((int) pad));
        }
        long offset = external.position();
        source.writeTo(counted);
        long written = external.position() - offset;
        if (written != byteSize) {
          throw new IllegalStateException(
              name + ": wrote " + written + " bytes, expected " + byteSize);
        }
        externalBytes += byteSize;
        new External(location, offset, byteSize).applyTo(t);
      } else {
        ByteString.Output out = ByteString.newOutput((int) byteSize);
        source.writeTo(Channels.newChannel(out));
        ByteString bytes = out.toByteString();
        if (bytes.size() != byteSize) {
          throw new IllegalStateException(
              name + ": wrote " + bytes.size() + " bytes, expected " + byteSize);
        }
        embeddedBytes += byteSize;
        t.setRawData(bytes);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing tensor " + name, e);
    }
    return t.build();
  }

  TensorProto addFloats(String name, long[] dims, float[] data, DType as) {
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException(
          name + ": " + data.length + " values for " + n + " elements");
    }
    return add(
        name,
        as,
        dims,
        out -> SafetensorsWriter.writeConverted(out, as, data, 0, data.length),
        n * as.size());
  }

  private static StringStringEntryProto entry(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }

  void force() throws IOException {
    if (external != null) {
      external.force(false);
    }
  }

  @Override
  public void close() throws IOException {
    if (external != null) {
      external.close();
    }
  }
}
