package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.profiles.Profiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
    assertEquals(
        0, VerifierCliTest.run("init", "--profile", "small", "--out", ck.toString()).code());
    assertEquals(
        0,
        VerifierCliTest.run(
                "export", "--checkpoint", ck.toString(), "--out", tmp.resolve("m").toString())
            .code());
    assertEquals("small", manifest(tmp.resolve("m")).get("profile").asText());
    // --profile still wins
    assertEquals(
        0,
        VerifierCliTest.run(
                "export",
                "--checkpoint",
                ck.toString(),
                "--out",
                tmp.resolve("p").toString(),
                "--profile",
                "tiny")
            .code());
    assertEquals("tiny", manifest(tmp.resolve("p")).get("profile").asText());
  }

  @Test
  void anotherModelRecordsNoneAndVerifyWarnsOfTheFallback() throws Exception {
    Path ck = tmp.resolve("ck");
    assertEquals(
        0, VerifierCliTest.run("init", "--profile", "tiny", "--out", ck.toString()).code());
    ObjectNode config =
        (ObjectNode) Profiles.JSON.readTree(Files.readString(ck.resolve("config.json")));
    config.put("score_scale", 0.5); // same tensors, another model
    Files.writeString(ck.resolve("config.json"), Profiles.toJson(config));
    Path m = tmp.resolve("m");
    assertEquals(
        0,
        VerifierCliTest.run("export", "--checkpoint", ck.toString(), "--out", m.toString()).code());
    assertTrue(manifest(m).get("profile").isNull());
    PrintStream old = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      assertEquals(
          0,
          VerifierCliTest.run(
                  "verify",
                  "--model",
                  m.toString(),
                  "--backends",
                  "golden,ort-reference",
                  "--batch",
                  "2")
              .code());
    } finally {
      System.setErr(old);
    }
    assertTrue(
        err.toString(StandardCharsets.UTF_8)
            .contains("records no profile and --profile is not given: using tiny's"),
        err.toString());
  }

  /**
   * Build follows verify's rule (verifier Defaults.profileName): an export that records no profile
   * and no --profile falls back to tiny, with the same warning, instead of refusing.
   */
  @Test
  void buildFallsBackToTinyAsVerifyDoes() throws Exception {
    Path ck = tmp.resolve("ck");
    assertEquals(
        0, VerifierCliTest.run("init", "--profile", "tiny", "--out", ck.toString()).code());
    ObjectNode config =
        (ObjectNode) Profiles.JSON.readTree(Files.readString(ck.resolve("config.json")));
    config.put("score_scale", 0.5);
    Files.writeString(ck.resolve("config.json"), Profiles.toJson(config));
    Path m = tmp.resolve("m");
    assertEquals(
        0,
        VerifierCliTest.run("export", "--checkpoint", ck.toString(), "--out", m.toString()).code());
    PrintStream old = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code =
          VerifierCliTest.run(
                  "build", "--model", m.toString(), "--out", tmp.resolve("e.plan").toString())
              .code();
    } finally {
      System.setErr(old);
    }
    // without a GPU the build itself then stops at TensorRT (exit 4); with one it builds
    assertTrue(code == 0 || code == 4, "exit " + code);
    String e = err.toString(StandardCharsets.UTF_8);
    assertTrue(e.contains("records no profile and --profile is not given: using tiny's"), e);
    assertTrue(!e.contains("names no profile"), e);
  }
}
