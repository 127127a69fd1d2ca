package dev.msnexport.trt;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.Sha256;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;

/**
 * Writes a serialized engine: the plan and its sidecar {@code PLAN.json} ({@link EngineMetadata})
 * together and atomically, and the builder's timing cache.
 */
final class PlanWriter {
  private PlanWriter() {}

  /** What the sidecar records besides the plan's own digest and size. */
  record Provenance(
      String precision,
      String graph,
      String profileName,
      dev.msnexport.profiles.Profile.BatchShapes batch,
      EngineMetadata.InputInfo input,
      EngineMetadata.OnnxInfo onnx,
      PluginLibrary.Located plugins,
      double buildSeconds) {}

  /** Writes {@code plan} to {@code out} and its sidecar beside it; returns the sidecar record. */
  static EngineMetadata write(IHostMemory plan, Path out, Provenance p) {
    TensorRt.Gpu gpu = TensorRt.gpu();
    try (AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
      String planSha = writeHostMemory(plan, batch.tempFor(out));
      EngineMetadata meta =
          new EngineMetadata(
              EngineMetadata.SCHEMA,
              toolVersion(),
              Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
              TensorRt.version(),
              new EngineMetadata.GpuInfo(gpu.name(), gpu.computeCapability()),
              p.precision(),
              p.graph(),
              p.profileName(),
              p.batch(),
              p.input(),
              p.onnx(),
              p.plugins() == null
                  ? null
                  : new EngineMetadata.PluginInfo(p.plugins().source(), p.plugins().sha256()),
              planSha,
              plan.size(),
              Math.round(p.buildSeconds() * 10) / 10.0);
      Files.writeString(
          batch.tempFor(EngineMetadata.sidecarOf(out)), meta.toJson(), AtomicFiles.existingTemp());
      batch.commit();
      return meta;
    } catch (IOException e) {
      throw AtomicFiles.writeFailed(out, e);
    }
  }

  /** Saves the config's timing cache to {@code file}; returns whether it was written. */
  static boolean saveTimingCache(IBuilderConfig config, Path file) {
    IHostMemory blob = TrtObjects.own(config.getTimingCache().serialize());
    try {
      if (blob == null || blob.isNull()) {
        return false;
      }
      AtomicFiles.write(file.toAbsolutePath(), tmp -> writeHostMemory(blob, tmp));
      return true;
    } finally {
      TrtObjects.delete(blob);
    }
  }

  /**
   * Copies TensorRT host memory to the temporary file {@code file}, in chunks; returns its SHA-256.
   */
  static String writeHostMemory(IHostMemory mem, Path file) throws IOException {
    MessageDigest md = Sha256.digest();
    long size = mem.size();
    BytePointer src = new BytePointer(mem.data());
    byte[] buf = new byte[16 << 20];
    try (OutputStream out = Files.newOutputStream(file, AtomicFiles.existingTemp())) {
      for (long off = 0; off < size; off += buf.length) {
        int n = (int) Math.min(buf.length, size - off);
        src.position(off).get(buf, 0, n);
        md.update(buf, 0, n);
        out.write(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static String toolVersion() {
    String v = EngineBuilder.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
