package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.exec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An export without --profile records the built-in profile whose model the checkpoint is, so that
 * verify judges it by that profile's tolerances; a model of no built-in profile records none, and
 * verify says aloud that it falls back to tiny's.
 */
class ProfileInferenceTest {
  @TempDir Path tmp;

  static JsonNode manifest(Path export) throws Exception {
    return Profiles.JSON.readTree(Files.readString(export.resolve("manifest.json")));
  }

  @Test
  void aBuiltInModelRecordsItsProfile() throws Exception {
    Path ck = tmp.resolve("ck");
    assertEquals(0, cli("init --profile small --out {}", ck).code());
    assertEquals(0, cli("export --checkpoint {} --out {}", ck, tmp.resolve("m")).code());
    assertEquals("small", manifest(tmp.resolve("m")).get("profile").asText());
    // --profile still wins
    assertEquals(
        0, cli("export --checkpoint {} --out {} --profile tiny", ck, tmp.resolve("p")).code());
    assertEquals("tiny", manifest(tmp.resolve("p")).get("profile").asText());
  }

  /** A tiny export of another model (same tensors, another score_scale): it records no profile. */
  Path anotherModelsExport() throws Exception {
    Path ck = tmp.resolve("ck");
    assertEquals(0, cli("init --profile tiny --out {}", ck).code());
    ObjectNode config =
        (ObjectNode) Profiles.JSON.readTree(Files.readString(ck.resolve("config.json")));
    config.put("score_scale", 0.5); // same tensors, another model
    Files.writeString(ck.resolve("config.json"), Profiles.toJson(config));
    Path m = tmp.resolve("m");
    assertEquals(0, cli("export --checkpoint {} --out {}", ck, m).code());
    return m;
  }

  @Test
  void anotherModelRecordsNoneAndVerifyWarnsOfTheFallback() throws Exception {
    Path m = anotherModelsExport();
    assertTrue(manifest(m).get("profile").isNull());
    CliRun r = exec("verify --model {} --backends golden,ort-reference --batch 2", m);
    assertEquals(0, r.code());
    assertTrue(
        r.err().contains("records no profile and --profile is not given: using tiny's"), r.err());
  }

  /**
   * Build follows verify's rule (verifier Defaults.profileName): an export that records no profile
   * and no --profile falls back to tiny, with the same warning, instead of refusing.
   */
  @Test
  void buildFallsBackToTinyAsVerifyDoes() throws Exception {
    Path m = anotherModelsExport();
    CliRun r = exec("build --model {} --out {}", m, tmp.resolve("e.plan"));
    int code = r.code();
    // without a GPU the build itself then stops at TensorRT (exit 4); with one it builds
    assertTrue(code == 0 || code == 4, "exit " + code);
    String e = r.err();
    assertTrue(e.contains("records no profile and --profile is not given: using tiny's"), e);
    assertTrue(!e.contains("names no profile"), e);
  }
}
