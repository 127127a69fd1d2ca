package dev.msnexport.cli;

import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import picocli.CommandLine.Option;

/**
 * How export lays out the graphs: {@code --external-data}, {@code --[no-]retrieval-outputs}, {@code
 * --scoring-split-k} and {@code --fuse-msn-layer} (a picocli mixin).
 */
final class ExportGraphOptions {
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

  /** The exporter's options: these, the value tables in {@code valuesDtype}, {@code profile}. */
  MsnOnnxExporter.Options options(Choices.ValuesDtype valuesDtype, String profile) {
    MsnOnnxExporter.Options o =
        ExportRun.options(valuesDtype, externalData, retrievalOutputs, profile);
    return new MsnOnnxExporter.Options(
        o.valuesDtype(),
        o.externalData(),
        o.retrievalOutputs(),
        o.profile(),
        scoringSplitK,
        fuseMsnLayer);
  }
}
