package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** export --values-dtype int8|fp8 then verify: the quantization report, and a bad manifest. */
class QuantizedExportCliTest {
  @TempDir Path tmp;

  @Test
  void int8ExportVerifiesWithAQuantizationReportAndABadManifestIsExit4() throws Exception {
    Path ck = tmp.resolve("ck");
    Path out = tmp.resolve("out");
    Path report = tmp.resolve("report.json");
    assertEquals(0, cli("init --profile tiny --out {}", ck).code());
    CliRun e = export(ck, out, "int8");
    assertEquals(0, e.code(), e.err());
    CliRun v = cli("verify --model {} --report {}", out, report);
    assertEquals(0, v.code(), v.err());
    JsonNode q = Profiles.JSON.readTree(report.toFile()).get("quantization");
    assertTrue(q.get("pass").asBoolean() && q.get("layers").size() == 2, q.toString());

    Path manifest = out.resolve("manifest.json");
    String m = Files.readString(manifest);
    Files.writeString(manifest, m.replace("\"int8\"", "\"int3\""));
    CliRun bad = cli("verify --model {}", out);
    assertEquals(ExitCodes.BAD_INPUT, bad.code(), bad.err());
    assertTrue(bad.err().contains("'values_dtype'") && bad.err().contains("int3"), bad.err());

    // a manifest that hides the quantization: the golden model then reads the checkpoint's table
    Files.writeString(manifest, m.replace("\"int8\"", "\"fp32\""));
    CliRun hidden = cli("verify --model {}", out);
    assertEquals(ExitCodes.PARITY_FAILURE, hidden.code(), hidden.err());
  }

  @Test
  void fusedMsnLayerWithQuantizedTablesIsRefusedBeforeAnythingIsWritten() throws Exception {
    Path ck = tmp.resolve("ck");
    assertEquals(0, cli("init --profile tiny --out {}", ck).code());
    for (String dtype : new String[] {"int8", "fp8"}) {
      Path out = tmp.resolve("fused-" + dtype);
      CliRun e = export(ck, out, dtype, "--fuse-msn-layer");
      assertEquals(ExitCodes.BAD_INPUT, e.code(), e.err());
      assertTrue(
          e.err().contains("--fuse-msn-layer") && e.err().contains("--values-dtype " + dtype),
          e.err());
      assertTrue(!Files.exists(out.resolve("manifest.json")), "nothing written to " + out);
    }
  }

  private static CliRun export(Path ck, Path out, String dtype, String... more) throws Exception {
    java.util.List<String> args =
        new java.util.ArrayList<>(
            java.util.List.of(
                "export",
                "--checkpoint",
                ck.toString(),
                "--out",
                out.toString(),
                "--values-dtype"));
    args.add(dtype);
    args.addAll(java.util.List.of(more));
    return run(args.toArray(String[]::new));
  }
}
