package dev.msnexport.cli;

import static dev.msnexport.cli.CliRun.cli;
import static dev.msnexport.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A profile's {@code values_dtype} is what init writes and export stores when no --values-dtype is
 * given (the xl profile's fp16 tables without options); --values-dtype still wins.
 */
class ValuesDtypeDefaultTest {
  @TempDir Path tmp;

  private Path halfTiny() throws Exception {
    Path f = tmp.resolve("tiny-fp16.json");
    Files.writeString(
        f,
        Profiles.toJson(Profiles.load("tiny"))
            .replace("\"values_dtype\" : null", "\"values_dtype\" : \"fp16\""));
    assertEquals("fp16", Profiles.load(f.toString()).defaultValuesDtype());
    return f;
  }

  private String exportedDtype(Path ck, Path out, String... extra) throws Exception {
    String[] args = CliRun.args("export --checkpoint {} --out {} --quiet", ck, out);
    String[] all =
        java.util.stream.Stream.concat(
                java.util.Arrays.stream(args), java.util.Arrays.stream(extra))
            .toArray(String[]::new);
    CliRun r = run(all);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    JsonNode m = Profiles.JSON.readTree(Files.readString(out.resolve("manifest.json")));
    return m.get("values_dtype").asText();
  }

  @Test
  void theProfilesValuesDtypeIsTheDefaultOfInitAndExport() throws Exception {
    Path profile = halfTiny();
    Path ck = tmp.resolve("ck");
    CliRun r = cli("init --profile {} --out {} --quiet", profile, ck);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    try (Checkpoint c = Checkpoint.open(ck, null)) {
      assertEquals(DType.F16, c.tensor("blocks.0.msn.values").dtype());
      assertEquals(DType.F32, c.tensor("blocks.0.msn.query.weight").dtype());
    }
    assertEquals("fp16", exportedDtype(ck, tmp.resolve("a"), "--profile", profile.toString()));
    assertEquals(
        "fp32",
        exportedDtype(
            ck, tmp.resolve("b"), "--profile", profile.toString(), "--values-dtype", "fp32"));
    // no --profile: the checkpoint is tiny's model, and tiny has no values_dtype
    assertEquals("fp32", exportedDtype(ck, tmp.resolve("c")));
  }

  @Test
  void aBuiltInProfileIsFoundFromTheCheckpointConfig() throws Exception {
    Path ck = tmp.resolve("ck");
    Files.createDirectories(ck);
    Files.writeString(
        ck.resolve(Checkpoint.CONFIG_FILE), Profiles.toJson(Profiles.load("xl").model()));
    assertEquals(Choices.ValuesDtype.fp16, ValuesDtypeDefault.of(null, ck));
    Files.writeString(
        ck.resolve(Checkpoint.CONFIG_FILE), Profiles.toJson(Profiles.load("paper").model()));
    assertEquals(Choices.ValuesDtype.fp32, ValuesDtypeDefault.of(null, ck));
    assertEquals(Choices.ValuesDtype.fp16, ValuesDtypeDefault.of("xl", ck));
  }
}
