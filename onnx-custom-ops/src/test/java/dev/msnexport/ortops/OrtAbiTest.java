package dev.msnexport.ortops;

import static dev.msnexport.ortops.OnnxGraphs.FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.msnexport.ortops.ContractReference.Retrieval;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The ABI facts in src/main/native/include/msn_ort_abi.h, checked against the ONNX Runtime the pom
 * pins: the library registers (so OrtApiBase's layout holds and the API version it requests is
 * served), and both ops run a real retrieval end to end (so the OrtCustomOp layout and every OrtApi
 * slot the kernels call - attributes, node name, inputs, outputs, shapes, ParallelFor - are right).
 */
class OrtAbiTest {

  @Test
  void runtimeIsThePinnedVersionAndServesTheRequestedApi() {
    String version = OrtRunner.ENV.getVersion();
    String pinned = System.getProperty("msn.ort.version");
    if (pinned != null && !pinned.isEmpty()) {
      assertEquals(pinned, version, "ONNX Runtime on the test class path");
    }
    String[] parts = version.split("\\.");
    int major = Integer.parseInt(parts[0]);
    int minor = Integer.parseInt(parts[1]);
    // Since 1.x the runtime serves API versions 1..minor.
    assertTrue(
        major > 1 || minor >= MsnOrtOps.ORT_API_VERSION,
        "ONNX Runtime " + version + " is older than 1.17");
  }

  @Test
  void javaConstantMatchesTheHeader() throws IOException {
    Path header = Path.of("src/main/native/include/msn_ort_abi.h");
    assumeTrue(Files.isRegularFile(header), "run from the module directory");
    Matcher m =
        Pattern.compile("#define MSN_ORT_API_VERSION (\\d+)u")
            .matcher(Files.readString(header, StandardCharsets.UTF_8));
    assertTrue(m.find(), "MSN_ORT_API_VERSION in " + header);
    assertEquals(MsnOrtOps.ORT_API_VERSION, Integer.parseInt(m.group(1)));
  }

  /** Registration returns no error status: GetApi(17) answered and the domain was added. */
  @Test
  void registrationIsAccepted() throws OrtException {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      MsnOrtOps.register(options);
    }
  }

  /** PKMRetrieval feeding SparseGather, as in the exported model, against the contract. */
  @Test
  void bothOpsRunEndToEnd() throws OrtException {
    int n = 64;
    int s = 16;
    int k = 4;
    int d = 24;
    Random rnd = new Random(2024);
    float[] rows = OpTestSupport.gaussian(rnd, n * s, 1.0);
    float[] cols = OpTestSupport.gaussian(rnd, n * s, 1.0);
    float[] table = OpTestSupport.gaussian(rnd, s * s * d, 1.0);
    try (OrtRunner runner = new OrtRunner(2)) {
      OrtSession session = runner.session("chain", OnnxGraphs.retrievalChain(k, FLOAT));
      Map<String, OnnxTensor> in =
          Map.of(
              "r", OrtRunner.floats(rows, n, s),
              "c", OrtRunner.floats(cols, n, s),
              "v", OrtRunner.floats(table, s * s, d));
      try (OrtSession.Result res = session.run(in)) {
        float[] out = OrtRunner.readFloats((OnnxTensor) res.get("o").orElseThrow());
        long[] slots = OrtRunner.readLongs((OnnxTensor) res.get("i").orElseThrow());
        for (int q = 0; q < n; q++) {
          Retrieval ref =
              ContractReference.pkm(
                  Arrays.copyOfRange(rows, q * s, (q + 1) * s),
                  Arrays.copyOfRange(cols, q * s, (q + 1) * s),
                  k);
          assertArrayEquals(
              ref.slots(), Arrays.copyOfRange(slots, q * k, (q + 1) * k), "slots of query " + q);
          for (int x = 0; x < d; x++) {
            double v = 0;
            for (int m = 0; m < k; m++) {
              v += ref.weights()[m] * table[(int) ref.slots()[m] * d + x];
            }
            assertEquals(v, out[q * d + x], 1e-5, "out[" + q + ", " + x + "]");
          }
        }
      } finally {
        in.values().forEach(OnnxValue::close);
      }
    }
  }

  /**
   * Two session options share the library's one domain; closing the first (which unloads its
   * reference to the library) leaves the second working.
   */
  @Test
  void twoOptionsObjectsShareTheDomain() throws OrtException {
    byte[] model = OnnxGraphs.retrievalChain(2, FLOAT);
    try (OrtRunner second = new OrtRunner(1)) {
      try (OrtRunner first = new OrtRunner(1)) {
        first.session("chain", model);
        second.session("chain", model);
      }
      Map<String, OnnxTensor> in =
          Map.of(
              "r", OrtRunner.floats(new float[] {0, 1, 2, 3}, 1, 4),
              "c", OrtRunner.floats(new float[] {3, 2, 1, 0}, 1, 4),
              "v", OrtRunner.floats(new float[16], 16, 1));
      try (OrtSession.Result res = second.session("chain", model).run(in)) {
        // Top-2 halves: rows (3, 2), cols (0, 1); best sums 6 (slot 12), then 5 at slots 8 and 13.
        assertArrayEquals(
            new long[] {12, 8}, OrtRunner.readLongs((OnnxTensor) res.get("i").orElseThrow()));
      } finally {
        in.values().forEach(OnnxValue::close);
      }
    }
  }

  /** The version script leaves exactly one dynamic symbol defined: RegisterCustomOps. */
  @Test
  void libraryExportsOnlyRegisterCustomOps() throws IOException, InterruptedException {
    Path lib = MsnOrtOps.libraryPath();
    Process p;
    try {
      p =
          new ProcessBuilder("nm", "-D", "--defined-only", lib.toString())
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      assumeTrue(false, "nm (binutils) is not installed");
      return;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "nm failed: " + out);
    List<String> symbols = new ArrayList<>();
    for (String line : out.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 3 && !f[1].equals("A")) {
        symbols.add(f[2]);
      }
    }
    assertEquals(List.of("RegisterCustomOps"), symbols);
  }

  @Test
  void libraryIsExtractedOncePerJvm() {
    Path a = MsnOrtOps.libraryPath();
    assertEquals(a, MsnOrtOps.libraryPath());
    assertTrue(Files.isRegularFile(a));
    assertEquals(
        MsnOrtOps.FILE_NAME,
        a.getFileName().toString(),
        "extracted under its own name, in a private directory");
  }
}
