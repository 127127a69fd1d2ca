package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MixedPrecision;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fp16 variant stores the weights that run in fp16 as fp16 initializers (issue 14: no run-time
 * weight casts): no Cast reads an initializer, each fp16 weight is the float32 one rounded as a
 * Cast would round it, and a float32 weight only half nodes read is gone. Weights in external data
 * are read from the model's directory.
 */
class Fp16WeightsTest {
  @TempDir Path tmp;

  private Path export(MsnOnnxExporter.ExternalData external) {
    Path ck = tmp.resolve("ck");
    SyntheticCheckpoint.write(Profiles.load("small").model(), ck, 9);
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c, tmp.resolve("out"), new MsnOnnxExporter.Options(DType.F32, external, true, "small"));
    }
    return tmp.resolve("out");
  }

  @Test
  void weightsOfTheHalfRegionAreStoredInFp16() {
    Path out = export(MsnOnnxExporter.ExternalData.NEVER);
    ModelProto plain = OnnxTensors.read(out.resolve(MsnOnnxExporter.CUSTOM_FILE));
    checkHalfWeights(plain, MixedPrecision.fp16Variant(plain), out);
  }

  @Test
  void externalWeightsAreReadFromTheModelDirectory() {
    Path out = export(MsnOnnxExporter.ExternalData.ALWAYS);
    ModelProto plain = OnnxTensors.read(out.resolve(MsnOnnxExporter.CUSTOM_FILE));
    ModelProto variant = MixedPrecision.fp16Variant(plain, Set.of(), out);
    checkHalfWeights(plain, variant, out);
    for (TensorProto t : variant.getGraph().getInitializerList()) {
      if (t.getDataType() == TensorProto.DataType.FLOAT16_VALUE) {
        assertTrue(t.getRawData().size() > 0, t.getName() + " is embedded");
      }
    }
    // without the directory, external weights keep their cast (and the graph stays valid)
    ModelProto noDir = MixedPrecision.fp16Variant(plain, Set.of(), null);
    assertTrue(
        noDir.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Cast")),
        "casts of external weights remain without the model directory");
  }

  private static void checkHalfWeights(ModelProto plain, ModelProto variant, Path dir) {
    Map<String, TensorProto> before = new HashMap<>();
    plain.getGraph().getInitializerList().forEach(t -> before.put(t.getName(), t));
    Map<String, TensorProto> after = new HashMap<>();
    variant.getGraph().getInitializerList().forEach(t -> after.put(t.getName(), t));
    for (NodeProto n : variant.getGraph().getNodeList()) {
      if (n.getOpType().equals("Cast")) {
        assertFalse(
            after.containsKey(n.getInput(0)) || before.containsKey(n.getInput(0)),
            "a Cast of weight " + n.getInput(0) + " would run on every inference");
      }
    }
    int half = 0;
    for (TensorProto h : after.values()) {
      if (h.getDataType() != TensorProto.DataType.FLOAT16_VALUE) {
        continue;
      }
      half++;
      String name = h.getName().substring(0, h.getName().length() - ".fp16".length());
      float[] f = floats(before.get(name), dir);
      ByteBuffer b = h.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(2 * f.length, b.remaining(), name);
      for (float v : f) {
        assertEquals(DType.floatToHalf(v), b.getShort(), name);
      }
    }
    assertTrue(half > 0, "FFN and head weights are fp16 initializers");
    for (TensorProto h : after.values()) {
      String name = h.getName().replaceAll("\\.fp16$", "");
      if (h.getDataType() == TensorProto.DataType.FLOAT16_VALUE && after.containsKey(name)) {
        assertTrue(
            variant.getGraph().getNodeList().stream()
                .anyMatch(n -> n.getInputList().contains(name)),
            "float32 " + name + " stays only while a float32 node reads it");
      }
    }
  }

  /** A float32 initializer's values, embedded or in external data under {@code dir}. */
  private static float[] floats(TensorProto t, Path dir) {
    ByteBuffer b;
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      Map<String, String> e = new HashMap<>();
      t.getExternalDataList().forEach(x -> e.put(x.getKey(), x.getValue()));
      try (FileChannel c = FileChannel.open(dir.resolve(e.get("location")))) {
        b =
            c.map(
                FileChannel.MapMode.READ_ONLY,
                Long.parseLong(e.get("offset")),
                Long.parseLong(e.get("length")));
      } catch (IOException x) {
        throw new UncheckedIOException(x);
      }
    } else {
      b = t.getRawData().asReadOnlyByteBuffer();
    }
    b.order(ByteOrder.LITTLE_ENDIAN);
    float[] f = new float[b.remaining() / 4];
    b.asFloatBuffer().get(f);
    return f;
  }
}
