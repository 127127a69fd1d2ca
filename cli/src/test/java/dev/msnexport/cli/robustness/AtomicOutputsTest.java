package dev.msnexport.cli.robustness;

import static dev.msnexport.cli.ChildJvm.tempLargerThan;
import static dev.msnexport.cli.CliRun.exec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.msnexport.cli.ChildJvm;
import dev.msnexport.cli.CliRun;
import dev.msnexport.cli.ExitCodes;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing half-written (docs/robustness.md): a child JVM running {@code msn-export export} or
 * {@code init} is killed with SIGKILL at chosen moments of its writes; afterwards every visible
 * file in the output directory is a complete file of the old export or of the new one, the manifest
 * never sits beside graphs of another export, and the next run deletes the hidden leftovers. A full
 * disk (a 1 MiB tmpfs, where mounting is permitted) is a clear error (exit 4).
 */
class AtomicOutputsTest {
  /** Large enough that writing takes a while (two 262,144 x 64 value tables: ~270 MB of graphs). */
  static final String MEDIUM =
      """
      {"name": "medium", "description": "kill -9 tests: slow enough to interrupt",
       "model": {"T": 8, "D": 64, "L": 2, "msn_layers": [0, 1], "S": 512, "k": 16, "dk": 32, "ffn_mult": 2, "head_hidden": 64,
                 "tasks": ["click", "finish"]},
       "batch": {"min": 1, "opt": 8, "max": 64}, "tolerances": {"fp32": {"atol": 1e-5, "rtol": 1e-5}}}
      """;

  @TempDir static Path tmp;
  static Profile medium;
  static Path ckOld;
  static Path ckNew;

  /** Complete exports of the old and the new checkpoint: what a reader may ever see. */
  static Map<String, String> oldFiles;

  static Map<String, String> newFiles;
  static Path oldExport;

  @BeforeAll
  static void checkpointsAndCompleteExports() throws IOException {
    Path profileFile = Files.writeString(tmp.resolve("medium.json"), MEDIUM);
    medium = Profiles.read(profileFile);
    ckOld = tmp.resolve("ck-old");
    ckNew = tmp.resolve("ck-new");
    SyntheticCheckpoint.write(medium.model(), ckOld, 1);
    SyntheticCheckpoint.write(medium.model(), ckNew, 2);
    oldExport = tmp.resolve("export-old");
    export(ckOld, oldExport);
    Path newExport = tmp.resolve("export-new");
    export(ckNew, newExport);
    oldFiles = visible(oldExport);
    newFiles = visible(newExport);
    assertEquals(oldFiles.keySet(), newFiles.keySet());
  }

  static void export(Path ck, Path out) {
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(c, out, MsnOnnxExporter.Options.defaults());
    }
  }

  /** Visible (non-hidden) files by name, with their SHA-256. */
  static Map<String, String> visible(Path dir) throws IOException {
    Map<String, String> m = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return m;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
        m.put(p.getFileName().toString(), sha256(p));
      }
    }
    return m;
  }

  static List<String> hidden(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("."))
          .sorted()
          .toList();
    }
  }

  static String sha256(Path p) throws IOException {
    try (InputStream in = Files.newInputStream(p)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 20];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Waits until {@code trigger} holds for one of the files of {@code dir}, then kills the child
   * with SIGKILL. Returns true if it was killed, false if it finished first.
   */
  static boolean killWhen(Process p, Path dir, Predicate<Path> trigger) throws Exception {
    if (ChildJvm.waitFor(p, dir, trigger)) {
      p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no finally
      assertTrue(p.waitFor(1, TimeUnit.MINUTES));
      return true;
    }
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child still running");
    return false;
  }

  /**
   * Every visible file is complete (old or new), and a manifest only stands beside its own graphs.
   */
  static void assertOldOrNewNeverPartial(Path out, String when) throws IOException {
    Map<String, String> now = visible(out);
    for (Map.Entry<String, String> e : now.entrySet()) {
      String name = e.getKey();
      boolean isOld = e.getValue().equals(oldFiles.get(name));
      boolean isNew = e.getValue().equals(newFiles.get(name));
      assertTrue(
          isOld || isNew,
          when + ": " + name + " is neither the old nor the new complete file (partial?)");
    }
    String manifest = now.get(MsnOnnxExporter.MANIFEST_FILE);
    if (manifest != null) {
      Map<String, String> generation =
          manifest.equals(oldFiles.get(MsnOnnxExporter.MANIFEST_FILE)) ? oldFiles : newFiles;
      assertEquals(
          generation, now, when + ": the manifest stands beside the graphs of its own export");
    }
  }

  static void resetToOldExport(Path out) throws IOException {
    if (Files.isDirectory(out)) {
      try (Stream<Path> s = Files.list(out)) {
        for (Path p : s.toList()) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(out);
    try (Stream<Path> s = Files.list(oldExport)) {
      for (Path p : s.toList()) {
        Files.copy(p, out.resolve(p.getFileName()));
      }
    }
  }

  @Test
  void killedExportsLeaveTheOldCompleteFilesOrNone() throws Exception {
    // 1. a fresh directory, killed while the first graph is being written: nothing visible
    Path fresh = tmp.resolve("fresh");
    Process p =
        ChildJvm.start(
            tmp.resolve("fresh.log"), null, "export --checkpoint {} --out {}", ckNew, fresh);
    assertTrue(
        killWhen(p, fresh, tempLargerThan(MsnOnnxExporter.CUSTOM_FILE, 1 << 20)),
        "killed while writing");
    assertEquals(Map.of(), visible(fresh), "no visible file after a killed first export");
    assertFalse(hidden(fresh).isEmpty(), "SIGKILL leaves its hidden temporary files");

    // 2. over an old export, killed at three moments: first graph, second graph, manifest
    Path out = tmp.resolve("out");
    String[][] moments = {
      {MsnOnnxExporter.CUSTOM_FILE, "1048576"},
      {MsnOnnxExporter.REFERENCE_FILE, "1048576"},
      {MsnOnnxExporter.MANIFEST_FILE, "-1"}
    };
    int killedBeforeCommit = 0;
    for (String[] m : moments) {
      resetToOldExport(out);
      p =
          ChildJvm.start(
              tmp.resolve("kill-" + m[0] + ".log"),
              null,
              "export --checkpoint {} --out {}",
              ckNew,
              out);
      boolean killed = killWhen(p, out, tempLargerThan(m[0], Long.parseLong(m[1])));
      assertOldOrNewNeverPartial(out, "killed while writing " + m[0]);
      if (killed && visible(out).equals(oldFiles)) {
        killedBeforeCommit++;
      }
    }
    assertTrue(
        killedBeforeCommit >= 2, "the kills landed before the commit: " + killedBeforeCommit);

    // 3. the next export completes, and deletes the leftovers of the killed ones
    p =
        ChildJvm.start(
            tmp.resolve("complete.log"), null, "export --checkpoint {} --out {}", ckNew, out);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    assertEquals(ExitCodes.OK, p.exitValue(), Files.readString(tmp.resolve("complete.log")));
    assertEquals(newFiles, visible(out));
    assertEquals(List.of(), hidden(out), "leftovers of killed runs are deleted by the next run");
  }

  @Test
  void aKilledExportWithExternalDataLeavesNoPartialTable() throws Exception {
    Path out = tmp.resolve("external");
    Files.createDirectories(out);
    Process p =
        ChildJvm.start(
            tmp.resolve("external.log"),
            null,
            "export --checkpoint {} --out {} --external-data always",
            ckNew,
            out);
    assertTrue(
        killWhen(p, out, tempLargerThan(MsnOnnxExporter.DATA_FILE, 16 << 20)),
        "killed while writing model.data");
    assertEquals(Map.of(), visible(out));
    p =
        ChildJvm.start(
            tmp.resolve("external2.log"),
            null,
            "export --checkpoint {} --out {} --external-data always",
            ckNew,
            out);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    assertEquals(ExitCodes.OK, p.exitValue(), Files.readString(tmp.resolve("external2.log")));
    assertTrue(Files.size(out.resolve(MsnOnnxExporter.DATA_FILE)) > (64 << 20));
    assertEquals(List.of(), hidden(out));
  }

  @Test
  void aKilledInitLeavesNoCheckpointThatLooksComplete() throws Exception {
    Path ck = tmp.resolve("ck-killed");
    Process p =
        ChildJvm.start(
            tmp.resolve("init.log"),
            null,
            "init --profile {} --out {} --seed 2",
            tmp.resolve("medium.json"),
            ck);
    assertTrue(
        killWhen(p, ck, tempLargerThan(Checkpoint.WEIGHTS_FILE, 1 << 20)),
        "killed while writing the weights");
    assertEquals(Map.of(), visible(ck), "neither weights nor config.json: not a checkpoint");
    p =
        ChildJvm.start(
            tmp.resolve("init2.log"),
            null,
            "init --profile {} --out {} --seed 2",
            tmp.resolve("medium.json"),
            ck);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    assertEquals(ExitCodes.OK, p.exitValue(), Files.readString(tmp.resolve("init2.log")));
    assertEquals(visible(ckNew), visible(ck), "the same seed gives the same bytes in another JVM");
    assertEquals(List.of(), hidden(ck));
  }

  @Test
  void aFullDiskIsExitCodeFourAndLeavesNothing() throws Exception {
    Path mnt = Files.createDirectories(tmp.resolve("full"));
    assumeTrue(
        ChildJvm.command("mount -t tmpfs -o size=1m tmpfs {}", mnt),
        "mounting a 1 MiB tmpfs is not permitted here (needs root with CAP_SYS_ADMIN)");
    try {
      Path out = mnt.resolve("model");
      CliRun r = exec("export --checkpoint {} --out {}", ckOld, out);
      assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
      assertTrue(
          r.err().contains(out.toString()) && r.err().contains("No space left on device"), r.err());
      assertEquals(Map.of(), visible(out));
      assertEquals(List.of(), hidden(out), "temporary files are deleted when a write fails");
    } finally {
      ChildJvm.command("umount {}", mnt); // as root
    }
  }

  @Test
  void anOutputUnderARegularFileOrOntoADirectoryIsExitCodeFour() throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    CliRun r = exec("init --profile tiny --out {}", file.resolve("ck"));
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains(file.toString()), r.err());
    Path ck = tmp.resolve("ck-tiny");
    Path model = tmp.resolve("model-tiny");
    assertEquals(ExitCodes.OK, exec("init --profile tiny --out {}", ck).code());
    assertEquals(ExitCodes.OK, exec("export --checkpoint {} --out {}", ck, model).code());
    Path reportDir = Files.createDirectories(tmp.resolve("report-is-a-directory"));
    r = exec("verify --model {} --backends golden,ort-reference --report {}", model, reportDir);
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains(reportDir.toString()), r.err());
    assertEquals(
        List.of(),
        hidden(tmp.resolve("report-is-a-directory").getParent()).stream()
            .filter(n -> n.endsWith(".tmp"))
            .toList());
  }
}
