package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import java.util.Locale;

/**
 * Engine precision. {@code FP32} builds strict float32 (TF32 math is switched off, so matrix
 * products round like ONNX Runtime's); {@code FP16} lets TensorRT (and our plugins) choose float16
 * kernels where faster, with TF32 allowed.
 */
public enum Precision {
  FP32,
  FP16;

  /** The profile / CLI spelling: "fp32" or "fp16". */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Precision parse(String s) {
    if (s != null) {
      for (Precision p : values()) {
        if (p.label().equalsIgnoreCase(s.trim())) {
          return p;
        }
      }
    }
    throw new BadInputException("precision must be fp32 or fp16, got '" + s + "'");
  }
}
