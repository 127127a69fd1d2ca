package dev.msnexport.cli.robustness;

import static dev.msnexport.cli.CliRun.exec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.cli.CliRun;
import dev.msnexport.cli.ExitCodes;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.io.GoldenFile;
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

  static void assertBadInput(CliRun r, String... named) {
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    for (String s : named) {
      assertTrue(r.err().contains(s), "'" + s + "' in: " + r.err());
    }
  }

  @BeforeAll
  static void tinyExport() {
    Path ck = tmp.resolve("ck");
    model = tmp.resolve("model");
    assertEquals(ExitCodes.OK, exec("init --profile tiny --out {}", ck).code());
    assertEquals(
        ExitCodes.OK, exec("export --checkpoint {} --out {} --profile tiny", ck, model).code());
  }

  @Test
  void aBatchAboveTheProfileMaxIsRefusedForEveryBackend() {
    int max = Profiles.load("tiny").batch().max();
    assertBadInput(
        exec("verify --model {} --backends golden,ort-reference --batch {}", model, max + 1),
        "--batch " + (max + 1),
        "batch.max " + max,
        "'tiny'");
    assertEquals(
        ExitCodes.OK,
        exec("verify --model {} --backends golden,ort-reference --batch {}", model, max).code());
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
        exec("verify --model {} --backends ort-reference --golden {}", model, nan),
        "'tokens'",
        "NaN",
        "[1, 3, 15]");
    Path inf = golden("inf.safetensors", new long[] {1, 4, 16}, Float.NEGATIVE_INFINITY);
    assertBadInput(
        exec("verify --model {} --backends ort-reference --golden {}", model, inf),
        "'tokens'",
        "-Infinity");
    Path empty = golden("empty.safetensors", new long[] {0, 4, 16}, 0f);
    assertBadInput(
        exec("verify --model {} --backends ort-reference --golden {}", model, empty),
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
        exec("verify --model {} --backends golden,ort-reference", copy),
        copy.toString(),
        "manifest.json");
    assertBadInput(exec("inspect {}", copy), copy.toString());
  }

  @Test
  void anOnnxModelWithAMalformedExternalDataLengthIsBadInput() throws Exception {
    Path corpus =
        Path.of("src/test/resources/dev/msnexport/cli/fuzz/OnnxInspectFuzzTestInputs/describeOnnx");
    Path onnx =
        Files.copy(corpus.resolve("bad-external-length-not-a-number"), tmp.resolve("bad.onnx"));
    assertBadInput(exec("inspect {}", onnx), onnx.toString(), "'values'", "32 bytes");
  }

  @Test
  void profileFilesWithNullSectionsAreBadInputAndOptionalFieldsMayBeLeftOut() throws Exception {
    Path nullModel =
        Files.writeString(
            tmp.resolve("null-model.json"),
            "{\"name\": \"x\", \"model\": null, \"batch\": {\"min\": 1, \"opt\": 1, \"max\": 1}, \"tolerances\": {\"fp32\": "
                + "{\"atol\": 0, \"rtol\": 0}}}");
    assertBadInput(exec("profiles {}", nullModel), nullModel.toString(), "field 'model'");
    Path minimal =
        Files.writeString(
            tmp.resolve("minimal.json"),
            "{\"name\": \"minimal\", \"model\": {\"T\": 2, \"D\": 4, \"L\": 1, \"msn_layers\": [0], \"S\": 2, \"k\": 1, \"dk\": 2,"
                + " \"ffn_mult\": 1, \"head_hidden\": 2, \"tasks\": [\"click\"]}, \"batch\": {\"min\": 1, \"opt\": 1, \"max\": 1},"
                + " \"tolerances\": {\"fp32\": {\"atol\": 0, \"rtol\": 0}}}");
    assertEquals(ExitCodes.OK, exec("profiles {}", minimal).code());
    assertEquals(
        ExitCodes.OK,
        exec("init --profile {} --out {}", minimal, tmp.resolve("ck-minimal")).code());
  }
}
