package dev.msnexport.verifier;

import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.parity.ParityTolerances;
import dev.msnexport.parity.RunComparison;
import dev.msnexport.profiles.Profile;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.HostTensor;
import dev.msnexport.verifier.golden.GoldenModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every backend on the same inputs and compares each one with every backend listed before
 * it: task outputs and retrieval weights numerically, retrieval slots with tie classification.
 */
public final class Verifier {
  private Verifier() {}

  /**
   * The profile's tolerance with per-output overrides ({@code --atol click:1e-4}); the rules
   * (retrieval weights at rtol >= 2 * tie_epsilon) are {@link ParityTolerances}'.
   */
  public record Tolerances(Profile.Tolerance base, Map<String, Double> atol, Map<String, Double> rtol) implements ParityTolerances {}

  public static VerifyReport run(String modelLabel, String profile, String valuesDtype, List<Backend> backends,
      Map<String, HostTensor> inputs, long seed, Tolerances tol) {
    return run(modelLabel, profile, valuesDtype, backends, inputs, seed, tol, null);
  }

  /**
   * As above; when {@code outputs} is not null, every backend that ran puts its outputs there
   * (by backend name, in run order), e.g. to save them as a golden file.
   */
  public static VerifyReport run(String modelLabel, String profile, String valuesDtype, List<Backend> backends,
      Map<String, HostTensor> inputs, long seed, Tolerances tol, Map<String, Map<String, HostTensor>> outputs) {
    int batch = (int) inputs.get(MsnOnnxExporter.INPUT).shape()[0];
    List<VerifyReport.BackendRun> runs = new ArrayList<>();
    Map<String, Map<String, HostTensor>> results = new LinkedHashMap<>();
    GoldenModel.Result golden = null;
    boolean pass = true;
    for (Backend b : backends) {
      long t0 = System.nanoTime();
      try {
        Map<String, HostTensor> out = b.infer(inputs);
        results.put(b.name(), out);
        runs.add(new VerifyReport.BackendRun(b.name(), "ok", (System.nanoTime() - t0) / 1e9, null));
        if (b instanceof GoldenBackend g) {
          golden = g.lastResult();
        }
      } catch (BackendException e) {
        runs.add(new VerifyReport.BackendRun(b.name(), "error", (System.nanoTime() - t0) / 1e9, e.getMessage()));
        pass = false;
      }
    }
    List<VerifyReport.Comparison> comparisons = new ArrayList<>();
    List<String> names = new ArrayList<>(results.keySet());
    for (int j = 1; j < names.size(); j++) {
      for (int i = 0; i < j; i++) {
        VerifyReport.Comparison c = compare(names.get(j), results.get(names.get(j)), names.get(i), results.get(names.get(i)),
            names.get(i).equals(GoldenBackend.NAME) ? golden : null, tol);
        comparisons.add(c);
        pass &= c.pass();
      }
    }
    if (outputs != null) {
      outputs.putAll(results);
    }
    if (results.size() < 2) {
      pass = false; // nothing was compared: never report a pass
    }
    return new VerifyReport(VerifyReport.SCHEMA, MsnOnnxExporter.toolVersion(), modelLabel, profile, valuesDtype, batch, seed, pass, runs,
        comparisons);
  }

  /** One pair of backends, by the rules of {@link RunComparison}; golden scores classify ties where the reference is golden. */
  static VerifyReport.Comparison compare(String candName, Map<String, HostTensor> cand, String refName, Map<String, HostTensor> ref,
      GoldenModel.Result golden, Tolerances tol) {
    RunComparison c;
    try {
      c = RunComparison.of(cand, ref, golden == null ? null : layer -> {
        GoldenModel.LayerRetrieval gl = golden.retrieval().get(layer);
        return gl == null ? null : gl::score;
      }, tol);
    } catch (RunComparison.SizeMismatch e) {
      throw new BackendException(candName + ": output " + e.output() + " has " + e.candidate() + " elements, " + refName + " has "
          + e.reference());
    }
    return new VerifyReport.Comparison(candName, refName, c.pass(), c.outputs(), c.retrieval());
  }
}
