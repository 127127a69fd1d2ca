package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.exporter.onnx.Fp16Policy;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Parsing of TensorRT's engine-inspector JSON (the shapes TensorRT 10 writes); needs no GPU. */
class EngineLayersTest {
  private static final String DETAILED =
      """
      {"Layers": [{
        "Name": "blocks.0.msn/q_proj/MatMul + blocks.0.msn/q_norm/LayerNormalization",
        "LayerType": "CaskGemmMatrixMultiply",
        "Inputs": [{"Name": "x", "Location": "Device", "Dimensions": [64,8,32], "Format/Datatype": "Row major linear FP32"}],
        "Outputs": [{"Name": "q", "Location": "Device", "Dimensions": [64,8,32], "Format/Datatype": "Row major linear FP32"}],
        "TacticName": "sm90_xmma_gemm_f32f32_tf32f32_f32_nn_n", "TacticValue": "0x1"
      },{
        "Name": "Reformatting CopyNode for Input Tensor 0 to blocks.0.msn/PKMRetrieval",
        "LayerType": "Reformat",
        "Inputs": [{"Name": "s", "Format/Datatype": "Half"}],
        "Outputs": [{"Name": "s2", "Format/Datatype": "Float"}],
        "TacticValue": "0x00000000000003e8"
      },{
        "Name": "blocks.0.msn/PKMRetrieval",
        "LayerType": "PluginV3",
        "Inputs": [{"Name": "q", "Format/Datatype": "Row major linear FP32"}, {"Name": "k", "Format/Datatype": "Row major linear FP16 format"}],
        "Outputs": [{"Name": "w", "Format/Datatype": "Row major linear FP32"}, {"Name": "i", "Format/Datatype": "Row major linear Int64"}]
      },{
        "Name": "{ForeignNode[blocks.0.ffn/MatMul...blocks.0/Add]}",
        "LayerType": "Myelin",
        "Inputs": [{"Name": "a", "Format/Datatype": "N/A due to dynamic shapes"}],
        "Outputs": []
      }],
      "Bindings": ["tokens", "click"]}
      """;

  @Test
  void detailedLayersGiveTypesAndTactics() {
    EngineLayers e = EngineLayers.parse(DETAILED);
    assertEquals(4, e.layers().size());
    EngineLayers.Layer gemm = e.layers().get(0);
    assertEquals("CaskGemmMatrixMultiply", gemm.type());
    assertEquals(List.of("fp32"), gemm.inputTypes());
    assertEquals("sm90_xmma_gemm_f32f32_tf32f32_f32_nn_n", gemm.tactic());
    assertFalse(gemm.touchesHalf());
    EngineLayers.Layer reformat = e.layers().get(1);
    assertEquals(List.of("fp16"), reformat.inputTypes());
    assertEquals(List.of("fp32"), reformat.outputTypes());
    assertEquals(
        "0x00000000000003e8", reformat.tactic(), "TacticValue when there is no TacticName");
    EngineLayers.Layer pkm = e.layers().get(2);
    assertEquals(List.of("fp32", "fp16"), pkm.inputTypes());
    assertEquals(List.of("fp32", "int64"), pkm.outputTypes());
    assertEquals(Set.of("fp32", "fp16"), pkm.floatingTypes());
    assertTrue(pkm.touchesHalf());
    assertEquals(
        List.of("?"), e.layers().get(3).inputTypes(), "dynamic shapes without a context: unknown");
    assertEquals(3, e.named("blocks.0.msn/").size());
    assertEquals(
        List.of(
            "Reformatting CopyNode for Input Tensor 0 to blocks.0.msn/PKMRetrieval",
            "blocks.0.msn/PKMRetrieval"),
        e.halfIn(Fp16Policy::inFloat32Scope).stream().map(EngineLayers.Layer::name).toList());
    String table = e.table(40);
    assertTrue(table.contains("fp32,fp16"), table);
    assertTrue(table.contains("blocks.0.msn/q_proj/MatMul + blocks.0... ["), table);
  }

  @Test
  void namesOnlyVerbosity() {
    EngineLayers e = EngineLayers.parse("{\"Layers\": [\"a + b\", \"c\"], \"Bindings\": []}");
    assertEquals(List.of("a + b", "c"), e.layers().stream().map(EngineLayers.Layer::name).toList());
    assertEquals(List.of(), e.layers().get(0).inputTypes());
  }

  @Test
  void dataTypeTexts() {
    assertEquals("fp32", EngineLayers.dataType("Row major linear FP32"));
    assertEquals("fp16", EngineLayers.dataType("Channel major FP16 format where channel % 8 == 0"));
    assertEquals("bf16", EngineLayers.dataType("Row major linear BF16 format"));
    assertEquals("int32", EngineLayers.dataType("Int32"));
    assertEquals("int64", EngineLayers.dataType("Row major linear Int64"));
    assertEquals(
        "int8", EngineLayers.dataType("Thirty-two wide channel vectorized row major Int8 format."));
    assertEquals("?", EngineLayers.dataType("N/A due to dynamic shapes"));
  }

  @Test
  void badJsonIsAnError() {
    assertThrows(TrtException.class, () -> EngineLayers.parse("not json"));
    assertThrows(TrtException.class, () -> EngineLayers.parse("{\"NoLayers\": 1}"));
  }
}
