package dev.msnexport.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpTableTest {
  private static final String MINIMAL =
      """
      {"schema": 1, "domain": "d", "opsetVersion": 1, "pluginVersion": "1", "pluginNamespace": "",
       "ops": [{"id": "my_op", "name": "MyOp", "doc": "",
                "inputs": [{"name": "x", "types": ["float32", "float16"], "rank": 2},
                           {"name": "y", "types": ["int64"], "rank": 1, "optional": true}],
                "outputs": [{"name": "o", "type": "same:x", "rank": 2},
                            {"name": "p", "type": "int64", "rank": 2}],
                "attributes": [{"name": "k", "type": "int", "required": true, "min": 1},
                               {"name": "g", "type": "string", "required": false,
                                "values": ["a", "b"]}]}]}
      """;

  static OpTable parse(String json) throws IOException {
    return OpTable.parse(
        new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "test.json");
  }

  @Test
  void thePackagedTableHoldsTheContractsOps() {
    OpTable t = OpTable.standard();
    assertEquals("msn", t.domain());
    assertEquals(1, t.opsetVersion());
    assertEquals("1", t.pluginVersion());
    assertEquals("", t.pluginNamespace());
    assertEquals(List.of("PKMRetrieval", "SparseGather", "MsnLayer"), t.names());
    OpSpec pkm = t.op(OpTable.PKM_RETRIEVAL);
    assertEquals(
        List.of("row_scores", "col_scores"),
        pkm.inputs().stream().map(OpSpec.Input::name).toList());
    assertEquals("k", pkm.attributes().get(0).name());
    assertEquals(1L, pkm.attributes().get(0).min());
    // weights take the scores' type, indices are int64
    assertEquals(10, pkm.outputOnnxType(0, List.of(10, 10)));
    assertEquals(7, pkm.outputOnnxType(1, List.of(10, 10)));
    OpSpec gather = t.op(OpTable.SPARSE_GATHER);
    assertEquals(3, gather.requiredInputs());
    assertEquals(
        List.of("values", "indices", "weights", "scales"),
        gather.inputs().stream().map(OpSpec.Input::name).toList());
    assertEquals(1, gather.outputOnnxType(0, List.of(10, 7, 10)));
    // quantized tables: int8 / float8e4m3fn values come with float32 scales, and only they
    assertTrue(gather.inputs().get(0).types().contains(ElementType.FLOAT8E4M3FN));
    List<ElementType> int8 =
        List.of(ElementType.INT8, ElementType.INT64, ElementType.FLOAT32, ElementType.FLOAT32);
    assertTrue(gather.gives(3, int8));
    assertFalse(gather.gives(3, List.of(ElementType.BFLOAT16, int8.get(1), int8.get(2))));
    OpSpec layer = t.op(OpTable.MSN_LAYER);
    assertEquals(
        List.of(
            "x",
            "Wq",
            "bq",
            "ln_qrow_weight",
            "ln_qrow_bias",
            "ln_qcol_weight",
            "ln_qcol_bias",
            "K_row",
            "K_col",
            "values"),
        layer.inputs().stream().map(OpSpec.Input::name).toList());
    // the TensorRT creator's field order is the table's attribute order
    assertEquals(
        List.of("k", "gate", "epsilon", "tokens", "per_token"),
        layer.attributes().stream().map(OpSpec.Attribute::name).toList());
    assertEquals(List.of("tanh", "sigmoid", "identity"), layer.attribute("gate").values());
    assertFalse(layer.attribute("epsilon").required());
    assertEquals(1L, layer.attribute("per_token").max());
    // y takes the type of x (float16 here), weights are float32, indices int64
    List<Integer> halfX = List.of(10, 1, 1, 1, 1, 1, 1, 1, 1, 16);
    assertEquals(
        List.of(10, 1, 7),
        List.of(0, 1, 2).stream().map(o -> layer.outputOnnxType(o, halfX)).toList());
    assertThrows(IllegalArgumentException.class, () -> layer.attribute("eps"));
    assertTrue(t.isOurs("msn", "SparseGather"));
    assertFalse(t.isOurs("", "SparseGather"));
    assertFalse(t.isOurs("msn", "Gather"));
  }

  @Test
  void readsEveryField() throws IOException {
    OpTable t = parse(MINIMAL);
    OpSpec op = t.op("my_op");
    assertEquals(1, op.requiredInputs());
    assertTrue(op.inputs().get(1).optional());
    assertEquals(List.of(ElementType.FLOAT32, ElementType.FLOAT16), op.inputs().get(0).types());
    assertEquals("x", op.outputs().get(0).sameAs().orElseThrow());
    assertEquals(0, op.outputOnnxType(0, List.of()), "unknown input type: unknown output type");
    assertEquals(t.op("my_op"), t.byName("MyOp").orElseThrow());
    assertEquals(List.of("a", "b"), op.attribute("g").values());
    assertEquals(List.of(), op.attribute("k").values());
    assertTrue(op.gives(1, List.of(ElementType.FLOAT32)), "optional without givenWhen: may");
    OpSpec when = parse(MINIMAL.replace("\"optional\": true", GIVEN_WHEN)).op("my_op");
    assertTrue(when.gives(1, List.of(ElementType.FLOAT16)));
    assertFalse(when.gives(1, List.of(ElementType.FLOAT32)));
    assertTrue(when.gives(0, List.of(ElementType.FLOAT32)), "a required input is always given");
  }

  private static final String GIVEN_WHEN =
      "\"optional\": true, \"givenWhen\": {\"input\": \"x\", \"types\": [\"float16\"]}";

  @Test
  void badTablesAreRefusedNamingTheField() {
    assertRefused(MINIMAL.replace("\"same:x\"", "\"same:z\""), "output 'o'", "names no input");
    assertRefused(MINIMAL.replace("\"int64\"]", "\"int65\"]"), "input 'y'", "int65");
    assertRefused(MINIMAL.replace("\"rank\": 1,", ""), "input 'y'", "'rank' is missing");
    assertRefused(MINIMAL.replace("\"min\": 1", "\"min\": 1, \"max\": 0"), "attribute 'k'", "max");
    assertRefused(MINIMAL.replace("\"schema\": 1", "\"schema\": 2"), "schema 2");
    assertRefused(MINIMAL.replace("[\"a\", \"b\"]", "[\"a\", \"a\"]"), "attribute 'g'", "distinct");
    assertRefused(MINIMAL.replace("[\"a\", \"b\"]", "[]"), "attribute 'g'", "values is empty");
    assertRefused(
        MINIMAL.replace("\"min\": 1}", "\"min\": 1, \"values\": [\"a\"]}"),
        "attribute 'k'",
        "string attributes only");
    assertRefused(MINIMAL.replace("\"doc\": \"\"", "\"doc\": \"\", \"extra\": 1"), "extra");
    assertRefused(MINIMAL.replace("\"my_op\"", "\"MyOp\""), "snake_case");
    assertRefused(MINIMAL.replace("\"name\": \"p\"", "\"name\": \"x\""), "used twice");
    assertRefused(
        MINIMAL.replace(
            "\"optional\": true",
            "\"optional\": true}, {\"name\": \"z\", \"types\": [\"int64\"], \"rank\": 1"),
        "required input 'z' after an optional one");
    assertRefused(
        MINIMAL.replace("\"optional\": true", GIVEN_WHEN.replace("\"x\"", "\"q\"")),
        "input 'y' givenWhen",
        "'q' is no required input");
    assertRefused(
        MINIMAL.replace("\"optional\": true", GIVEN_WHEN.replace("float16", "int8")),
        "input 'y' givenWhen",
        "not all types of input 'x'");
    assertRefused(
        MINIMAL.replace("\"optional\": true", GIVEN_WHEN.replace("true", "false")),
        "givenWhen is for optional inputs only");
    assertThrows(IllegalArgumentException.class, () -> OpTable.standard().op("nope"));
  }

  private static void assertRefused(String json, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(json));
    assertTrue(e.getMessage().startsWith("test.json: "), e.getMessage());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), e.getMessage() + " lacks " + f);
    }
  }
}
