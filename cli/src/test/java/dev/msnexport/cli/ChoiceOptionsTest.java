package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Options with fixed choices: a typo is a usage error (exit 2) that lists the choices, before any
 * file is read or written, and shell completion offers the choices (and the backend and profile
 * names).
 */
class ChoiceOptionsTest {
  @TempDir Path tmp;

  private static List<String> candidates(String command, String option) {
    CommandLine.Model.OptionSpec o =
        MsnExport.commandLine().getSubcommands().get(command).getCommandSpec().findOption(option);
    List<String> names = new ArrayList<>();
    o.completionCandidates().forEach(names::add);
    return names;
  }

  @Test
  void aTypoInAChoiceIsAUsageErrorListingTheChoices() {
    String model = tmp.resolve("no-model").toString();
    String[][] cases = {
      {
        "export --checkpoint CK --out OUT --values-dtype int4",
        "--values-dtype",
        "[fp32, fp16, bf16, int8, fp8]"
      },
      {
        "export --checkpoint CK --out OUT --external-data sometimes",
        "--external-data",
        "[auto, always, never]"
      },
      {"pipeline --out OUT --values-dtype fp4", "--values-dtype", "[fp32, fp16, bf16, int8, fp8]"},
      {"build --model OUT --precision fp64", "--precision", "[fp32, fp16]"},
      {"build --model OUT --graph custm", "--graph", "[custom, reference]"},
      {"verify --model OUT --precision int8", "--precision", "[fp32, fp16]"},
      {"verify --model OUT --trt-graph refrence", "--trt-graph", "[custom, reference]"},
    };
    for (String[] c : cases) {
      String[] args =
          c[0].replace("CK", tmp.resolve("ck").toString()).replace("OUT", model).split(" ");
      CliRun r = run(args);
      assertEquals(ExitCodes.USAGE, r.code(), c[0] + ": " + r.err());
      assertTrue(r.err().contains(c[1]) && r.err().contains(c[2]), c[0] + ": " + r.err());
    }
    assertFalse(Files.exists(tmp.resolve("no-model")), "nothing written on a usage error");
  }

  @Test
  void choicesAreAcceptedInAnyCase() throws Exception {
    Path ck = tmp.resolve("ck");
    assertEquals(ExitCodes.OK, cli("init --profile tiny --out {}", ck).code());
    CliRun r =
        cli(
            "export --checkpoint {} --out {} --values-dtype FP16 --external-data Always",
            ck,
            tmp.resolve("m"));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(
        Files.exists(tmp.resolve("m/model.data")), "--external-data Always wrote external data");
    assertTrue(
        Files.readString(tmp.resolve("m/manifest.json")).contains("fp16"),
        "--values-dtype FP16 is fp16");
  }

  @Test
  void completionOffersTheChoicesAndTheBackendAndProfileNames() {
    assertEquals(
        List.of("fp32", "fp16", "bf16", "int8", "fp8"), candidates("export", "--values-dtype"));
    assertEquals(List.of("auto", "always", "never"), candidates("export", "--external-data"));
    assertEquals(List.of("fp32", "fp16"), candidates("build", "--precision"));
    assertEquals(List.of("custom", "reference"), candidates("build", "--graph"));
    List<String> backends =
        List.of(
            "golden",
            "ort-reference",
            "ort-custom",
            "trt",
            "trt:fp16",
            "trt:reference",
            "trt:fp16:reference");
    for (String command : new String[] {"verify", "bench", "pipeline"}) {
      assertEquals(backends, candidates(command, "--backends"), command);
    }
    for (String command : new String[] {"verify", "bench", "pipeline", "build", "export"}) {
      assertEquals(
          List.of("tiny", "small", "paper", "large", "xl"),
          candidates(command, "--profile"),
          command);
    }
  }

  @Test
  void backendsAreTypedProfilesStayFreeText() throws Exception {
    // --backends is parsed into backend specs: an unknown backend is a usage error (exit 2) that
    // names it and lists the accepted forms; a profile stays free text (a file may be named)
    Path ck = tmp.resolve("ck");
    cli("init --profile tiny --out {}", ck);
    CliRun r = cli("export --checkpoint {} --out {}", ck, tmp.resolve("m"));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    r = cli("verify --model {} --backends golden,ort-nope", tmp.resolve("m"));
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains("ort-nope"), r.err());
    assertTrue(r.err().contains("trt[:fp32|fp16][:custom|reference]"), r.err());
    r = cli("bench --model {} --backends ort-custom,trt:fp8", tmp.resolve("m"));
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains("unknown option 'fp8'"), r.err());
    r = cli("verify --model {} --profile no-such-profile", tmp.resolve("m"));
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("no-such-profile"), r.err());
  }

  @Test
  void typosGetSuggestions() {
    CliRun r = cli("export --checkpoint x --out y --values-dtyp fp16");
    assertEquals(ExitCodes.USAGE, r.code());
    assertTrue(r.err().contains("--values-dtype"), "suggests the option: " + r.err());
    r = cli("verfy");
    assertEquals(ExitCodes.USAGE, r.code());
    assertTrue(
        r.err().contains("Did you mean") && r.err().contains("verify"),
        "suggests the command: " + r.err());
  }
}
