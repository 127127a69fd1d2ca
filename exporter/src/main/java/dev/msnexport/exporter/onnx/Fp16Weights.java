package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.safetensors.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * fp16 copies of float32 weights (initializers) for the fp16 variant: a weight that only half nodes
 * read is stored in fp16 once, so the engine never converts it on every inference (a {@code Cast}
 * of an initializer is not always folded: TensorRT 10.6's Myelin ran one per inference, 30% of the
 * fp16 batch-1 time of {@code paper} on the H100). Rounding is {@link DType#floatToHalf}'s, the
 * same as a {@code Cast(to=FLOAT16)}.
 *
 * <p>The copies are embedded in the variant: at most {@link #EMBED_BUDGET} bytes in all, so the
 * variant stays far below protobuf's 2 GiB; past it, weights keep their run-time cast.
 */
final class Fp16Weights {
  /** Bytes of fp16 copies one variant may embed. */
  static final long EMBED_BUDGET = 1L << 30;

  private final Path modelDir;
  private long embedded;

  /**
   * @param modelDir where the model's external data files are (null: external weights keep their
   *     casts)
   */
  Fp16Weights(Path modelDir) {
    this.modelDir = modelDir;
  }

  /** Bytes embedded so far. */
  long embeddedBytes() {
    return embedded;
  }

  /**
   * The fp16 copy of float32 initializer {@code t} named {@code name}, or null when it cannot be
   * made here (external data without a model directory, or past the budget).
   */
  TensorProto toHalf(TensorProto t, String name) {
    long n = 1;
    for (long d : t.getDimsList()) {
      n *= d;
    }
    if (embedded + 2 * n > EMBED_BUDGET
        || t.getDataLocation() == TensorProto.DataLocation.EXTERNAL && modelDir == null) {
      return null;
    }
    ByteBuffer floats = floats(t, n);
    ByteBuffer half = ByteBuffer.allocate(Math.toIntExact(2 * n)).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < n; i++) {
      half.putShort(DType.floatToHalf(floats.getFloat()));
    }
    half.flip();
    embedded += 2 * n;
    return TensorProto.newBuilder()
        .setName(name)
        .addAllDims(t.getDimsList())
        .setDataType(TensorProto.DataType.FLOAT16_VALUE)
        .setRawData(ByteString.copyFrom(half))
        .build();
  }

  /** The n float32 values of {@code t}, little-endian, from wherever the tensor keeps them. */
  private ByteBuffer floats(TensorProto t, long n) {
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      return external(t, n);
    }
    if (t.getFloatDataCount() > 0) {
      ByteBuffer b = ByteBuffer.allocate(4 * t.getFloatDataCount()).order(ByteOrder.LITTLE_ENDIAN);
      t.getFloatDataList().forEach(b::putFloat);
      return check(t, b.flip(), n);
    }
    return check(t, t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN), n);
  }

  private ByteBuffer external(TensorProto t, long n) {
    TensorStore.External at = TensorStore.External.of(t);
    String location = at.location();
    long offset = at.offset();
    long bytes = at.length() >= 0 ? at.length() : 4 * n;
    if (location == null || bytes != 4 * n) {
      throw new BadInputException(
          "initializer '" + t.getName() + "': external data without location or of wrong length");
    }
    Path file = modelDir.resolve(location);
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
      while (b.hasRemaining() && c.read(b, offset + b.position()) > 0) {
        // read on
      }
    } catch (IOException e) {
      throw new BadInputException(
          "cannot read initializer '" + t.getName() + "' from " + file + ": " + e.getMessage(), e);
    }
    return check(t, b.flip(), n);
  }

  private static ByteBuffer check(TensorProto t, ByteBuffer b, long n) {
    if (b.remaining() != 4 * n) {
      throw new BadInputException(
          "initializer '"
              + t.getName()
              + "' holds "
              + b.remaining()
              + " bytes, its shape "
              + t.getDimsList()
              + " needs "
              + 4 * n);
    }
    return b;
  }
}
