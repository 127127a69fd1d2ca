package dev.msnexport.verifier.golden;

/**
 * The quantization error of one MSN layer's gathered vectors: for each element, {@code |v_q - v|}
 * (the vector from the dequantized table against the one from the checkpoint's, same slots and
 * weights) and its bound {@code sum_m |w_m| * errorBound(V[s_m, j], scale_{s_m})}.
 *
 * @param overBound elements whose error exceeds their bound (must be 0)
 */
public record GatherError(
    int layer,
    long elements,
    double maxAbsError,
    double maxBound,
    double maxErrorOverBound,
    long overBound) {
  static GatherError empty(int layer) {
    return new GatherError(layer, 0, 0, 0, 0, 0);
  }

  GatherError add(double err, double bound) {
    double ratio = bound > 0 ? err / bound : (err > 0 ? Double.POSITIVE_INFINITY : 0);
    return new GatherError(
        layer,
        elements + 1,
        Math.max(maxAbsError, err),
        Math.max(maxBound, bound),
        Math.max(maxErrorOverBound, ratio),
        overBound + (err > bound ? 1 : 0));
  }
}
