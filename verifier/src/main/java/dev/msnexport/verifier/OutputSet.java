package dev.msnexport.verifier;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.parity.RunComparison;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.verifier.io.GoldenFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The set of outputs, with their shapes and dtypes, that two runs must agree on before their values
 * are compared: an output that one side lacks, or gives with another shape or dtype, is never
 * skipped. Between two backends it fails the comparison ({@link #diff}); in a golden file it is bad
 * input ({@link #checkGolden}).
 */
public final class OutputSet {
  private OutputSet() {}

  /** An output the export gives: its shape and whether it is int64 (else float). */
  public record Expected(long[] shape, boolean integer) {
    String describe() {
      return (integer ? "int64 " : "float ") + Arrays.toString(shape);
    }
  }

  /**
   * The outputs of an export of {@code config} at batch {@code batch}, in graph order: each task
   * {@code [B, 1]} float, and with {@code retrievalOutputs} each MSN layer's {@code
   * retrieval.L.slots} (int64) and {@code retrieval.L.weights} (float), {@code [B, T, k]}.
   */
  public static Map<String, Expected> of(ModelConfig config, boolean retrievalOutputs, long batch) {
    Map<String, Expected> m = new LinkedHashMap<>();
    if (retrievalOutputs) {
      for (int l = 0; l < config.L(); l++) {
        if (config.isMsnLayer(l)) {
          long[] shape = {batch, config.T(), config.k()};
          m.put(MsnOnnxExporter.slotsOutput(l), new Expected(shape, true));
          m.put(MsnOnnxExporter.weightsOutput(l), new Expected(shape, false));
        }
      }
    }
    for (String task : config.tasks()) {
      m.put(task, new Expected(new long[] {batch, 1}, false));
    }
    return m;
  }

  /** "absent", or a tensor's dtype and shape ({@code float [8, 1]}). */
  static String describe(HostTensor t) {
    return t == null ? "absent" : t.dtype() + " " + Arrays.toString(t.shape());
  }

  /** True when both are present with the same dtype and shape. */
  static boolean alike(HostTensor a, HostTensor b) {
    return a != null
        && b != null
        && a.isInteger() == b.isInteger()
        && Arrays.equals(a.shape(), b.shape());
  }

  /**
   * The outputs that {@code cand} and {@code ref} do not give alike (absent on one side, another
   * shape or another dtype): reference's order first, then the candidate's extras.
   */
  static List<VerifyReport.OutputSetMismatch> diff(
      Map<String, HostTensor> cand, Map<String, HostTensor> ref) {
    List<VerifyReport.OutputSetMismatch> m = new ArrayList<>();
    for (Map.Entry<String, HostTensor> e : ref.entrySet()) {
      HostTensor c = cand.get(e.getKey());
      if (!alike(c, e.getValue())) {
        m.add(new VerifyReport.OutputSetMismatch(e.getKey(), describe(c), describe(e.getValue())));
      }
    }
    for (Map.Entry<String, HostTensor> e : cand.entrySet()) {
      if (!ref.containsKey(e.getKey())) {
        m.add(new VerifyReport.OutputSetMismatch(e.getKey(), describe(e.getValue()), "absent"));
      }
    }
    return m;
  }

  /**
   * {@code outputs} without the names in {@code mismatched}, and without a retrieval layer's slots
   * whose weights are among them (slots are classified with their weights; the layer's failure is
   * in {@code mismatched}).
   */
  static Map<String, HostTensor> comparable(
      Map<String, HostTensor> outputs, List<VerifyReport.OutputSetMismatch> mismatched) {
    Map<String, HostTensor> m = new LinkedHashMap<>(outputs);
    for (VerifyReport.OutputSetMismatch x : mismatched) {
      m.remove(x.output());
      if (RunComparison.isWeights(x.output())) {
        m.remove(x.output().substring(0, x.output().length() - ".weights".length()) + ".slots");
      }
    }
    return m;
  }

  /**
   * The outputs of golden file {@code file} to compare with: every output the export gives ({@code
   * expected}, at the batch of the file's inputs) must be there with that shape and dtype, else bad
   * input naming the file and the tensor. An output name of the model's kind (a task of its config,
   * {@code retrieval.L.slots/weights}) that the export does not give is bad input too; other
   * tensors (intermediates saved with {@code --mark-outputs}) are kept when in {@code marked}, else
   * left out with a warning on {@code warn}.
   */
  public static Map<String, HostTensor> checkGolden(
      Path file,
      GoldenFile golden,
      ModelConfig config,
      Map<String, Expected> expected,
      Collection<String> marked,
      Consumer<String> warn) {
    boolean json = GoldenFile.isPolygraphyJson(file);
    for (Map.Entry<String, Expected> e : expected.entrySet()) {
      HostTensor t = golden.outputs().get(e.getKey());
      Expected x = e.getValue();
      String tensor = tensorName(json, e.getKey());
      if (t == null) {
        throw new BadInputException(
            "golden file "
                + file
                + " lacks tensor "
                + tensor
                + " (the export gives output "
                + e.getKey()
                + ", "
                + x.describe()
                + " for the batch of the file's inputs"
                + (e.getKey().startsWith("retrieval.")
                    ? "; an export made with " + "--no-retrieval-outputs compares the tasks only"
                    : "")
                + ")");
      }
      if (t.isInteger() != x.integer() || !Arrays.equals(t.shape(), x.shape())) {
        throw new BadInputException(
            "golden file "
                + file
                + ": tensor "
                + tensor
                + " is "
                + describe(t)
                + ", the export's output "
                + e.getKey()
                + " is "
                + x.describe()
                + " (batch "
                + x.shape()[0]
                + ", as the file's inputs)");
      }
    }
    Map<String, HostTensor> kept = new LinkedHashMap<>();
    for (Map.Entry<String, HostTensor> e : golden.outputs().entrySet()) {
      String name = e.getKey();
      if (expected.containsKey(name) || marked.contains(name)) {
        kept.put(name, e.getValue());
      } else if (isModelOutputName(config, name)) {
        throw new BadInputException(
            "golden file "
                + file
                + ": tensor "
                + tensorName(json, name)
                + " is not an output of this export"
                + (name.startsWith("retrieval.")
                    ? " (exported without retrieval outputs, or the layer is not an MSN layer)"
                    : ""));
      } else {
        warn.accept(
            "golden file "
                + file
                + ": tensor "
                + tensorName(json, name)
                + " is not an output of the export, not compared "
                + "(an intermediate tensor: compare it with --mark-outputs "
                + name
                + ")");
      }
    }
    return kept;
  }

  private static String tensorName(boolean polygraphyJson, String output) {
    return polygraphyJson ? "'" + output + "'" : "outputs." + output;
  }

  private static boolean isModelOutputName(ModelConfig config, String name) {
    return config.tasks().contains(name) || name.matches("retrieval\\.[0-9]+\\.(slots|weights)");
  }
}
