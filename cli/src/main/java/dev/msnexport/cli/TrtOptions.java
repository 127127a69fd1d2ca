package dev.msnexport.cli;

import dev.msnexport.verifier.backend.TrtSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Verify's options of its TensorRT backends (a picocli mixin around {@link TrtSettings}). */
final class TrtOptions {
  @Option(
      names = "--engine",
      paramLabel = "PLAN",
      description =
          "Backend trt: load this engine plan instead of building one; its "
              + "sidecar PLAN.json must match the export, the plugin library, TensorRT and the GPU (else exit 4).")
  Path engine;

  @Option(
      names = "--precision",
      description =
          "Backend trt: precision of the engine it builds, fp32 or fp16 (default: the "
              + "profile's, else fp32). Comparisons with an fp16 backend use the profile's fp16 tolerances.")
  Choices.Precision precision;

  @Option(
      names = "--trt-graph",
      description =
          "Backend trt: graph it builds, custom (our plugins) or reference (default: custom).")
  Choices.Graph trtGraph;

  @Option(
      names = "--timing-cache",
      paramLabel = "FILE",
      description = "Backend trt: TensorRT timing cache for builds.")
  Path timingCache;

  TrtSettings settings() {
    return new TrtSettings(
        engine,
        precision == null ? null : precision.spec(),
        trtGraph == null ? null : trtGraph.spec(),
        timingCache);
  }
}
