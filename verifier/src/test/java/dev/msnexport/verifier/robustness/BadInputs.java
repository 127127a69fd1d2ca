package dev.msnexport.verifier.robustness;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.ortops.MsnOrtOps;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The stateless pieces of {@link BadInputMatrixTest}: feeds, and whether ort-custom can exist here.
 */
final class BadInputs {
  private BadInputs() {}

  static boolean nativeOpsPresent() {
    return MsnOrtOps.class.getResource(MsnOrtOps.RESOURCE) != null;
  }

  /** Skips an op-level test of ort-custom where the native ops library is not in the jar. */
  static void assumeCustomOps() {
    assumeTrue(
        nativeOpsPresent(),
        "ort-custom: " + MsnOrtOps.RESOURCE + " is not in the onnx-custom-ops jar");
  }

  /** SparseGather's feeds: one query of the given indices and weights. */
  static Map<String, HostTensor> gatherFeeds(long[] indices, float... weights) {
    return Map.of(
        "indices",
        HostTensor.ofInts("indices", new long[] {1, indices.length}, indices),
        "weights",
        HostTensor.ofFloats("weights", new long[] {1, weights.length}, weights));
  }

  static Map<String, HostTensor> tokens(long[] shape, float fill) {
    int n =
        Math.toIntExact(
            shape.length == 0 ? 1 : java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b));
    float[] v = new float[n];
    java.util.Arrays.fill(v, fill);
    return Map.of(MsnOnnxExporter.INPUT, HostTensor.ofFloats(MsnOnnxExporter.INPUT, shape, v));
  }

  /**
   * Quantized tables a SparseGather must refuse: name, type, codes [4, 2], scales, what the message
   * names.
   */
  static Stream<Arguments> badQuantizedTables() {
    final int i8 = ai.onnx.proto.OnnxMl.TensorProto.DataType.INT8_VALUE;
    final int f8 = ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT8E4M3FN_VALUE;
    byte[] ok = {1, 2, 3, 4, 5, 6, 7, 8};
    byte[] minus128 = ok.clone();
    minus128[5] = (byte) 0x80;
    byte[] nanCode = ok.clone();
    nanCode[5] = (byte) 0xff;
    return Stream.of(
        // name, type, codes [4, 2], scales, what the message names
        Arguments.of("nan-scale", i8, ok, new float[] {1, Float.NaN, 1, 1}, "'scales'"),
        Arguments.of("negative-scale", f8, ok, new float[] {1, 1, -2, 1}, "'scales'"),
        Arguments.of("zero-scale-nonzero-row", i8, ok, new float[] {1, 0, 1, 1}, "scale 0"),
        Arguments.of("short-scales", i8, ok, new float[] {1, 1, 1}, "'scales'"),
        Arguments.of("code-minus-128", i8, minus128, new float[] {1, 1, 1, 1}, "-128"),
        Arguments.of("fp8-nan-code", f8, nanCode, new float[] {1, 1, 1, 1}, "NaN"),
        Arguments.of("missing-scales", i8, ok, null, "'scales'"));
  }
}
