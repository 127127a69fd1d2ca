package dev.msnexport.ops;

import java.util.Arrays;

/**
 * The tensor element types an op table may name, spelled as in {@code ops.json} ("float32",
 * "int64", ...), with their ONNX {@code TensorProto.DataType} numbers.
 */
public enum ElementType {
  FLOAT32("float32", 1),
  UINT8("uint8", 2),
  INT8("int8", 3),
  INT32("int32", 6),
  INT64("int64", 7),
  BOOL("bool", 9),
  FLOAT16("float16", 10),
  FLOAT64("float64", 11),
  BFLOAT16("bfloat16", 16),
  /** OCP FP8 E4M3FN (no infinity), the codes of fp8 quantized value tables. */
  FLOAT8E4M3FN("float8e4m3fn", 17);

  private final String jsonName;
  private final int onnxCode;

  ElementType(String jsonName, int onnxCode) {
    this.jsonName = jsonName;
    this.onnxCode = onnxCode;
  }

  /** The spelling in ops.json. */
  public String jsonName() {
    return jsonName;
  }

  /** ONNX's {@code TensorProto.DataType} number. */
  public int onnxCode() {
    return onnxCode;
  }

  /** The type spelled {@code name} in ops.json; fails naming the accepted spellings. */
  public static ElementType of(String name) {
    for (ElementType t : values()) {
      if (t.jsonName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unknown element type '"
            + name
            + "' (expected one of "
            + Arrays.stream(values()).map(ElementType::jsonName).toList()
            + ")");
  }

  /** The type with ONNX number {@code code}, or null. */
  public static ElementType ofOnnx(int code) {
    for (ElementType t : values()) {
      if (t.onnxCode == code) {
        return t;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return jsonName;
  }
}
