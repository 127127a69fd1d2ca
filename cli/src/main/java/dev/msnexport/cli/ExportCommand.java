package dev.msnexport.cli;

import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.progress.Progress;
import dev.msnexport.exporter.safetensors.DType;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description =
        "Export a checkpoint to OUT/model.custom.onnx (msn::PKMRetrieval, msn::SparseGather) and OUT/model.reference.onnx "
            + "(standard ONNX ops, opset 17), with OUT/manifest.json.")
final class ExportCommand implements Callable<Integer> {
  @Option(
      names = "--checkpoint",
      required = true,
      description = "Checkpoint directory (config.json + model.safetensors).")
  Path checkpoint;

  @Option(names = "--out", required = true, description = "Output directory.")
  Path out;

  @Option(
      names = "--values-dtype",
      description =
          "Storage type of the value tables: ${COMPLETION-CANDIDATES} (default: the profile's"
              + " values_dtype, of --profile or else of the built-in profile whose model the"
              + " checkpoint is; fp32 for any other checkpoint); int8 and fp8 (E4M3FN) are"
              + " quantized per row with float32 scales.")
  Choices.ValuesDtype valuesDtype;

  @Option(
      names = "--quiet",
      description = "No progress bar on standard error (drawn only when it is a terminal).")
  boolean quiet;

  @Option(
      names = "--external-data",
      defaultValue = "auto",
      description =
          "auto (when the model would pass 2 GiB), always or never "
              + "(default: ${DEFAULT-VALUE}).")
  Choices.ExternalData externalData;

  @Option(
      names = "--no-retrieval-outputs",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Add each MSN layer's retrieved slots and weights as graph outputs (retrieval.{l}.slots/weights) so parity can "
              + "compare them (default: on).")
  boolean retrievalOutputs;

  @Option(
      names = "--profile",
      completionCandidates = Choices.ProfileNames.class,
      description = "Profile name recorded in the manifest (tolerances for verify).")
  String profile;

  @Range(min = 1, max = 64)
  @Option(
      names = "--scoring-split-k",
      defaultValue = "" + MsnOnnxExporter.DEFAULT_SCORING_SPLIT_K,
      paramLabel = "C",
      description =
          "Retrieval-scoring products over 256 or more terms (query projection over D, key products over dk) are summed "
              + "from C partial products, which keeps float32 rounding of the candidate scores near float64's on wide models; 1: one "
              + "MatMul each (default: ${DEFAULT-VALUE}).")
  int scoringSplitK;

  @Option(
      names = "--fuse-msn-layer",
      description =
          "In model.custom.onnx, compute each MSN layer with one msn::MsnLayer node (query projection, scoring, "
              + "retrieval, read and gate in one kernel) instead of the MatMul/LayerNorm/PKMRetrieval/SparseGather chain; "
              + "the reference graph is unchanged (default: off).")
  boolean fuseMsnLayer;

  @Mixin NameMapOption nameMap;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    new OutputAliasing()
        .input("--checkpoint", checkpoint)
        .input("--name-map", nameMap.file)
        .profile("--profile", profile)
        .outputDir("--out", out, OutputAliasing.EXPORT_FILES)
        .check(spec.commandLine());
    Choices.ValuesDtype dt =
        valuesDtype != null ? valuesDtype : ValuesDtypeDefault.of(profile, checkpoint);
    MsnOnnxExporter.Options o = options(dt, externalData, retrievalOutputs, profile);
    run(
        checkpoint,
        nameMap.read(),
        out,
        new MsnOnnxExporter.Options(
            o.valuesDtype(),
            o.externalData(),
            o.retrievalOutputs(),
            o.profile(),
            scoringSplitK,
            fuseMsnLayer),
        quiet);
    return ExitCodes.OK;
  }

  /**
   * Peak heap use of this JVM so far: the sum of the heap pools' peaks (an upper bound of the true
   * peak).
   */
  static long peakHeapBytes() {
    long sum = 0;
    for (java.lang.management.MemoryPoolMXBean pool :
        java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == java.lang.management.MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

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
