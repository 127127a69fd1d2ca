package dev.msnexport.cli;

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
    Path ck = tmp.resolve("ck");
    Path model = tmp.resolve("m");
    assertEquals(
        0, VerifierCliTest.run("init", "--profile", "tiny", "--out", ck.toString()).code());
    assertEquals(
        0,
        VerifierCliTest.run("export", "--checkpoint", ck.toString(), "--out", model.toString())
            .code());
    return model;
  }

  @Test
  void planGivenTwiceIsAUsageError() throws Exception {
    Path model = export();
    Path plan = model.resolve("engine.custom.fp32.tiny.plan");
    Files.write(plan, new byte[] {1});
    VerifierCliTest.Run r =
        VerifierCliTest.run(
            "bench",
            "--model",
            model.toString(),
            "--engine",
            plan.toString(),
            "--engine",
            plan.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("given twice"), r.err());
  }

  @Test
  void missingOrUnloadablePlansAreBadInputNamingThePlan() throws Exception {
    Path model = export();
    Path reports = tmp.resolve("bench");
    Path missing = tmp.resolve("nope.plan");
    VerifierCliTest.Run r =
        VerifierCliTest.run(
            "bench",
            "--model",
            model.toString(),
            "--engine",
            missing.toString(),
            "--iterations",
            "5",
            "--report-dir",
            reports.toString());
    assertEquals(4, r.code(), r.err());
    assertTrue(r.err().contains(missing.toString()), r.err());
    assertTrue(!Files.exists(reports.resolve("report.json")), "nothing reported");
    Path plan = model.resolve("engine.custom.fp32.tiny.plan");
    Files.write(plan, new byte[] {1});
    r =
        VerifierCliTest.run(
            "bench", "--model", model.toString(), "--engine", plan.toString(), "--iterations", "5");
    assertEquals(4, r.code(), r.err()); // no TensorRT here; with TensorRT, the missing sidecar
  }
}
