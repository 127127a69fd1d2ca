package dev.msnexport.profiles.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Findings of the profile/config fuzzer (docs/robustness.md), pinned as plain tests. */
class ProfileParsingRobustnessTest {
  static final String MODEL =
      "{\"T\": 2, \"D\": 4, \"L\": 1, \"msn_layers\": [0], \"S\": 2, \"k\": 1, \"dk\": 2, \"ffn_mult\": 1,"
          + " \"head_hidden\": 2, \"tasks\": [\"click\"]}";

  @Test
  void optionalFieldsMayBeLeftOutAndTakeTheContractDefaults() {
    ModelConfig c = Profiles.parseModelConfig(MODEL, "config");
    assertEquals(1.0, c.scoreScale());
    assertFalse(c.perTokenMemory());
    assertEquals("tanh", c.gate());
    Profile p =
        Profiles.parse(
                "{\"name\": \"m\", \"model\": "
                    + MODEL
                    + ", \"batch\": {\"min\": 1, \"opt\": 1, \"max\": 2},"
                    + " \"tolerances\": {\"fp32\": {\"atol\": 0, \"rtol\": 0}}}",
                "profile",
                Profile.class)
            .validate("profile");
    assertEquals(0.0, p.tolerance("fp32").tieEpsilon());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "\"model\": null, \"batch\": {\"min\": 1, \"opt\": 1, \"max\": 2}|field 'model'",
        "\"model\": MODEL, \"batch\": null|field 'batch'",
        "\"model\": MODEL, \"batch\": {\"min\": 1, \"opt\": 1, \"max\": 2}, \"latency\": {\"max_p99_ratio\": \"NaN\", \"max_p99_regression\": 0}"
            + "|field 'latency'"
      })
  void nullOrNanSectionsAreBadInputNamingTheField(String fields, String named) {
    String json =
        "{\"name\": \"m\", "
            + fields.replace("MODEL", MODEL)
            + ", \"tolerances\": {\"fp32\": {\"atol\": 0, \"rtol\": 0}}}";
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                Profiles.parse(json, "profile file p.json", Profile.class)
                    .validate("profile file p.json"));
    assertTrue(e.getMessage().contains("p.json") && e.getMessage().contains(named), e.getMessage());
  }
}
