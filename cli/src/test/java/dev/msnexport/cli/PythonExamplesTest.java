package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPU-side checks of examples/python and examples/pytorch/end_to_end.sh: what runs without
 * PyTorch and onnxruntime (those parts run through examples/python/check.sh where they are
 * installed). Tests that need python3 (and numpy) skip themselves without it.
 */
class PythonExamplesTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path TRAINED = REPO.resolve("verifier/src/test/resources/fixtures/small-trained");
  static final Path RUN_CUSTOM_OPS = REPO.resolve("examples/python/run_custom_ops.py");
  static final Path BUILT_LIBRARY =
      REPO.resolve("onnx-custom-ops/target/classes/native/linux-x86_64/libmsn_ort_ops.so");

  @TempDir Path tmp;

  record Run(int code, String out) {}

  static Run exec(Path dir, Map<String, String> env, String... cmd)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1"); // no __pycache__ in the source tree
    pb.environment().putAll(env);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "timed out: " + String.join(" ", cmd));
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  static boolean python(String module) {
    try {
      return exec(REPO, Map.of(), "python3", "-c", "import " + module).code() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  @Test
  void everyExampleCompilesAndEveryScriptParses() throws Exception {
    assumeTrue(python("sys"), "python3 is not installed");
    Run r =
        exec(REPO, Map.of("WORK", tmp.toString()), "bash", "examples/python/check.sh", "compile");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("PASS  compile"), r.out());
    assertTrue(
        Files.isRegularFile(tmp.resolve("pyc/run_custom_ops.pyc")),
        "compiled into WORK, not beside the source");
    assertTrue(
        Files.isRegularFile(tmp.resolve("pyc/export_checkpoint.pyc")),
        "examples/pytorch compiled too");
  }

  @Test
  void runCustomOpsFindsTheLibraryWhereTheBuildAndTheReleasePutIt() throws Exception {
    assumeTrue(
        python("numpy"),
        "python3 with numpy is not installed"); // run_custom_ops.py imports numpy first
    // from the repository root: where the build writes it (the path the READMEs give)
    Run built = exec(REPO, Map.of(), "python3", RUN_CUSTOM_OPS.toString(), "--print-library");
    assertEquals(0, built.code(), built.out());
    assertEquals(BUILT_LIBRARY.toString(), built.out().strip());
    assertTrue(Files.isRegularFile(BUILT_LIBRARY), BUILT_LIBRARY + " missing after the build");
    // from the root of an unpacked release: native/libmsn_ort_ops.so comes first
    Path lib = Files.createDirectories(tmp.resolve("release/native")).resolve("libmsn_ort_ops.so");
    Files.copy(BUILT_LIBRARY, lib);
    Run release =
        exec(
            tmp.resolve("release"),
            Map.of(),
            "python3",
            RUN_CUSTOM_OPS.toString(),
            "--print-library");
    assertEquals(0, release.code(), release.out());
    assertEquals(
        lib.toRealPath().toString(), Path.of(release.out().strip()).toRealPath().toString());
    // a library named that is not there: exit 2, naming it
    Run missing =
        exec(
            REPO,
            Map.of("MSN_ORT_OPS", tmp.resolve("nope.so").toString()),
            "python3",
            RUN_CUSTOM_OPS.toString(),
            "--print-library");
    assertEquals(2, missing.code(), missing.out());
    assertTrue(missing.out().contains(tmp.resolve("nope.so") + ""), missing.out());
  }

  @Test
  void runCustomOpsComparisonFailsAboveTheToleranceAndOnAnyOtherSlot() throws Exception {
    assumeTrue(python("numpy"), "python3 with numpy is not installed");
    String program =
        String.join(
            "\n",
            "import sys, numpy as np",
            "sys.path.insert(0, sys.argv[1])",
            "import run_custom_ops as r",
            "ref = {'click': np.full((4, 1), 0.5, np.float32), 'retrieval.0.slots': np.arange(8, dtype=np.int64).reshape(2, 4)}",
            "def case(name, **changes):",
            "    got = {k: v.copy() for k, v in ref.items()}",
            "    got.update(changes)",
            "    got = {k: v for k, v in got.items() if v is not None}",
            "    lines, ok = r.compare(ref, got, 1e-5)",
            "    print(name, 'ok' if ok else 'fail', '|', ' / '.join(lines))",
            "case('same')",
            "case('within', click=ref['click'] + np.float32(5e-6))",
            "case('above', click=ref['click'] + np.float32(2e-5))",
            "case('nan', click=np.where(np.arange(4)[:, None] == 2, np.nan, ref['click']).astype(np.float32))",
            "case('slot', **{'retrieval.0.slots': ref['retrieval.0.slots'][:, ::-1].copy()})",
            "case('missing', click=None)",
            "case('shape', click=ref['click'][:2])");
    Run r = exec(REPO, Map.of(), "python3", "-c", program, RUN_CUSTOM_OPS.getParent().toString());
    assertEquals(0, r.code(), r.out());
    List<String> verdicts = new ArrayList<>();
    for (String line : r.out().strip().split("\n")) {
      verdicts.add(line.substring(0, line.indexOf(" |")));
    }
    assertEquals(
        List.of(
            "same ok",
            "within ok",
            "above fail",
            "nan fail",
            "slot fail",
            "missing fail",
            "shape fail"),
        verdicts,
        r.out());
    assertTrue(r.out().contains("FAIL  click: max abs difference 2.00"), r.out());
    assertTrue(r.out().contains("FAIL  retrieval.0.slots: 8 of 8 slots differ"), r.out());
  }

  /**
   * A stand-in for the msn-export launcher: this test's class path, so no packaged jar is needed.
   */
  Path launcher() throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path script = tmp.resolve("msn-export");
    Files.writeString(
        script,
        "#!/usr/bin/env bash\nexec '"
            + java
            + "' -cp '"
            + System.getProperty("java.class.path")
            + "' "
            + MsnExport.class.getName()
            + " \"$@\"\n");
    assertTrue(script.toFile().setExecutable(true));
    return script;
  }

  /**
   * end_to_end.sh's export and verify steps on the committed PyTorch checkpoint and its golden
   * file.
   */
  Run endToEnd(Path out) throws Exception {
    return exec(
        REPO,
        Map.of("MSN_EXPORT", launcher().toString()),
        "bash",
        "examples/pytorch/end_to_end.sh",
        out.toString(),
        "export",
        "verify");
  }

  static Path copyCheckpoint(Path out) throws IOException {
    Path dir = Files.createDirectories(out.resolve("small-trained"));
    for (String f : List.of("config.json", "model.safetensors", "golden.safetensors")) {
      Files.copy(TRAINED.resolve(f), dir.resolve(f));
    }
    return dir;
  }

  @Test
  void endToEndVerifiesTheExportAgainstPyTorchsGoldenFile() throws Exception {
    Path out = tmp.resolve("pt");
    copyCheckpoint(out);
    Run r = endToEnd(out);
    assertEquals(0, r.code(), r.out());
    assertTrue(Files.isRegularFile(out.resolve("model/model.custom.onnx")), r.out());
    for (String backend : List.of("golden ", "ort-reference", "ort-custom ")) {
      assertTrue(
          r.out()
              .lines()
              .anyMatch(l -> l.contains(backend) && l.matches(".*vs golden-file +pass\\b.*")),
          backend + " against PyTorch's outputs:\n" + r.out());
    }
    assertTrue(
        Files.readString(out.resolve("verify/report.md")).startsWith("# msn-export verify: PASS"));
  }

  @Test
  void endToEndFailsWhenPyTorchsOutputsDisagree() throws Exception {
    Path out = tmp.resolve("pt");
    Path dir = copyCheckpoint(out);
    // PyTorch's click probability of sample 3 moved by 1e-3: far outside small's fp32 tolerance
    // (1e-5).
    // Edited in place: 8-byte header length, JSON header, then data at data_offsets (F32, little
    // endian).
    Path golden = dir.resolve("golden.safetensors");
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(golden)).order(ByteOrder.LITTLE_ENDIAN);
    int headerLength = (int) bytes.getLong(0);
    JsonNode click =
        new ObjectMapper()
            .readTree(new String(bytes.array(), 8, headerLength, StandardCharsets.UTF_8))
            .path("outputs.click");
    assertEquals("F32", click.path("dtype").asText());
    int at = 8 + headerLength + click.path("data_offsets").get(0).asInt() + 3 * Float.BYTES;
    bytes.putFloat(at, bytes.getFloat(at) + 1e-3f);
    Files.write(golden, bytes.array());
    Run r = endToEnd(out);
    assertEquals(ExitCodes.PARITY_FAILURE, r.code(), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.matches(".*vs golden-file +FAIL\\b.*")), r.out());
  }
}
