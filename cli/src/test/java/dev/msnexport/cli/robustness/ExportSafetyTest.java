package dev.msnexport.cli.robustness;

import static dev.msnexport.cli.ChildJvm.tempLargerThan;
import static dev.msnexport.cli.ChildJvm.waitFor;
import static dev.msnexport.cli.CliRun.exec;
import static dev.msnexport.cli.robustness.BadInputCliTest.assertBadInput;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.cli.ChildJvm;
import dev.msnexport.cli.CliRun;
import dev.msnexport.cli.ExitCodes;
import dev.msnexport.common.OutputLock;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * init and export never write what they should refuse and never lose data (docs/robustness.md,
 * "Writes that are refused, interrupted or concurrent"): configs too large for the limit or the
 * disk, names that collide with the graph's, values that overflow the stored type, SIGINT/SIGTERM
 * in the middle of a write, a second writer into one directory, a commit that cannot replace a
 * target, and an export moved together with its checkpoint.
 */
class ExportSafetyTest {
  /** Slow enough to interrupt (~270 MB of graphs): AtomicOutputsTest's profile. */
  static final String MEDIUM = AtomicOutputsTest.MEDIUM;

  @TempDir static Path tmp;
  static Path mediumProfile;
  static Path ckMedium;
  static Path ckTiny;

  @BeforeAll
  static void checkpoints() throws IOException {
    mediumProfile = Files.writeString(tmp.resolve("medium.json"), MEDIUM);
    ckMedium = tmp.resolve("ck-medium");
    SyntheticCheckpoint.write(Profiles.read(mediumProfile).model(), ckMedium, 1);
    ckTiny = tmp.resolve("ck-tiny");
    assertEquals(ExitCodes.OK, exec("init --profile tiny --out {}", ckTiny).code());
  }

  /** Every entry of {@code dir} (hidden ones included), sorted; empty if it does not exist. */
  static List<String> entries(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  static List<String> hidden(Path dir) throws IOException {
    return entries(dir).stream().filter(n -> n.startsWith(".")).toList();
  }

  /** The tiny profile with one model field replaced, as a profile file. */
  static Path tinyWith(String field, JsonNode value) throws IOException {
    ObjectNode p =
        (ObjectNode)
            Profiles.JSON.readTree(Profiles.class.getResourceAsStream("/profiles/tiny.json"));
    ((ObjectNode) p.get("model")).set(field, value);
    p.put("name", "tiny-" + field);
    return Files.writeString(
        tmp.resolve("tiny-" + field + "-" + value.toString().hashCode() + ".json"), p.toString());
  }

  // ---- 1. sizes -------------------------------------------------------------------------------

  @Test
  void initRefusesConfigsOfAbsurdSizeBeforeWritingAnything() throws IOException {
    Object[][] cases = {
      {"S", 1 << 20, "S, D (value tables)", "bytes"}, // 2^40 slots x D 16 x 4 B x 2 layers: 128 TiB
      {"dk", 1 << 30, "dk", "2^63 bytes"},
      {
        "ffn_mult", 1 << 29, "ffn_mult, D, T (FFNs)", "bytes"
      }, // before: IllegalStateException, exit 70
      {"ffn_mult", 1 << 30, "ffn_mult", "bytes"}
    };
    for (Object[] c : cases) {
      Path out = tmp.resolve("init-" + c[0] + "-" + c[1]);
      CliRun r =
          exec(
              "init --profile {} --out {}",
              tinyWith((String) c[0], Profiles.JSON.valueToTree(c[1])).toString(),
              out);
      assertBadInput(r, (String) c[2], (String) c[3]);
      assertEquals(List.of(), entries(out), c[0] + "=" + c[1] + ": nothing written");
    }
  }

  @Test
  void exportOfACheckpointWhoseConfigOverflowsIsBadInputNotDivisionByZero() throws IOException {
    Path ck = tmp.resolve("ck-ffn30");
    Files.createDirectories(ck);
    Files.copy(ckTiny.resolve(Checkpoint.WEIGHTS_FILE), ck.resolve(Checkpoint.WEIGHTS_FILE));
    ObjectNode config =
        (ObjectNode) Profiles.JSON.readTree(ckTiny.resolve(Checkpoint.CONFIG_FILE).toFile());
    config.put(
        "ffn_mult", 1 << 30); // ffn_mult * D wrapped to 0 in int arithmetic: "/ by zero", exit 70
    Files.writeString(ck.resolve(Checkpoint.CONFIG_FILE), config.toString());
    Path out = tmp.resolve("model-ffn30");
    assertBadInput(
        exec("export --checkpoint {} --out {}", ck, out),
        ck.resolve("config.json").toString(),
        "ffn_mult",
        "bytes");
    assertEquals(List.of(), entries(out));
  }

  @Test
  void initRefusesAConfigLargerThanTheFreeDiskSpace() throws IOException {
    // S 2^15: 2^30 slots x D 16 x 4 B x 2 layers = 128 GiB, under the 1 TiB limit
    Path out = Files.createDirectories(tmp.resolve("init-disk"));
    long need = 128L << 30;
    assumeTrue(
        Files.getFileStore(out).getUsableSpace() < need,
        "this disk has 128 GiB free: the free-space case cannot occur");
    CliRun r =
        exec(
            "init --profile {} --out {}",
            tinyWith("S", Profiles.JSON.valueToTree(1 << 15)).toString(),
            out);
    assertBadInput(
        r,
        out.toString(),
        "No space left on device",
        "bytes are free",
        "S, D (value tables)",
        "137438953472 bytes");
    assertEquals(List.of(), entries(out));
  }

  // ---- 2. shutdown hook -----------------------------------------------------------------------

  /**
   * A child JVM exporting the medium checkpoint into {@code out} (log: OUT.log), once its first
   * graph's temporary file has more than {@code bytes}.
   */
  static Process exportWritingItsFirstGraph(Path out, String signalToReset, long bytes)
      throws Exception {
    Path log = out.resolveSibling(out.getFileName() + ".log");
    Process p =
        ChildJvm.start(log, signalToReset, "export --checkpoint {} --out {}", ckMedium, out);
    assertTrue(
        waitFor(p, out, tempLargerThan(MsnOnnxExporter.CUSTOM_FILE, bytes)),
        "the child was writing its first graph");
    return p;
  }

  static void signal(Process p, String sig) throws Exception {
    Process k = new ProcessBuilder("kill", "-s", sig, Long.toString(p.pid())).inheritIO().start();
    assertTrue(k.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, k.exitValue());
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the child ends on SIG" + sig);
  }

  @Test
  void sigtermAndSigintDuringExportAndInitLeaveNoTemporaryFile() throws Exception {
    for (String sig : List.of("TERM", "INT")) {
      Path out = tmp.resolve("signal-export-" + sig);
      Process p = exportWritingItsFirstGraph(out, sig, 1 << 20);
      assertFalse(hidden(out).isEmpty(), "temporary files and the lock exist while it writes");
      signal(p, sig);
      assertNotEquals(0, p.exitValue(), "interrupted, not finished");
      assertEquals(
          List.of(),
          entries(out),
          "SIG" + sig + ": no temporary file, no lock file, nothing visible");

      Path ck = tmp.resolve("signal-init-" + sig);
      p =
          ChildJvm.start(
              tmp.resolve("signal-init-" + sig + ".log"),
              sig,
              "init --profile {} --out {}",
              mediumProfile,
              ck);
      assertTrue(
          waitFor(p, ck, tempLargerThan(Checkpoint.WEIGHTS_FILE, 1 << 20)),
          "the child was writing the weights");
      signal(p, sig);
      assertNotEquals(0, p.exitValue());
      assertEquals(
          List.of(),
          entries(ck),
          "SIG" + sig + ": no temporary file, no lock file, nothing visible");
    }
  }

  // ---- 3. lock --------------------------------------------------------------------------------

  @Test
  void aSecondWriterIntoOneDirectoryIsRefusedAndTheFirstCompletesUnmixed() throws Exception {
    Path out = tmp.resolve("concurrent");
    Process p = exportWritingItsFirstGraph(out, null, 0); // the first export
    CliRun second = exec("export --checkpoint {} --out {}", ckTiny, out);
    assertBadInput(second, out.toString(), "in use", "pid " + p.pid());
    CliRun init = exec("init --profile tiny --out {}", out); // any writer of the directory
    assertBadInput(init, out.toString(), "pid " + p.pid());
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    assertEquals(ExitCodes.OK, p.exitValue(), Files.readString(tmp.resolve("concurrent.log")));
    // the directory holds the first export only: its manifest names its checkpoint, and it loads
    // against it
    JsonNode manifest = Profiles.JSON.readTree(out.resolve(MsnOnnxExporter.MANIFEST_FILE).toFile());
    assertEquals(
        Checkpoint.sha256(ckMedium.resolve(Checkpoint.WEIGHTS_FILE)),
        manifest.get("checkpoint_sha256").asText());
    assertEquals(List.of(), hidden(out), "the lock file is removed when the export is done");
    assertEquals(
        ExitCodes.OK,
        exec("verify --model {} --backends golden,ort-reference --batch 2", out).code());
  }

  @Test
  void aLockLeftByAKilledRunIsTakenOver() throws Exception {
    Path out = tmp.resolve("stale");
    Process p = exportWritingItsFirstGraph(out, null, 1 << 20);
    p.destroyForcibly(); // SIGKILL: no hook runs, the lock file stays, the kernel drops the lock
    assertTrue(p.waitFor(1, TimeUnit.MINUTES));
    assertTrue(Files.exists(out.resolve(OutputLock.FILE)), "SIGKILL leaves the lock file");
    assertEquals(ExitCodes.OK, exec("export --checkpoint {} --out {}", ckTiny, out).code());
    assertEquals(
        List.of(),
        hidden(out),
        "taken over, then removed; the killed run's temporary files deleted");
  }

  @Test
  void aLockHeldInThisProcessRefusesAWriterNamingTheDirectory() throws IOException {
    Path out = Files.createDirectories(tmp.resolve("held"));
    try (OutputLock held = OutputLock.acquire(out, "output directory")) {
      assertBadInput(
          exec("export --checkpoint {} --out {}", ckTiny, out),
          out.toString(),
          "pid " + ProcessHandle.current().pid());
    }
    assertEquals(
        List.of(),
        entries(out),
        "refused before anything was written; the released lock leaves no file");
    assertEquals(ExitCodes.OK, exec("export --checkpoint {} --out {}", ckTiny, out).code());
  }

  // ---- 4. failed commit -----------------------------------------------------------------------

  @Test
  void aCommitThatCannotReplaceATargetLeavesThePreviousExportLoadable() throws IOException {
    Path out = tmp.resolve("commit");
    assertEquals(ExitCodes.OK, exec("export --checkpoint {} --out {}", ckTiny, out).code());
    String manifest = Files.readString(out.resolve(MsnOnnxExporter.MANIFEST_FILE));
    Files.createDirectories(
        out.resolve(MsnOnnxExporter.DATA_FILE).resolve("x")); // model.data is a directory
    CliRun r = exec("export --checkpoint {} --out {} --external-data always", ckTiny, out);
    assertBadInput(r, out.resolve(MsnOnnxExporter.DATA_FILE).toString(), "directory");
    assertEquals(
        manifest,
        Files.readString(out.resolve(MsnOnnxExporter.MANIFEST_FILE)),
        "the previous manifest is kept");
    assertEquals(List.of(), hidden(out));
    assertEquals(
        ExitCodes.OK,
        exec("verify --model {} --backends golden,ort-reference --batch 2", out).code(),
        "the previous export still loads and verifies");
  }

  // ---- 5. names and overflow ------------------------------------------------------------------

  @Test
  void aTaskNamedLikeTheGraphInputIsRefused() throws IOException {
    Path ck = tmp.resolve("ck-tokens");
    assertEquals(
        ExitCodes.OK,
        exec(
                "init --profile {} --out {}",
                tinyWith("tasks", Profiles.JSON.valueToTree(List.of("click", "tokens"))).toString(),
                ck)
            .code());
    Path out = tmp.resolve("model-tokens");
    assertBadInput(exec("export --checkpoint {} --out {}", ck, out), "'tokens'", "graph input");
    assertEquals(List.of(), entries(out));
  }

  /** Overwrites element {@code index} of a tensor in a safetensors file, in the tensor's dtype. */
  static void patch(Path file, String tensor, long index, double value) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      byte[] len = new byte[8];
      raf.readFully(len);
      long headerLen = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
      byte[] header = new byte[(int) headerLen];
      raf.readFully(header);
      JsonNode t = Profiles.JSON.readTree(header).get(tensor);
      DType dt = DType.fromSafetensors(t.get("dtype").asText()).orElseThrow();
      ByteBuffer b = ByteBuffer.allocate(dt.size()).order(ByteOrder.LITTLE_ENDIAN);
      switch (dt) {
        case F64 -> b.putDouble(value);
        case F32 -> b.putFloat((float) value);
        default -> throw new IllegalArgumentException(dt.toString());
      }
      raf.seek(8 + headerLen + t.get("data_offsets").get(0).asLong() + index * dt.size());
      raf.write(b.array());
    }
  }

  @Test
  void valuesThatOverflowTheStoredTypeAreRefusedNamingTensorAndIndex() throws IOException {
    // F64 1e300 becomes +Inf in the float32 graph
    Path ck64 = tmp.resolve("ck-f64");
    SyntheticCheckpoint.write(Profiles.load("tiny").model(), ck64, 0, DType.F64);
    patch(ck64.resolve(Checkpoint.WEIGHTS_FILE), "blocks.1.ffn.w2", 37, 1e300);
    Path out = tmp.resolve("model-f64");
    CliRun r = exec("export --checkpoint {} --out {}", ck64, out);
    assertBadInput(r, "blocks.1.ffn.w2", "1.0E300", "flat index 37", "fp32");
    assertEquals(List.of(), entries(out));

    // 1e6 is a float32 but not an fp16: +Inf in an fp16 value table
    Path ck = tmp.resolve("ck-big-value");
    SyntheticCheckpoint.write(Profiles.load("tiny").model(), ck, 0);
    patch(ck.resolve(Checkpoint.WEIGHTS_FILE), "blocks.0.msn.values", 1000, 1e6);
    out = tmp.resolve("model-fp16");
    r = exec("export --checkpoint {} --out {} --values-dtype fp16", ck, out);
    assertBadInput(r, "blocks.0.msn.values", "1000000.0", "flat index 1000", "fp16");
    assertEquals(List.of(), entries(out));
    assertEquals(
        ExitCodes.OK,
        exec("export --checkpoint {} --out {} --values-dtype bf16", ck, out).code(),
        "bf16 holds 1e6");
  }

  // ---- 7. manifest path -----------------------------------------------------------------------

  @Test
  void anExportMovedTogetherWithItsCheckpointStillFindsIt() throws IOException {
    Path before = Files.createDirectories(tmp.resolve("pair-before"));
    Path ck = before.resolve("checkpoint");
    Path model = before.resolve("exports").resolve("model");
    assertEquals(ExitCodes.OK, exec("init --profile tiny --out {}", ck).code());
    assertEquals(ExitCodes.OK, exec("export --checkpoint {} --out {}", ck, model).code());
    JsonNode manifest =
        Profiles.JSON.readTree(model.resolve(MsnOnnxExporter.MANIFEST_FILE).toFile());
    assertEquals("../../checkpoint", manifest.get("checkpoint").asText());
    assertEquals(
        Checkpoint.sha256(ck.resolve(Checkpoint.WEIGHTS_FILE)),
        manifest.get("checkpoint_sha256").asText());

    Path after = tmp.resolve("pair-after");
    Files.move(before, after);
    Path moved = after.resolve("exports").resolve("model");
    assertEquals(
        ExitCodes.OK,
        exec("verify --model {} --backends golden,ort-reference --batch 2", moved).code(),
        "the moved export finds its moved checkpoint");

    // an older manifest with an absolute path is still read as it is
    ObjectNode old =
        (ObjectNode) Profiles.JSON.readTree(moved.resolve(MsnOnnxExporter.MANIFEST_FILE).toFile());
    old.put("checkpoint", after.resolve("checkpoint").toAbsolutePath().toString());
    Files.writeString(moved.resolve(MsnOnnxExporter.MANIFEST_FILE), old.toString());
    Path elsewhere = tmp.resolve("elsewhere");
    Files.move(after.resolve("exports"), elsewhere);
    assertEquals(
        ExitCodes.OK,
        exec(
                "verify --model {} --backends golden,ort-reference --batch 2",
                elsewhere.resolve("model"))
            .code());
  }
}
