package dev.msnexport.cli;

import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.progress.Progress;
import dev.msnexport.exporter.safetensors.DType;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.Locale;

/** An export as export and pipeline run it: the options from the CLI's, a progress bar, a line. */
final class ExportRun {
  private ExportRun() {}

  /**
   * Peak heap use of this JVM so far: the sum of the heap pools' peaks (an upper bound of the true
   * peak).
   */
  static long peakHeapBytes() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /** The exporter's options of the CLI's choices (default scoring split, MSN layers unfused). */
  static MsnOnnxExporter.Options options(
      Choices.ValuesDtype valuesDtype,
      Choices.ExternalData externalData,
      boolean retrievalOutputs,
      String profile) {
    DType dt = DType.parseValues(valuesDtype.name());
    MsnOnnxExporter.ExternalData ext =
        MsnOnnxExporter.ExternalData.valueOf(externalData.name().toUpperCase(Locale.ROOT));
    return new MsnOnnxExporter.Options(dt, ext, retrievalOutputs, profile);
  }

  /**
   * Exports {@code checkpoint}, its tensor names mapped by {@code names} (null: already the
   * contract's).
   */
  static MsnOnnxExporter.Result run(
      Path checkpoint, NameMap names, Path out, MsnOnnxExporter.Options opts, boolean quiet) {
    try (Checkpoint ckpt = Checkpoint.open(checkpoint, names)) {
      MsnOnnxExporter.Result r;
      long total = MsnOnnxExporter.estimatedBytes(ckpt, opts.valuesDtype());
      try (Progress bar = Progress.onStderr("export", total, quiet)) {
        r = MsnOnnxExporter.export(ckpt, out, opts, bar);
      }
      double mb = r.bytesWritten() / 1e6;
      System.out.printf(
          "exported %s -> %s, %s (%.1f MB%s) in %.1f s (%.0f MB/s, peak heap %.0f MiB of %.0f MiB)%n",
          checkpoint,
          r.custom().getFileName(),
          r.reference().getFileName(),
          mb,
          r.externalData() != null ? ", external data " + r.externalData().getFileName() : "",
          r.seconds(),
          mb / Math.max(r.seconds(), 1e-9),
          peakHeapBytes() / 1048576.0,
          Runtime.getRuntime().maxMemory() / 1048576.0);
      return r;
    }
  }
}
