package dev.msnexport.exporter.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.msnexport.ops.OpTable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Custom-op nodes come from the op table and are checked against it. */
class CustomOpNodeTest {
  private static final List<String> TEN =
      List.of("x", "wq", "bq", "a", "b", "c", "d", "kr", "kc", "v");

  private static Map<String, Object> layerAttrs() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("k", 4);
    a.put("gate", "sigmoid");
    a.put("epsilon", 1e-5f);
    a.put("tokens", 2);
    a.put("per_token", 1);
    return a;
  }

  @Test
  void theNodeTakesTypeDomainOutputsAndAttributeTypesFromTheTable() {
    GraphBuilder g = new GraphBuilder("t");
    String[] out = CustomOpNode.emit(g, OpTable.MSN_LAYER, TEN, layerAttrs());
    OpTable table = OpTable.standard();
    assertEquals(table.op(OpTable.MSN_LAYER).outputs().size(), out.length);
    NodeProto n = g.build().getNode(0);
    assertEquals("MsnLayer", n.getOpType());
    assertEquals(table.domain(), n.getDomain());
    Map<String, AttributeProto> byName = new LinkedHashMap<>();
    n.getAttributeList().forEach(a -> byName.put(a.getName(), a));
    assertEquals(
        List.of(
            "k", "gate", "epsilon", "tokens", "per_token", "plugin_version", "plugin_namespace"),
        List.copyOf(byName.keySet()));
    assertEquals(AttributeProto.AttributeType.INT, byName.get("k").getType());
    assertEquals(4, byName.get("k").getI());
    assertEquals(AttributeProto.AttributeType.FLOAT, byName.get("epsilon").getType());
    assertEquals("sigmoid", byName.get("gate").getS().toStringUtf8());
    assertEquals(table.pluginVersion(), byName.get("plugin_version").getS().toStringUtf8());
  }

  @Test
  void aNodeTheTableRefusesIsNotWritten() {
    assertBug(with("gates", "tanh"), "no attribute 'gates'");
    assertBug(with("gate", "relu"), "gate", "[tanh, sigmoid, identity]");
    assertBug(with("k", 0), "k", "range [1, null]");
    assertBug(with("per_token", 2), "per_token", "range [0, 1]");
    assertBug(with("epsilon", 1), "epsilon", "not a float");
    assertBug(with("tokens", 2.0f), "tokens", "not an integer");
    Map<String, Object> noGate = layerAttrs();
    noGate.remove("gate");
    assertBug(noGate, "required attribute 'gate'");
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                CustomOpNode.emit(
                    new GraphBuilder("t"), OpTable.MSN_LAYER, TEN.subList(0, 9), layerAttrs()));
    assertTrue(e.getMessage().contains("9 inputs"), e.getMessage());
    Map<String, Object> optionalLeftOut = layerAttrs();
    optionalLeftOut.remove("epsilon");
    optionalLeftOut.remove("per_token");
    assertEquals(
        3,
        CustomOpNode.emit(new GraphBuilder("t"), OpTable.MSN_LAYER, TEN, optionalLeftOut).length);
    assertEquals(
        1,
        CustomOpNode.emit(
                new GraphBuilder("t"),
                OpTable.SPARSE_GATHER,
                TEN.subList(0, 3),
                Collections.emptyMap())
            .length);
  }

  private static Map<String, Object> with(String name, Object value) {
    Map<String, Object> a = layerAttrs();
    a.put(name, value);
    return a;
  }

  private static void assertBug(Map<String, Object> attrs, String... fragments) {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> CustomOpNode.emit(new GraphBuilder("t"), OpTable.MSN_LAYER, TEN, attrs));
    assertTrue(e.getMessage().contains("MsnLayer"), e.getMessage());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), e.getMessage() + " lacks " + f);
    }
  }
}
