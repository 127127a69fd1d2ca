package dev.msnexport.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfilesTest {
  @TempDir Path tmp;

  @Test
  void builtInProfilesMatchTheIssue() {
    ModelConfig tiny = Profiles.load("tiny").model();
    assertEquals(4, tiny.T());
    assertEquals(16, tiny.D());
    assertEquals(8, tiny.S());
    assertEquals(4, tiny.k());
    ModelConfig paper = Profiles.load("paper").model();
    assertEquals(65_536, paper.slots());
    assertEquals(32, paper.k());
    assertEquals(768, paper.D());
    ModelConfig large = Profiles.load("large").model();
    assertEquals(1_048_576L, large.slots());
    assertTrue(large.slots() * large.D() * 4 > (2L << 30) - 1, "large must pass 2 GiB");
    Profile xl = Profiles.load("xl");
    assertEquals(4_194_304L, xl.model().slots());
    assertEquals(32, xl.model().k());
    assertEquals(paper.D(), xl.model().D());
    assertEquals(paper.msnLayers(), xl.model().msnLayers());
    assertEquals("fp16", xl.defaultValuesDtype());
    assertEquals("fp32", Profiles.load("paper").defaultValuesDtype());
    for (String name : Profiles.BUILT_IN) {
      Profile p = Profiles.load(name);
      assertEquals(name, p.name());
      assertTrue(p.tolerances().containsKey("fp32"));
    }
  }

  @Test
  void aPathWorksWhereANameDoes() throws Exception {
    Path f = tmp.resolve("mine.json");
    Files.writeString(f, Profiles.toJson(Profiles.load("small")));
    assertEquals(Profiles.load("small"), Profiles.load(f.toString()));
  }

  @Test
  void unknownProfileIsNamed() {
    BadInputException e = assertThrows(BadInputException.class, () -> Profiles.load("huge"));
    assertTrue(e.getMessage().contains("'huge'"), e.getMessage());
    assertTrue(e.getMessage().contains("tiny"), e.getMessage());
  }

  @Test
  void unknownFieldIsNamed() throws Exception {
    Path f = tmp.resolve("typo.json");
    Files.writeString(f, Profiles.toJson(Profiles.load("tiny")).replace("\"dk\"", "\"dkk\""));
    BadInputException e = assertThrows(BadInputException.class, () -> Profiles.load(f.toString()));
    assertTrue(
        e.getMessage().contains("model.dk") && e.getMessage().contains(f.toString()),
        e.getMessage());
  }

  @Test
  void constraintViolationsNameTheField() throws Exception {
    String tiny = Profiles.toJson(Profiles.load("tiny"));
    assertField(tiny.replace("\"k\" : 4", "\"k\" : 9"), "'k'");
    assertField(tiny.replace("\"D\" : 16", "\"D\" : 18"), "'D'");
    assertField(tiny.replace("\"gate\" : \"tanh\"", "\"gate\" : \"relu\""), "'gate'");
    assertField(
        tiny.replace("\"msn_layers\" : [ 0, 1 ]", "\"msn_layers\" : [ 0, 5 ]"), "'msn_layers'");
    assertField(tiny.replace("\"opt\" : 8", "\"opt\" : 100"), "'batch'");
    assertField(tiny.replace("\"T\" : 4", "\"T\" : \"four\""), "T");
    assertField("{ not json", "malformed JSON");
    assertField(
        tiny.replace("\"values_dtype\" : null", "\"values_dtype\" : \"fp64\""), "'values_dtype'");
  }

  private void assertField(String json, String expected) throws Exception {
    Path f = Files.createTempFile(tmp, "p", ".json");
    Files.writeString(f, json);
    BadInputException e = assertThrows(BadInputException.class, () -> Profiles.read(f));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void modelConfigRoundTripsWithContractKeys() {
    ModelConfig c = Profiles.load("small").model();
    String json = Profiles.toJson(c);
    assertTrue(
        json.contains("\"msn_layers\"")
            && json.contains("\"per_token_memory\"")
            && json.contains("\"score_scale\""),
        json);
    assertEquals(c, Profiles.parseModelConfig(json, "test"));
  }
}
