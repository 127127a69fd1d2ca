package dev.msnexport.verifier;

import dev.msnexport.common.HostTensor;
import dev.msnexport.verifier.backend.Inputs;
import java.util.LinkedHashMap;
import java.util.Map;

/** Output sets of {@link OutputSetTest}: constant tensors shaped like a tiny model's outputs. */
final class OutputSetFixtures {
  private OutputSetFixtures() {}

  static HostTensor floats(String name, long[] shape, double v) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    double[] x = new double[n];
    java.util.Arrays.fill(x, v);
    return HostTensor.ofFloats(name, shape, x);
  }

  /**
   * click [2, 1] and layer 0's slots and weights [2, 4, 2]: what a tiny-like model gives at batch
   * 2.
   */
  static Map<String, HostTensor> outputs() {
    Map<String, HostTensor> m = new LinkedHashMap<>();
    long[] r = {2, 4, 2};
    m.put(
        "retrieval.0.slots",
        HostTensor.ofInts(
            "retrieval.0.slots", r, new long[] {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}));
    m.put("retrieval.0.weights", floats("retrieval.0.weights", r, 0.5));
    m.put("click", floats("click", new long[] {2, 1}, 0.25));
    return m;
  }

  static Map<String, HostTensor> tokens(int batch) {
    return Inputs.random(OutputSetTest.TINY.model(), batch, 1);
  }

  /**
   * The outputs of a tiny export at batch 2 (with retrieval outputs), as a golden file holds them.
   */
  static Map<String, HostTensor> tinyOutputs(long batch) {
    Map<String, HostTensor> m = new LinkedHashMap<>();
    OutputSet.of(OutputSetTest.TINY.model(), true, batch)
        .forEach(
            (name, e) ->
                m.put(
                    name,
                    e.integer()
                        ? HostTensor.ofInts(
                            name,
                            e.shape(),
                            new long[(int) (e.shape()[0] * e.shape()[1] * e.shape()[2])])
                        : floats(name, e.shape(), 0.5)));
    return m;
  }
}
