package dev.msnexport.cli.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.cli.ExitCodes;
import dev.msnexport.cli.MsnExport;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.io.GoldenFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input rows of docs/robustness.md as a user meets them on the command line: exit code 4
 * and a message that names the culprit, never exit 70 (internal error) or a crashed JVM.
 */
class BadInputCliTest {
  @TempDir static Path tmp;
  static Path model;

  record Run(int code, String err) {}

  static Run run(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      System.setErr(ps);
      return new Run(MsnExport.execute(args), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }

  static void assertBadInput(Run r, String... named) {
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    for (String s : named) {
      assertTrue(r.err().contains(s), "'" + s + "' in: " + r.err());
    }
  }

  @BeforeAll
  static void tinyExport() {
    Path ck = tmp.resolve("ck");
    model = tmp.resolve("model");
    assertEquals(ExitCodes.OK, run("init", "--profile", "tiny", "--out", ck.toString()).code());
    assertEquals(
        ExitCodes.OK,
        run("export", "--checkpoint", ck.toString(), "--out", model.toString(), "--profile", "tiny")
            .code());
  }

  @Test
  void aBatchAboveTheProfileMaxIsRefusedForEveryBackend() {
    int max = Profiles.load("tiny").batch().max();
    assertBadInput(
        run(
            "verify",
            "--model",
            model.toString(),
            "--backends",
            "golden,ort-reference",
            "--batch",
            Integer.toString(max + 1)),
        "--batch " + (max + 1),
        "batch.max " + max,
        "'tiny'");
    assertEquals(
        ExitCodes.OK,
        run(
                "verify",
                "--model",
                model.toString(),
                "--backends",
                "golden,ort-reference",
                "--batch",
                Integer.toString(max))
            .code());
  }

  static Path golden(String name, long[] shape, float fill) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    java.util.Arrays.fill(v, 0.5f);
    if (n > 0) {
      v[n - 1] = fill;
    }
    Path p = tmp.resolve(name);
    long b = shape[0];
    new GoldenFile(
            Map.of(MsnOnnxExporter.INPUT, HostTensor.ofFloats(MsnOnnxExporter.INPUT, shape, v)),
            Map.of("click", HostTensor.ofFloats("click", new long[] {b, 1}, new float[(int) b])),
            "test",
            null)
        .write(p);
    return p;
  }

  @Test
  void goldenInputsThatAreNanInfiniteOrEmptyAreRefused() {
    Path nan = golden("nan.safetensors", new long[] {2, 4, 16}, Float.NaN);
    assertBadInput(
        run(
            "verify",
            "--model",
            model.toString(),
            "--backends",
            "ort-reference",
            "--golden",
            nan.toString()),
        "'tokens'",
        "NaN",
        "[1, 3, 15]");
    Path inf = golden("inf.safetensors", new long[] {1, 4, 16}, Float.NEGATIVE_INFINITY);
    assertBadInput(
        run(
            "verify",
            "--model",
            model.toString(),
            "--backends",
            "ort-reference",
            "--golden",
            inf.toString()),
        "'tokens'",
        "-Infinity");
    Path empty = golden("empty.safetensors", new long[] {0, 4, 16}, 0f);
    assertBadInput(
        run(
            "verify",
            "--model",
            model.toString(),
            "--backends",
            "ort-reference",
            "--golden",
            empty.toString()),
        "'tokens'",
        "[0, 4, 16]");
  }

  @Test
  void anExportDirectoryWithoutItsManifestIsRefused() throws Exception {
    Path copy = Files.createDirectories(tmp.resolve("interrupted"));
    for (String f : new String[] {MsnOnnxExporter.CUSTOM_FILE, MsnOnnxExporter.REFERENCE_FILE}) {
      Files.copy(model.resolve(f), copy.resolve(f));
    }
    assertBadInput(
        run("verify", "--model", copy.toString(), "--backends", "golden,ort-reference"),
        copy.toString(),
        "manifest.json");
    assertBadInput(run("inspect", copy.toString()), copy.toString());
  }

  @Test
  void anOnnxModelWithAMalformedExternalDataLengthIsBadInput() throws Exception {
    Path corpus =
        Path.of("src/test/resources/dev/msnexport/cli/fuzz/OnnxInspectFuzzTestInputs/describeOnnx");
    Path onnx =
        Files.copy(corpus.resolve("bad-external-length-not-a-number"), tmp.resolve("bad.onnx"));
    assertBadInput(run("inspect", onnx.toString()), onnx.toString(), "'values'", "32 bytes");
  }

  @Test
  void profileFilesWithNullSectionsAreBadInputAndOptionalFieldsMayBeLeftOut() throws Exception {
    Path nullModel =
        Files.writeString(
            tmp.resolve("null-model.json"),
            "{\"name\": \"x\", \"model\": null, \"batch\": {\"min\": 1, \"opt\": 1, \"max\": 1}, \"tolerances\": {\"fp32\": "
                + "{\"atol\": 0, \"rtol\": 0}}}");
    assertBadInput(run("profiles", nullModel.toString()), nullModel.toString(), "field 'model'");
    Path minimal =
        Files.writeString(
            tmp.resolve("minimal.json"),
            "{\"name\": \"minimal\", \"model\": {\"T\": 2, \"D\": 4, \"L\": 1, \"msn_layers\": [0], \"S\": 2, \"k\": 1, \"dk\": 2,"
                + " \"ffn_mult\": 1, \"head_hidden\": 2, \"tasks\": [\"click\"]}, \"batch\": {\"min\": 1, \"opt\": 1, \"max\": 1},"
                + " \"tolerances\": {\"fp32\": {\"atol\": 0, \"rtol\": 0}}}");
    assertEquals(ExitCodes.OK, run("profiles", minimal.toString()).code());
    assertEquals(
        ExitCodes.OK,
        run("init", "--profile", minimal.toString(), "--out", tmp.resolve("ck-minimal").toString())
            .code());
  }
}
