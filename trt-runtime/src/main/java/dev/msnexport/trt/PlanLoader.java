package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Reads a plan file into native memory and checks it through its sidecar ({@link
 * EngineMetadata#check}: the plan's SHA-256, the ONNX file it was built from, our plugin library
 * for custom-graph plans, this TensorRT version and this GPU) before TensorRT ever sees it; loads
 * the plugin library when the plan uses it. A mismatch is refused with a {@link BadInputException}
 * that says what differs.
 */
final class PlanLoader {
  /** A plan in native memory (raw malloc, outside JavaCPP's byte accounting capped by -Xmx). */
  record Blob(Pointer data, long size) implements AutoCloseable {
    @Override
    public void close() {
      Pointer.free(data);
    }
  }

  private PlanLoader() {}

  /**
   * The checked bytes of {@code plan} with sidecar {@code meta}; {@code onnx} null: the ONNX file
   * is not checked.
   */
  static Blob readChecked(Path plan, EngineMetadata meta, Path onnx) {
    String pluginSha = meta.usesPlugins() ? PluginLibrary.locate().sha256() : null;
    long size;
    try {
      size = Files.size(plan);
    } catch (IOException e) {
      throw new BadInputException("cannot read engine plan " + plan + ": " + e.getMessage(), e);
    }
    Pointer data = Pointer.malloc(Math.max(size, 1));
    if (data == null || data.isNull()) {
      throw new TrtException("cannot allocate " + size + " bytes for engine plan " + plan);
    }
    Blob blob = new Blob(data, size);
    try {
      String sha = readInto(plan, data, size);
      meta.check(
          plan,
          sha,
          new EngineMetadata.Expectation(
              onnx, pluginSha, TensorRt.version(), TensorRt.gpu().computeCapability()));
      if (meta.usesPlugins()) {
        PluginLibrary.load();
      }
      return blob;
    } catch (RuntimeException e) {
      blob.close();
      throw e;
    }
  }

  private static String readInto(Path plan, Pointer blob, long size) {
    MessageDigest md = Sha256.digest();
    BytePointer dst = new BytePointer(blob);
    byte[] buf = new byte[16 << 20];
    long off = 0;
    try (InputStream in = Files.newInputStream(plan)) {
      for (int n;
          off < size && (n = in.read(buf, 0, (int) Math.min(buf.length, size - off))) > 0;
          off += n) {
        dst.position(off).put(buf, 0, n);
        md.update(buf, 0, n);
      }
    } catch (IOException e) {
      throw new BadInputException("cannot read engine plan " + plan + ": " + e.getMessage(), e);
    }
    if (off != size) {
      throw new BadInputException("engine plan " + plan + " changed while it was read");
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
