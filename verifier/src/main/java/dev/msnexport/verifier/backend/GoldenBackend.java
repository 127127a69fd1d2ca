package dev.msnexport.verifier.backend;

import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.verifier.golden.GoldenModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The float64 Java model as a backend; also exposes the last run's retrieval scores for tie checks.
 */
public final class GoldenBackend implements Backend {
  public static final String NAME = "golden";

  private final GoldenModel model;
  private final boolean retrievalOutputs;
  private GoldenModel.Result last;

  public GoldenBackend(Checkpoint ckpt) {
    this(ckpt, true);
  }

  /**
   * @param retrievalOutputs whether to output each MSN layer's {@code retrieval.L.slots/weights},
   *     as an export made with them has (without, the outputs are the tasks only, like the graphs')
   */
  public GoldenBackend(Checkpoint ckpt, boolean retrievalOutputs) {
    this(ckpt, retrievalOutputs, DType.F32);
  }

  /**
   * As above, computing as an export of value type {@code valuesDtype} does: an int8/fp8 table
   * dequantized by the exporter's rule ({@link GoldenModel#GoldenModel(Checkpoint, DType)}).
   */
  public GoldenBackend(Checkpoint ckpt, boolean retrievalOutputs, DType valuesDtype) {
    this.model = new GoldenModel(ckpt, valuesDtype);
    this.retrievalOutputs = retrievalOutputs;
  }

  @Override
  public String name() {
    return NAME;
  }

  public GoldenModel.Result lastResult() {
    return last;
  }

  @Override
  public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
    ModelConfig c = model.config();
    HostTensor tokens = Inputs.tokens(inputs, c);
    int batch = (int) tokens.shape()[0];
    last = model.forward(tokens.toFloatArray(), batch);
    Map<String, HostTensor> out = new LinkedHashMap<>();
    last.outputs()
        .forEach((task, v) -> out.put(task, HostTensor.ofFloats(task, new long[] {batch, 1}, v)));
    for (GoldenModel.LayerRetrieval r :
        retrievalOutputs ? last.retrieval().values() : List.<GoldenModel.LayerRetrieval>of()) {
      long[] shape = {batch, c.T(), c.k()};
      out.put(
          MsnOnnxExporter.slotsOutput(r.layer()),
          HostTensor.ofInts(MsnOnnxExporter.slotsOutput(r.layer()), shape, r.slots()));
      out.put(
          MsnOnnxExporter.weightsOutput(r.layer()),
          HostTensor.ofFloats(MsnOnnxExporter.weightsOutput(r.layer()), shape, r.weights()));
    }
    return out;
  }

  @Override
  public boolean prepare(Map<String, HostTensor> inputs) {
    prepared = inputs;
    return true;
  }

  private Map<String, HostTensor> prepared;

  @Override
  public void runPrepared() {
    infer(prepared);
  }

  @Override
  public void close() {}
}
