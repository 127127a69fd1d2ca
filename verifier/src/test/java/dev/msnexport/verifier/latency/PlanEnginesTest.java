package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How bench names {@code --engine} plans and which export each is checked against. */
class PlanEnginesTest {
  @TempDir Path tmp;

  @Test
  void plansAreNamedByFileAndByFolderWhenFileNamesRepeat() {
    assertEquals(
        List.of("a.plan", "b.plan"),
        PlanEngines.labels(List.of(tmp.resolve("x/a.plan"), tmp.resolve("x/b.plan"))));
    assertEquals(
        List.of("split4/e.plan", "split1/e.plan", "x/f.plan"),
        PlanEngines.labels(
            List.of(
                tmp.resolve("split4/e.plan"),
                tmp.resolve("split1/e.plan"),
                tmp.resolve("x/f.plan"))));
    assertThrows(
        IllegalArgumentException.class,
        () -> PlanEngines.labels(List.of(tmp.resolve("a.plan"), tmp.resolve("./a.plan"))));
  }

  @Test
  void aPlanInsideAnExportIsCheckedAgainstThatExport() throws Exception {
    Path other = Files.createDirectories(tmp.resolve("other"));
    Files.writeString(other.resolve(MsnOnnxExporter.MANIFEST_FILE), "{}");
    Path model = tmp.resolve("model");
    assertEquals(other, PlanEngines.exportDirOf(other.resolve("e.plan"), model));
    assertEquals(model, PlanEngines.exportDirOf(tmp.resolve("loose/e.plan"), model));
  }
}
