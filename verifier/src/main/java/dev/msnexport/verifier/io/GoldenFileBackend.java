package dev.msnexport.verifier.io;

import dev.msnexport.common.HostTensor;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A saved result as a backend (Polygraphy's idea of a runner that replays results): it "computes"
 * the outputs recorded in a {@link GoldenFile}, and only for the inputs recorded with them.
 */
public final class GoldenFileBackend implements Backend {
  public static final String NAME = "golden-file";

  private final GoldenFile golden;

  public GoldenFileBackend(GoldenFile golden) {
    this.golden = golden;
  }

  @Override
  public String name() {
    return NAME;
  }

  public GoldenFile golden() {
    return golden;
  }

  @Override
  public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
    for (Map.Entry<String, HostTensor> e : golden.inputs().entrySet()) {
      HostTensor given = inputs.get(e.getKey());
      if (given == null || !sameValues(given, e.getValue())) {
        throw new BackendException(
            NAME
                + ": input '"
                + e.getKey()
                + "' differs from the one saved with the outputs (producer "
                + golden.producer()
                + "): a golden file can only replay its own inputs");
      }
    }
    return new LinkedHashMap<>(golden.outputs());
  }

  private static boolean sameValues(HostTensor a, HostTensor b) {
    if (!Arrays.equals(a.shape(), b.shape()) || a.isInteger() != b.isInteger()) {
      return false;
    }
    if (a.isInteger()) {
      return Arrays.equals(a.ints(), b.ints());
    }
    // compared at float32: the precision inputs are stored and fed at
    return Arrays.equals(a.toFloatArray(), b.toFloatArray());
  }

  @Override
  public void close() {}
}
