package dev.msnexport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code large} profile (one 1,048,576 x 512 float32 table: 2 GiB) goes through init, export
 * (external data) and verify on ONNX Runtime at batch 2 in a child JVM limited to -Xmx1g: the proof
 * that exports stream instead of holding tensors. Skip with -DexcludedTestGroups=large.
 */
@Tag("large")
class LargeExportTest {
  @TempDir Path tmp;

  private static String runChild(Path log, String... args) throws Exception {
    return ChildJvm.runWithHeap(log, "-Xmx1g", 15, args).ok();
  }

  @Test
  void largeExportsWithOneGigabyteOfHeapAndRunsInOnnxRuntime() throws Exception {
    Path ck = tmp.resolve("ck");
    Path model = tmp.resolve("model");
    System.out.println(
        runChild(tmp.resolve("init.log"), "init", "--profile", "large", "--out", ck.toString()));
    assertTrue(
        Files.size(ck.resolve("model.safetensors")) > (2L << 30), "checkpoint larger than 2 GiB");
    String export =
        runChild(
            tmp.resolve("export.log"),
            "export",
            "--checkpoint",
            ck.toString(),
            "--out",
            model.toString(),
            "--profile",
            "large");
    System.out.println(export);
    assertTrue(Files.size(model.resolve("model.data")) >= (2L << 30), "values in external data");
    assertTrue(
        Files.size(model.resolve("model.reference.onnx")) < (64L << 20),
        "the graph itself stays small");
    Path report = tmp.resolve("verify.json");
    System.out.println(
        runChild(
            tmp.resolve("verify.log"),
            "verify",
            "--model",
            model.toString(),
            "--backends",
            "golden,ort-reference",
            "--batch",
            "2",
            "--report",
            report.toString()));
    JsonNode r = Profiles.JSON.readTree(Files.readString(report));
    assertTrue(r.get("pass").asBoolean(), r.toString());
    assertEquals(2, r.get("batch").asInt());
    for (File f : tmp.toFile().listFiles()) {
      f.setWritable(true);
    }
  }
}
