package dev.msnexport.ortops;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import dev.msnexport.ops.ElementType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Zero-filled ONNX Runtime tensors of any element type the op table can name. */
final class ZeroTensors {
  private ZeroTensors() {}

  static OnnxTensor of(ElementType type, long[] shape) throws OrtException {
    long count = 1;
    for (long d : shape) {
      count *= d;
    }
    OnnxJavaType java = javaType(type);
    ByteBuffer buf =
        ByteBuffer.allocateDirect((int) (count * java.size)).order(ByteOrder.nativeOrder());
    return OnnxTensor.createTensor(OrtRunner.ENV, buf, shape, java);
  }

  /** The Java tensor type, or null for a type ONNX Runtime's Java API cannot create. */
  static OnnxJavaType javaType(ElementType type) {
    return switch (type) {
      case FLOAT32 -> OnnxJavaType.FLOAT;
      case FLOAT16 -> OnnxJavaType.FLOAT16;
      case BFLOAT16 -> OnnxJavaType.BFLOAT16;
      case FLOAT64 -> OnnxJavaType.DOUBLE;
      case INT64 -> OnnxJavaType.INT64;
      case INT32 -> OnnxJavaType.INT32;
      case INT8 -> OnnxJavaType.INT8;
      case UINT8 -> OnnxJavaType.UINT8;
      case BOOL -> OnnxJavaType.BOOL;
      case FLOAT8E4M3FN -> null; // no ONNX Runtime Java type: a graph initializer instead
    };
  }
}
