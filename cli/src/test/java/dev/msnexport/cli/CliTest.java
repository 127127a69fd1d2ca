package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import java.io.PrintWriter;
import java.io.StringWriter;
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

  record Run(int code, String err) {}

  static Run run(String... args) {
    CommandLine cl = MsnExport.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, err.toString());
  }

  @Test
  void pipelineOnTheDefaultProfilePasses() throws Exception {
    Path out = tmp.resolve("out");
    Run r = run("pipeline", "--out", out.toString(), "--backends", "golden,ort-reference");
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
    assertEquals(0, run("init", "--profile", "tiny", "--out", ck.toString(), "--seed", "4").code());
    assertEquals(
        0,
        run(
                "export",
                "--checkpoint",
                ck.toString(),
                "--out",
                model.toString(),
                "--values-dtype",
                "fp16")
            .code());
    Run v =
        run(
            "verify",
            "--model",
            model.toString(),
            "--backends",
            "golden,ort-reference",
            "--batch",
            "3",
            "--report",
            tmp.resolve("r.json").toString());
    assertEquals(0, v.code(), v.err());
    assertTrue(Files.exists(tmp.resolve("r.json")));
    assertEquals(0, run("inspect", ck.toString()).code());
    assertEquals(0, run("inspect", model.toString()).code());
    assertEquals(0, run("inspect", model.resolve("model.custom.onnx").toString()).code());
    assertEquals(0, run("profiles").code());
    assertEquals(0, run("profiles", "paper").code());
  }

  @Test
  void inspectOfAnEnginePlanNamesWhatIsMissing() throws Exception {
    Run none = run("inspect", tmp.resolve("nothing.plan").toString());
    assertEquals(ExitCodes.BAD_INPUT, none.code(), none.err());
    assertTrue(
        none.err().contains("nothing.plan") && none.err().contains("does not exist"), none.err());
    Path plan = tmp.resolve("bare.plan");
    Files.write(plan, new byte[] {1, 2, 3});
    Run bare = run("inspect", plan.toString());
    assertEquals(ExitCodes.BAD_INPUT, bare.code(), bare.err());
    assertTrue(bare.err().contains("sidecar"), bare.err());
    assertFalse(bare.err().contains("internal error"), bare.err());
  }

  @Test
  void aTighterToleranceFailsWithExitCodeOne() {
    Path ck = tmp.resolve("ck");
    Path model = tmp.resolve("m");
    run("init", "--profile", "tiny", "--out", ck.toString());
    run(
        "export",
        "--checkpoint",
        ck.toString(),
        "--out",
        model.toString(),
        "--values-dtype",
        "bf16");
    Run v =
        run(
            "verify",
            "--model",
            model.toString(),
            "--backends",
            "golden,ort-reference",
            "--atol",
            "click:0",
            "--rtol",
            "0");
    assertEquals(ExitCodes.PARITY_FAILURE, v.code());
  }

  @Test
  void usageErrorsExitTwo() {
    assertEquals(ExitCodes.USAGE, run().code());
    assertEquals(ExitCodes.USAGE, run("export").code());
    assertEquals(ExitCodes.USAGE, run("frobnicate").code());
    assertEquals(
        ExitCodes.USAGE, run("init", "--profile", "tiny", "--out", "x", "--seed", "many").code());
  }

  @Test
  void badInputExitsFourAndNamesTheCulprit() throws Exception {
    Run r = run("init", "--profile", "nope", "--out", tmp.resolve("x").toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("'nope'"), r.err());

    Path ck = tmp.resolve("ck");
    run("init", "--profile", "tiny", "--out", ck.toString());
    Path st = ck.resolve("model.safetensors");
    byte[] all = Files.readAllBytes(st);
    Files.write(st, java.util.Arrays.copyOf(all, all.length / 2));
    r = run("export", "--checkpoint", ck.toString(), "--out", tmp.resolve("m").toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("model.safetensors") && r.err().contains("truncated"), r.err());
    assertFalse(Files.exists(tmp.resolve("m/model.custom.onnx")), "nothing half-written");

    // an unknown --values-dtype is a usage error (exit 2) since it is a choice option:
    // ChoiceOptionsTest

    r = run("verify", "--model", tmp.resolve("missing").toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("missing"), r.err());
  }

  @Test
  void unwritableOutputDirectoryIsAClearErrorAndLeavesNothing() throws Exception {
    Path ck = tmp.resolve("ck");
    run("init", "--profile", "tiny", "--out", ck.toString());
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    Run r = run("export", "--checkpoint", ck.toString(), "--out", file.resolve("sub").toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains(file.resolve("sub").toString()), r.err());
    r = run("init", "--profile", "tiny", "--out", file.toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains(file.toString()), r.err());
  }

  @Test
  void aFailedExportKeepsThePreviousModelIntact() throws Exception {
    Path ck = tmp.resolve("ck");
    Path model = tmp.resolve("m");
    run("init", "--profile", "tiny", "--out", ck.toString());
    assertEquals(0, run("export", "--checkpoint", ck.toString(), "--out", model.toString()).code());
    byte[] before = Files.readAllBytes(model.resolve("model.reference.onnx"));
    // corrupt one weight: NaN in the checkpoint
    Path st = ck.resolve("model.safetensors");
    byte[] all = Files.readAllBytes(st);
    ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putFloat(all.length - 4, Float.NaN);
    Files.write(st, all);
    Run r = run("export", "--checkpoint", ck.toString(), "--out", model.toString());
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
