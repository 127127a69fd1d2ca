package dev.msnexport.verifier.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.verifier.io.GoldenFile;
import dev.msnexport.verifier.io.Npy;
import dev.msnexport.verifier.io.PolygraphyJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Coverage-guided fuzzing of the golden-file readers behind {@code verify --golden}
 * (docs/robustness.md). The same bytes are read as a safetensors golden file, as Polygraphy
 * RunResults JSON (beside a valid inputs file), as Polygraphy's inputs JSON, and as a bare {@code
 * .npy} array. Each read either fails with a {@link BadInputException} that names its source, or
 * gives tensors whose shapes match their values.
 */
class GoldenFilesFuzzTest {
  private static final Path DIR = scratchDir();
  private static final Path SAFETENSORS = DIR.resolve("golden.safetensors");
  private static final Path RESULTS = DIR.resolve("golden.json");

  private static Path scratchDir() {
    try {
      Path dir = Files.createTempDirectory("msn-fuzz-golden");
      dir.toFile().deleteOnExit();
      // a valid inputs file beside RESULTS, so results parsing gets past the inputs check
      Path inputs = dir.resolve("golden.inputs.json");
      HostTensor t = HostTensor.ofFloats("tokens", new long[] {1, 2}, new float[] {0.5f, -1f});
      Files.writeString(
          inputs,
          "[{\"tokens\": {\"array\": \""
              + java.util.Base64.getEncoder().encodeToString(Npy.write(t, Npy.Type.F4))
              + "\", \"polygraphy_class\": \"ndarray\"}}]");
      for (Path p :
          new Path[] {inputs, dir.resolve("golden.safetensors"), dir.resolve("golden.json")}) {
        p.toFile().deleteOnExit();
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest
  @DictionaryEntries({
    "\"__metadata__\"",
    "\"format\"",
    "\"msn-export.golden/1\"",
    "\"inputs.tokens\"",
    "\"outputs.click\"",
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "\"F32\"",
    "\"F64\"",
    "\"I64\"",
    "\"polygraphy_class\"",
    "\"RunResults\"",
    "\"lst\"",
    "\"IterationResult\"",
    "\"outputs\"",
    "\"LazyArray\"",
    "\"LazyNumpyArray\"",
    "\"values\"",
    "\"ndarray\"",
    "\"array\"",
    "__polygraphy_encoded_",
    "\u0093NUMPY",
    "'descr'",
    "'fortran_order'",
    "'shape'",
    "'<f4'",
    "'<f8'",
    "'<i8'",
    "'>f8'",
    "False",
    "True"
  })
  void goldenFiles(byte[] data) throws IOException {
    Files.write(SAFETENSORS, data);
    try {
      check(GoldenFile.read(SAFETENSORS));
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains(SAFETENSORS.toString()),
          "the message names the file: " + e.getMessage());
    }
    Files.write(RESULTS, data);
    try {
      check(GoldenFile.read(RESULTS));
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains(RESULTS.toString()),
          "the message names the file: " + e.getMessage());
    }
    try {
      PolygraphyJson.readInputs(RESULTS).values().forEach(GoldenFilesFuzzTest::check);
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains(RESULTS.toString()),
          "the message names the file: " + e.getMessage());
    }
    try {
      check(Npy.read("x", data, "fuzz.npy"));
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains("fuzz.npy"), "the message names the source: " + e.getMessage());
    }
  }

  private static void check(GoldenFile g) {
    for (Map<String, HostTensor> m : java.util.List.of(g.inputs(), g.outputs())) {
      m.forEach(
          (name, t) -> {
            assertEquals(name, t.name());
            check(t);
          });
    }
  }

  private static void check(HostTensor t) {
    long n = 1;
    for (long d : t.shape()) {
      assertTrue(d >= 0, t + ": negative dimension");
      n = Math.multiplyExact(n, d);
    }
    assertEquals(n, t.size(), t + ": values for its shape");
  }
}
