package dev.msnexport.exporter.names;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.checkpoint.TensorLayout;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NameMapTest {
  @TempDir Path tmp;
  final ModelConfig tiny = Profiles.load("tiny").model();
  Path original;

  @BeforeEach
  void writeOriginal() {
    original = tmp.resolve("orig");
    SyntheticCheckpoint.write(tiny, original, 3, DType.BF16);
  }

  /**
   * A training framework's naming: model.layers.{l}.*, memory tables as .memory.table, plus an
   * optimizer step counter.
   */
  static String frameworkName(String contract) {
    return "model."
        + contract
            .replaceFirst("^blocks\\.(\\d+)\\.", "layers.$1.")
            .replace(".msn.values", ".memory.table");
  }

  /** Copies the original checkpoint with every tensor renamed, and extra tensors added. */
  Path renamed(UnaryOperator<String> rename, Map<String, float[]> extra) throws Exception {
    Path dir = tmp.resolve("renamed-" + Files.list(tmp).count());
    Files.createDirectories(dir);
    try (SafetensorsFile st = SafetensorsFile.open(original.resolve(Checkpoint.WEIGHTS_FILE))) {
      SafetensorsWriter w = new SafetensorsWriter();
      for (TensorView t : st.tensors().values()) {
        w.add(rename.apply(t.name()), t.dtype(), t.shape(), t::transferTo);
      }
      extra.forEach((n, v) -> w.addF32(n, new long[] {v.length}, v));
      w.write(dir.resolve(Checkpoint.WEIGHTS_FILE), Map.of());
    }
    AtomicFiles.writeString(
        dir.resolve(Checkpoint.CONFIG_FILE),
        Files.readString(original.resolve(Checkpoint.CONFIG_FILE)));
    return dir;
  }

  static void assertSameTensors(Checkpoint want, Checkpoint got) {
    assertEquals(
        List.copyOf(TensorLayout.expected(want.config()).keySet()).stream().sorted().toList(),
        got.tensors().keySet().stream().sorted().toList());
    for (TensorView t : want.tensors().values()) {
      TensorView g = got.tensor(t.name());
      assertEquals(t.name(), g.name(), "renamed views answer to the contract name");
      assertEquals(t.dtype(), g.dtype());
      assertArrayEquals(t.shape(), g.shape());
      assertArrayEquals(t.toFloatArray(), g.toFloatArray(), t.name());
    }
  }

  @Test
  void exactRenamesWithADrop() throws Exception {
    Path dir = renamed(NameMapTest::frameworkName, Map.of("optimizer.step", new float[] {42}));
    Map<String, String> renames = new LinkedHashMap<>();
    for (String n : TensorLayout.expected(tiny).keySet()) {
      renames.put(frameworkName(n), n);
    }
    renames.put("optimizer.step", null);
    Path file = tmp.resolve("map.json");
    Files.writeString(file, Profiles.JSON.writeValueAsString(renames));
    try (Checkpoint want = Checkpoint.open(original);
        Checkpoint got = Checkpoint.open(dir, NameMap.read(file))) {
      assertSameTensors(want, got);
    }
    // without the map, the names are not the contract's
    BadInputException e = assertThrows(BadInputException.class, () -> Checkpoint.open(dir).close());
    assertTrue(e.getMessage().contains("missing tensor"), e.getMessage());
  }

  @Test
  void regexRulesAppliedInOrderExportTheSameModel() throws Exception {
    Path dir = renamed(NameMapTest::frameworkName, Map.of("optimizer.state.step", new float[] {7}));
    String json =
        """
        {"rules": [
          {"pattern": "^optimizer\\\\.", "drop": true},
          {"pattern": "^model\\\\.layers\\\\.(\\\\d+)\\\\.", "replacement": "blocks.$1."},
          {"pattern": "^model\\\\.", "replacement": ""},
          {"pattern": "\\\\.memory\\\\.table$", "replacement": ".msn.values"}
        ]}""";
    NameMap map = NameMap.parse(json, "test map");
    try (Checkpoint want = Checkpoint.open(original);
        Checkpoint got = Checkpoint.open(dir, map)) {
      assertSameTensors(want, got);
      Path a = tmp.resolve("export-a");
      Path b = tmp.resolve("export-b");
      MsnOnnxExporter.Options opts =
          new MsnOnnxExporter.Options(DType.F32, MsnOnnxExporter.ExternalData.NEVER, true, "tiny");
      MsnOnnxExporter.export(want, a, opts);
      MsnOnnxExporter.export(got, b, opts);
      for (String f : List.of(MsnOnnxExporter.REFERENCE_FILE, MsnOnnxExporter.CUSTOM_FILE)) {
        // the same graph and weights; only the metadata (checkpoint path and hash) may differ
        assertEquals(
            ModelProto.parseFrom(Files.readAllBytes(a.resolve(f))).getGraph(),
            ModelProto.parseFrom(Files.readAllBytes(b.resolve(f))).getGraph(),
            f);
      }
    }
  }

  @Test
  void twoNamesOntoOneIsAnErrorNamingBoth() {
    NameMap map =
        NameMap.parse(
            "{\"rules\": [{\"pattern\": \"^(a|b)\\\\.w$\", \"replacement\": \"blocks.0.mix_norm.weight\"}]}",
            "m.json");
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> map.apply(List.of("a.w", "b.w"), TensorLayout.expected(tiny).keySet()));
    assertTrue(
        e.getMessage().contains("'a.w'") && e.getMessage().contains("'b.w'"), e.getMessage());
    assertTrue(e.getMessage().contains("both map to 'blocks.0.mix_norm.weight'"), e.getMessage());
    assertTrue(e.getMessage().contains("rule 1 '^(a|b)\\.w$'"), e.getMessage());
    assertTrue(e.getMessage().startsWith("m.json: "), e.getMessage());

    NameMap exact = NameMap.parse("{\"x\": \"blocks.0.mix_norm.bias\"}", "e.json");
    BadInputException e2 =
        assertThrows(
            BadInputException.class,
            () ->
                exact.apply(
                    List.of("blocks.0.mix_norm.bias", "x"), Set.of("blocks.0.mix_norm.bias")));
    assertTrue(
        e2.getMessage()
            .contains("'blocks.0.mix_norm.bias' (kept as is) and 'x' (by the entry for 'x')"),
        e2.getMessage());
  }

  @Test
  void unmappedNamesAreAnErrorNamingTheTensorAndRule() {
    NameMap map =
        NameMap.parse(
            "{\"rules\": [{\"pattern\": \"^model\\\\.\", \"replacement\": \"\"}]}", "m.json");
    Set<String> contract = TensorLayout.expected(tiny).keySet();
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                map.apply(
                    List.of("model.blocks.0.mix_norm.weight", "model.lm_head", "ema.decay"),
                    contract));
    assertTrue(e.getMessage().contains("2 tensors are left unmapped"), e.getMessage());
    assertTrue(
        e.getMessage().contains("'model.lm_head' -> 'lm_head' (by rule 1 '^model\\.' -> '')"),
        e.getMessage());
    assertTrue(e.getMessage().contains("'ema.decay' (no rule matches it)"), e.getMessage());
  }

  @Test
  void malformedMapsAreRejectedWithTheirPlace() throws Exception {
    assertMessage(
        "{\"rules\": [{\"pattern\": \"(\", \"replacement\": \"x\"}]}",
        "rule 1: invalid regular expression");
    assertMessage(
        "{\"rules\": [{\"pattern\": \"a\", \"replacement\": \"$2\"}]}",
        "rule 1: invalid replacement '$2'");
    assertMessage(
        "{\"rules\": [{\"pattern\": \"a\"}]}", "rule 1 needs exactly one of 'replacement'");
    assertMessage(
        "{\"rules\": [{\"pattern\": \"a\", \"replacement\": \"b\", \"flags\": \"i\"}]}",
        "rule 1: unknown field 'flags'");
    assertMessage("{\"rules\": {}}", "'rules' must be an array");
    assertMessage("{\"a\": 3}", "the value for 'a' must be a tensor name");
    assertMessage("[1]", "must be a JSON object");
    assertMessage("{", "not valid JSON");
    BadInputException e =
        assertThrows(BadInputException.class, () -> NameMap.read(tmp.resolve("none.json")));
    assertTrue(e.getMessage().contains("none.json does not exist"), e.getMessage());
  }

  static void assertMessage(String json, String part) {
    BadInputException e =
        assertThrows(BadInputException.class, () -> NameMap.parse(json, "x.json"));
    assertTrue(
        e.getMessage().startsWith("x.json: ") && e.getMessage().contains(part), e.getMessage());
  }
}
