package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command line as a user meets it: exit codes, messages that name the culprit, no half-written
 * output.
 */
class CliTest {
  @TempDir Path tmp;

  @Test
  void pipelineOnTheDefaultProfilePasses() throws Exception {
    Path out = tmp.resolve("out");
    CliRun r = cli("pipeline --out {} --backends golden,ort-reference", out);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(Files.size(out.resolve("model/model.custom.onnx")) > 0);
    assertTrue(Files.size(out.resolve("model/model.reference.onnx")) > 0);
    JsonNode report = Profiles.JSON.readTree(Files.readString(out.resolve("verify.json")));
    assertEquals("msn-export.verify/3", report.get("schema").asText());
    assertTrue(report.get("pass").asBoolean());
  }

  /**
   * verify and bench take their export and backend options from one mixin; only the default
   * backends differ.
   */
  @Test
  void verifyAndBenchShareTheBackendOptions() {
    CommandLine cl = MsnExport.commandLine();
    for (String command : new String[] {"verify", "bench"}) {
      CommandLine.Model.CommandSpec spec = cl.getSubcommands().get(command).getCommandSpec();
      CommandLine.Model.CommandSpec mixin = spec.mixins().get("backendOptions");
      assertTrue(mixin != null, command + " has no backendOptions mixin");
      for (String option :
          new String[] {
            "--model", "--backends", "--profile", "--checkpoint", "--name-map", "--threads"
          }) {
        assertTrue(
            mixin.findOption(option) != null, command + ": " + option + " is not in the mixin");
        assertTrue(
            spec.findOption(option) == mixin.findOption(option),
            command + ": " + option + " declared outside the mixin");
      }
      assertTrue(spec.findOption("--model").required(), command + " --model");
    }
    assertEquals(
        java.util.List.of("golden", "ort-reference", "ort-custom"), defaultBackends(cl, "verify"));
    assertEquals(java.util.List.of("ort-reference", "ort-custom"), defaultBackends(cl, "bench"));
  }

  /** A command's --backends default, as the specs' strings. */
  static java.util.List<String> defaultBackends(CommandLine cl, String command) {
    java.util.List<?> specs =
        cl.getSubcommands().get(command).getCommandSpec().findOption("--backends").getValue();
    return specs.stream().map(Object::toString).toList();
  }

  @Test
  void initExportVerifyInspect() {
    Path ck = tmp.resolve("ck");
    Path model = tmp.resolve("m");
    assertEquals(0, cli("init --profile tiny --out {} --seed 4", ck).code());
    assertEquals(0, cli("export --checkpoint {} --out {} --values-dtype fp16", ck, model).code());
    CliRun v =
        cli(
            "verify --model {} --backends golden,ort-reference --batch 3 --report {}",
            model,
            tmp.resolve("r.json"));
    assertEquals(0, v.code(), v.err());
    assertTrue(Files.exists(tmp.resolve("r.json")));
    assertEquals(0, cli("inspect {}", ck).code());
    assertEquals(0, cli("inspect {}", model).code());
    assertEquals(0, cli("inspect {}", model.resolve("model.custom.onnx")).code());
    assertEquals(0, cli("profiles").code());
    assertEquals(0, cli("profiles paper").code());
  }

  @Test
  void inspectOfAnEnginePlanNamesWhatIsMissing() throws Exception {
    CliRun none = cli("inspect {}", tmp.resolve("nothing.plan"));
    assertEquals(ExitCodes.BAD_INPUT, none.code(), none.err());
    assertTrue(
        none.err().contains("nothing.plan") && none.err().contains("does not exist"), none.err());
    Path plan = tmp.resolve("bare.plan");
    Files.write(plan, new byte[] {1, 2, 3});
    CliRun bare = cli("inspect {}", plan);
    assertEquals(ExitCodes.BAD_INPUT, bare.code(), bare.err());
    assertTrue(bare.err().contains("sidecar"), bare.err());
    assertFalse(bare.err().contains("internal error"), bare.err());
  }

  @Test
  void aTighterToleranceFailsWithExitCodeOne() {
    Path model = CliRun.tinyExport(tmp.resolve("ck"), tmp.resolve("m"), "", "--values-dtype bf16");
    CliRun v =
        cli("verify --model {} --backends golden,ort-reference --atol click:0 --rtol 0", model);
    assertEquals(ExitCodes.PARITY_FAILURE, v.code());
  }

  @Test
  void usageErrorsExitTwo() {
    assertEquals(ExitCodes.USAGE, run().code());
    assertEquals(ExitCodes.USAGE, cli("export").code());
    assertEquals(ExitCodes.USAGE, cli("frobnicate").code());
    assertEquals(ExitCodes.USAGE, cli("init --profile tiny --out x --seed many").code());
  }

  @Test
  void badInputExitsFourAndNamesTheCulprit() throws Exception {
    CliRun r = cli("init --profile nope --out {}", tmp.resolve("x"));
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("'nope'"), r.err());

    Path ck = tmp.resolve("ck");
    cli("init --profile tiny --out {}", ck);
    Path st = ck.resolve("model.safetensors");
    byte[] all = Files.readAllBytes(st);
    Files.write(st, java.util.Arrays.copyOf(all, all.length / 2));
    r = cli("export --checkpoint {} --out {}", ck, tmp.resolve("m"));
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("model.safetensors") && r.err().contains("truncated"), r.err());
    assertFalse(Files.exists(tmp.resolve("m/model.custom.onnx")), "nothing half-written");

    // an unknown --values-dtype is a usage error (exit 2) since it is a choice option:
    // ChoiceOptionsTest

    r = cli("verify --model {}", tmp.resolve("missing"));
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("missing"), r.err());
  }

  @Test
  void unwritableOutputDirectoryIsAClearErrorAndLeavesNothing() throws Exception {
    Path ck = tmp.resolve("ck");
    cli("init --profile tiny --out {}", ck);
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    CliRun r = cli("export --checkpoint {} --out {}", ck, file.resolve("sub"));
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains(file.resolve("sub").toString()), r.err());
    r = cli("init --profile tiny --out {}", file);
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains(file.toString()), r.err());
  }

  @Test
  void aFailedExportKeepsThePreviousModelIntact() throws Exception {
    Path ck = tmp.resolve("ck");
    Path model = tmp.resolve("m");
    cli("init --profile tiny --out {}", ck);
    assertEquals(0, cli("export --checkpoint {} --out {}", ck, model).code());
    byte[] before = Files.readAllBytes(model.resolve("model.reference.onnx"));
    // corrupt one weight: NaN in the checkpoint
    Path st = ck.resolve("model.safetensors");
    byte[] all = Files.readAllBytes(st);
    ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putFloat(all.length - 4, Float.NaN);
    Files.write(st, all);
    CliRun r = cli("export --checkpoint {} --out {}", ck, model);
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("NaN"), r.err());
    assertTrue(
        java.util.Arrays.equals(before, Files.readAllBytes(model.resolve("model.reference.onnx"))));
    try (Stream<Path> s = Files.list(model)) {
      assertTrue(
          s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
    }
  }
}
