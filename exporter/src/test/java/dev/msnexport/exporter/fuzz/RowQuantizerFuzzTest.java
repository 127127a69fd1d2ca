package dev.msnexport.exporter.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;

/**
 * Fuzzing of the quantization rule (docs/model-contract.md, "Quantized value tables") on arbitrary
 * float32 rows, extremes and subnormals included: a row with a NaN or infinity is refused; any
 * other gives a finite scale >= 0, codes the kernels accept (int8 never -128, fp8 never the NaN
 * code), all zeros when the scale is 0, and every element within its error bound.
 */
class RowQuantizerFuzzTest {
  @FuzzTest
  void quantizesAnyFiniteRowWithinItsBound(FuzzedDataProvider data) {
    DType t = data.consumeBoolean() ? DType.I8 : DType.F8_E4M3;
    int d = data.consumeInt(1, 64);
    float[] row = new float[d];
    boolean finite = true;
    for (int j = 0; j < d; j++) {
      row[j] = data.consumeFloat();
      finite &= Float.isFinite(row[j]);
    }
    byte[] codes = new byte[d];
    float scale;
    try {
      scale = RowQuantizer.quantize(row, 0, d, t, codes, 0);
    } catch (IllegalArgumentException e) {
      assertTrue(!finite, "a finite row was refused: " + e.getMessage());
      assertTrue(e.getMessage().contains("column"), e.getMessage());
      return;
    }
    assertTrue(finite, "a row with NaN or infinity was quantized");
    assertTrue(Float.isFinite(scale) && scale >= 0, "scale " + scale);
    for (int j = 0; j < d; j++) {
      if (t == DType.I8) {
        assertTrue(codes[j] != (byte) 0x80, "int8 code -128");
      } else {
        assertTrue((codes[j] & 0x7f) != 0x7f, "fp8 NaN code");
      }
      if (scale == 0) {
        assertEquals(0, codes[j] & 0x7f, "a row of scale 0 is all zeros");
      }
      double err = Math.abs(RowQuantizer.dequantize(codes[j], scale, t) - row[j]);
      assertTrue(err <= RowQuantizer.errorBound(row[j], scale, t), "column " + j + ": " + err);
    }
  }
}
