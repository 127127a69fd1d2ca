package dev.msnexport.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifest is one record both ways: what the exporter writes reads back equal, with the keys of
 * the file format in their order; older manifests (keys missing) read with the defaults; bad ones
 * are bad input naming the file and the field.
 */
class ExportManifestTest {
  @TempDir Path tmp;

  /** The file format's keys in their order: a change here is a change of the format. */
  static final List<String> KEYS =
      List.of(
          ("tool tool_version profile checkpoint checkpoint_sha256 config values_dtype"
                  + " external_data retrieval_outputs scoring_split_k fused_msn_layer graphs")
              .split(" "));

  Path export() {
    Path ck = tmp.resolve("ck");
    SyntheticCheckpoint.write(Profiles.load("tiny").model(), ck, 3);
    Path out = tmp.resolve("m");
    try (Checkpoint c = Checkpoint.open(ck, null)) {
      MsnOnnxExporter.export(c, out, MsnOnnxExporter.Options.defaults());
    }
    return out;
  }

  static ObjectNode json(Path dir) throws Exception {
    return (ObjectNode) Profiles.JSON.readTree(Files.readString(dir.resolve(ExportManifest.FILE)));
  }

  @Test
  void whatTheExporterWritesReadsBackEqualWithTheFileFormatsKeys() throws Exception {
    Path m = export();
    ExportManifest read = ExportManifest.read(m);
    assertEquals(read.toJson(), Files.readString(m.resolve(ExportManifest.FILE)));
    List<String> keys = new ArrayList<>();
    json(m).fieldNames().forEachRemaining(keys::add);
    assertEquals(KEYS, keys);
    assertEquals("tiny", read.profile(), "the built-in profile of the checkpoint's model");
    assertEquals(ExportManifest.TOOL, read.tool());
    assertEquals(Profiles.load("tiny").model(), read.config());
    assertEquals("fp32", read.valuesDtype());
    assertTrue(read.hasRetrievalOutputs());
    assertFalse(read.hasFusedMsnLayer());
    assertEquals(tmp.resolve("ck").normalize(), read.checkpointPath(m));
    assertEquals(
        Map.of("custom", MsnOnnxExporter.CUSTOM_FILE, "reference", MsnOnnxExporter.REFERENCE_FILE),
        read.graphs());
    assertEquals(64, read.checkpointSha256().length());
  }

  @Test
  void anOlderManifestReadsWithTheDefaults() throws Exception {
    Path m = export();
    ObjectNode j = json(m);
    for (String key :
        List.of(
            "values_dtype", "retrieval_outputs", "profile", "scoring_split_k", "fused_msn_layer")) {
      j.remove(key);
    }
    j.put("a_key_of_a_newer_tool", 1);
    j.put("checkpoint", tmp.resolve("ck").toAbsolutePath().toString());
    Files.writeString(m.resolve(ExportManifest.FILE), Profiles.toJson(j));
    ExportManifest read = ExportManifest.read(m);
    assertEquals("fp32", read.valuesDtype());
    assertFalse(read.hasRetrievalOutputs());
    assertFalse(read.hasFusedMsnLayer());
    assertNull(read.profile());
    assertNull(read.scoringSplitK());
    assertEquals(tmp.resolve("ck").toAbsolutePath(), read.checkpointPath(m));
  }

  @Test
  void badManifestsNameTheFileAndTheField() throws Exception {
    Path m = export();
    Path file = m.resolve(ExportManifest.FILE);
    ObjectNode good = json(m);
    assertBad(m, good.deepCopy().put("values_dtype", "fp64x"), "values_dtype");
    ObjectNode noConfig = good.deepCopy();
    noConfig.remove("config");
    assertBad(m, noConfig, "config");
    ObjectNode badConfig = good.deepCopy();
    ((ObjectNode) badConfig.get("config")).put("L", -1);
    assertBad(m, badConfig, "L");
    ObjectNode badType = good.deepCopy();
    badType.putArray("retrieval_outputs");
    assertBad(m, badType, "retrieval_outputs");
    Files.writeString(file, "{ not json");
    assertTrue(
        assertThrows(BadInputException.class, () -> ExportManifest.read(m))
            .getMessage()
            .contains(file.toString()));
    Files.delete(file);
    assertTrue(
        assertThrows(BadInputException.class, () -> ExportManifest.read(m))
            .getMessage()
            .contains("not an export directory"));
    assertTrue(
        assertThrows(BadInputException.class, () -> ExportManifest.read(tmp.resolve("nope")))
            .getMessage()
            .contains("does not exist"));
  }

  private static void assertBad(Path m, JsonNode manifest, String field) throws Exception {
    Files.writeString(m.resolve(ExportManifest.FILE), Profiles.toJson(manifest));
    String msg =
        assertThrows(BadInputException.class, () -> ExportManifest.read(m), field).getMessage();
    assertTrue(msg.contains(m.resolve(ExportManifest.FILE).toString()), msg);
    assertTrue(msg.contains(field), msg);
  }
}
