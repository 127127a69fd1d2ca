package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench --engine PLAN} (what EngineLatency did: plans built earlier, side by side): a plan
 * given twice is a usage error, a missing plan or a plan without TensorRT is bad input naming it,
 * and nothing is timed (no half-written report). The timing itself needs a GPU (the lead's GPU
 * check: scripts/gpu-check.sh paper).
 */
class BenchEngineCliTest {
  @TempDir Path tmp;

  private Path export() {
    return CliRun.tinyExport(tmp.resolve("ck"), tmp.resolve("m"), "", "");
  }

  @Test
  void planGivenTwiceIsAUsageError() throws Exception {
    Path model = export();
    Path plan = model.resolve("engine.custom.fp32.tiny.plan");
    Files.write(plan, new byte[] {1});
    CliRun r = cli("bench --model {} --engine {} --engine {}", model, plan, plan);
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("given twice"), r.err());
  }

  @Test
  void missingOrUnloadablePlansAreBadInputNamingThePlan() throws Exception {
    Path model = export();
    Path reports = tmp.resolve("bench");
    Path missing = tmp.resolve("nope.plan");
    CliRun r =
        cli("bench --model {} --engine {} --iterations 5 --report-dir {}", model, missing, reports);
    assertEquals(4, r.code(), r.err());
    assertTrue(r.err().contains(missing.toString()), r.err());
    assertTrue(!Files.exists(reports.resolve("report.json")), "nothing reported");
    Path plan = model.resolve("engine.custom.fp32.tiny.plan");
    Files.write(plan, new byte[] {1});
    r = cli("bench --model {} --engine {} --iterations 5", model, plan);
    assertEquals(4, r.code(), r.err()); // no TensorRT here; with TensorRT, the missing sidecar
  }
}
