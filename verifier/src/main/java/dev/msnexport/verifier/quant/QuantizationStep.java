package dev.msnexport.verifier.quant;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.golden.GoldenModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Verify's quantization check of an int8/fp8 export ({@link QuantizationReport}): the golden model
 * on the dequantized tables against the checkpoint's own, on verify's inputs.
 */
public final class QuantizationStep {
  private QuantizationStep() {}

  /** The value type of an export as the exporter names it (manifest's {@code values_dtype}). */
  public static DType valuesDtype(ExportedModel m) {
    return DType.parseValues(m.valuesDtype());
  }

  /**
   * The report, or null for an export whose tables are not quantized. Reuses the golden backend's
   * last run when one ran; else opens the checkpoint ({@code opened}, else {@code checkpointArg}
   * through {@code nameMap}, else the export's).
   */
  public static QuantizationReport run(
      ExportedModel m,
      List<Backend> backends,
      Checkpoint opened,
      Path checkpointArg,
      NameMap nameMap,
      Map<String, HostTensor> inputs) {
    DType as = valuesDtype(m);
    if (!RowQuantizer.isQuantized(as)) {
      return null;
    }
    HostTensor tokens = Inputs.tokens(inputs, m.config());
    int batch = (int) tokens.shape()[0];
    float[] x = tokens.toFloatArray();
    GoldenModel.Result last = null;
    for (Backend b : backends) {
      if (b instanceof GoldenBackend g && g.lastResult() != null) {
        last = g.lastResult();
      }
    }
    if (opened != null) {
      return report(opened, as, last, x, batch);
    }
    try (Checkpoint c = m.openCheckpoint(checkpointArg, nameMap)) {
      return report(c, as, last, x, batch);
    } catch (BadInputException e) {
      throw new BadInputException(
          "the quantization check of "
              + m.dir()
              + " ("
              + m.valuesDtype()
              + " tables) needs its checkpoint: "
              + e.getMessage(),
          e);
    }
  }

  private static QuantizationReport report(
      Checkpoint c, DType as, GoldenModel.Result last, float[] tokens, int batch) {
    GoldenModel.Result q = last != null ? last : new GoldenModel(c, as).forward(tokens, batch);
    return QuantizationReport.of(c, as, q, tokens, batch);
  }
}
