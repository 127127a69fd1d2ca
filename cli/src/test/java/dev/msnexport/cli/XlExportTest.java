package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code xl} profile (two 4,194,304 x 768 fp16 tables: 12.9 GB) through init and export in
 * child JVMs limited to -Xmx1g, then verify on ONNX Runtime at batch 2. Needs about 26 GB of free
 * disk and several minutes, so it runs only when asked: {@code -Dmsn.test.xl=true} (tag {@code
 * xl}); docs/performance.md has the figures of one run.
 */
@Tag("xl")
@EnabledIfSystemProperty(named = "msn.test.xl", matches = "true")
class XlExportTest {
  @TempDir Path tmp;

  static String runChild(Path log, String heap, String... args) throws Exception {
    long t0 = System.nanoTime();
    ChildJvm.Ended e = ChildJvm.runWithHeap(log, heap, 40, args);
    System.out.printf(
        "[xl] %s %s: exit %d, wall %.1f s%n%s%n",
        heap, args[0], e.code(), (System.nanoTime() - t0) / 1e9, e.out());
    return e.ok();
  }

  @Test
  void xlExportsWithOneGigabyteOfHeap() throws Exception {
    Path ck = tmp.resolve("ck");
    Path model = tmp.resolve("model");
    runChild(tmp.resolve("init.log"), "-Xmx1g", "init", "--profile", "xl", "--out", ck.toString());
    long table = 4_194_304L * 768 * 2;
    assertTrue(Files.size(ck.resolve("model.safetensors")) > 2 * table, "fp16 tables by default");
    runChild(
        tmp.resolve("export.log"),
        "-Xmx1g",
        "export",
        "--checkpoint",
        ck.toString(),
        "--out",
        model.toString());
    JsonNode manifest = Profiles.JSON.readTree(Files.readString(model.resolve("manifest.json")));
    assertEquals("xl", manifest.get("profile").asText());
    assertEquals("fp16", manifest.get("values_dtype").asText());
    assertTrue(Files.size(model.resolve("model.data")) > 2 * table, "values in external data");
    assertTrue(Files.size(model.resolve("model.custom.onnx")) < (64L << 20), "small graph");
    String backends = System.getProperty("msn.test.xl.backends", "golden,ort-custom");
    if (backends.isEmpty()) {
      return;
    }
    Path report = tmp.resolve("verify.json");
    runChild(
        tmp.resolve("verify.log"),
        System.getProperty("msn.test.xl.verify-heap", "-Xmx4g"),
        "verify",
        "--model",
        model.toString(),
        "--backends",
        backends,
        "--batch",
        "2",
        "--report",
        report.toString());
    JsonNode r = Profiles.JSON.readTree(Files.readString(report));
    assertTrue(r.get("pass").asBoolean(), r.toString());
  }
}
