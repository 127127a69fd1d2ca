package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.OrtBackend;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Cross-framework parity on weights that were really trained: the {@code small} checkpoint trained
 * by examples/pytorch (fixtures/small-trained, see its NOTE.md) and PyTorch's own golden outputs
 * (float64) on 16 inputs. The Java golden model and both exported graphs in ONNX Runtime must
 * reproduce them: max abs error at most 1e-5 and identical slots, in order.
 */
class TrainedCheckpointTest {
  static final double ATOL = 1e-5;

  @TempDir Path tmp;

  static Path fixture() {
    try {
      return Path.of(
              TrainedCheckpointTest.class
                  .getResource("/fixtures/small-trained/config.json")
                  .toURI())
          .getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void goldenFileHasTheAgreedFormat() {
    try (Checkpoint c = Checkpoint.open(fixture());
        SafetensorsFile g = SafetensorsFile.open(fixture().resolve("golden.safetensors"))) {
      ModelConfig m = c.config();
      assertEquals(Profiles.load("small").model(), m, "the fixture is the small profile's model");
      assertEquals("msn-export.golden/1", g.metadata().get("format"));
      assertEquals("pytorch", g.metadata().get("producer"));
      TensorView tokens = g.tensor("inputs.tokens");
      assertEquals(DType.F32, tokens.dtype());
      assertArrayEquals(new long[] {16, m.T(), m.D()}, tokens.shape());
      for (String task : m.tasks()) {
        assertEquals(DType.F32, g.tensor("outputs." + task).dtype());
        assertArrayEquals(new long[] {16, 1}, g.tensor("outputs." + task).shape());
      }
      for (int l : m.msnLayers()) {
        assertEquals(DType.I64, g.tensor("outputs.retrieval." + l + ".slots").dtype());
        assertArrayEquals(
            new long[] {16, m.T(), m.k()}, g.tensor("outputs.retrieval." + l + ".slots").shape());
        assertEquals(DType.F32, g.tensor("outputs.retrieval." + l + ".weights").dtype());
      }
      assertEquals(3 + 2 * m.msnLayers().size(), g.tensors().size());
    }
  }

  /** Which implementation reproduces PyTorch's outputs. */
  enum Impl {
    GOLDEN,
    ORT_REFERENCE,
    ORT_CUSTOM
  }

  @ParameterizedTest
  @EnumSource(Impl.class)
  void matchesPyTorchOnTheGoldenInputs(Impl impl) {
    Path model = tmp.resolve("model");
    try (Checkpoint c = Checkpoint.open(fixture());
        SafetensorsFile g = SafetensorsFile.open(fixture().resolve("golden.safetensors"))) {
      MsnOnnxExporter.export(
          c,
          model,
          new MsnOnnxExporter.Options(
              DType.F32, MsnOnnxExporter.ExternalData.NEVER, true, "small"));
      Function<Path, Backend> open =
          dir ->
              switch (impl) {
                case GOLDEN -> new GoldenBackend(c);
                case ORT_REFERENCE ->
                    new OrtBackend(
                        OrtBackend.REFERENCE,
                        dir.resolve(MsnOnnxExporter.REFERENCE_FILE),
                        false,
                        1);
                case ORT_CUSTOM ->
                    new OrtBackend(
                        OrtBackend.CUSTOM, dir.resolve(MsnOnnxExporter.CUSTOM_FILE), true, 1);
              };
      try (Backend b = open.apply(model)) {
        Map<String, HostTensor> out = b.infer(goldenInputs(g));
        // the golden model is float64 like PyTorch's outputs: only their float32 storage differs
        assertMatches(c.config(), g, out, impl == Impl.GOLDEN ? 1e-7 : ATOL, impl.name());
      }
    }
  }

  static Map<String, HostTensor> goldenInputs(SafetensorsFile g) {
    TensorView t = g.tensor("inputs.tokens");
    return Map.of(
        MsnOnnxExporter.INPUT,
        HostTensor.ofFloats(MsnOnnxExporter.INPUT, t.shape(), t.toFloatArray()));
  }

  /** Task outputs and retrieval weights within {@code atol}; slots identical, in order. */
  static void assertMatches(
      ModelConfig m, SafetensorsFile g, Map<String, HostTensor> out, double atol, String who) {
    for (String task : m.tasks()) {
      double err = maxAbs(g.tensor("outputs." + task), out.get(task));
      assertTrue(err <= atol, who + " " + task + ": max abs error " + err + " vs PyTorch");
    }
    for (int l : m.msnLayers()) {
      TensorView slots = g.tensor("outputs.retrieval." + l + ".slots");
      HostTensor got = out.get(MsnOnnxExporter.slotsOutput(l));
      assertArrayEquals(slots.shape(), got.shape(), who + " slots shape");
      for (int i = 0; i < got.size(); i++) {
        int q = i / m.k();
        assertEquals(
            slots.getLong(i),
            (long) got.get(i),
            who
                + " layer "
                + l
                + " query "
                + q
                + " (sample "
                + q / m.T()
                + ", token "
                + q % m.T()
                + ") position "
                + i % m.k()
                + ": slot differs from PyTorch's");
      }
      double err =
          maxAbs(
              g.tensor("outputs.retrieval." + l + ".weights"),
              out.get(MsnOnnxExporter.weightsOutput(l)));
      assertTrue(
          err <= atol,
          who + " layer " + l + " retrieval weights: max abs error " + err + " vs PyTorch");
    }
  }

  static double maxAbs(TensorView want, HostTensor got) {
    assertArrayEquals(want.shape(), got.shape(), got.name() + " shape");
    double m = 0;
    for (int i = 0; i < got.size(); i++) {
      m = Math.max(m, Math.abs(want.getDouble(i) - got.get(i)));
    }
    return m;
  }

  /**
   * A bf16 (and an fp16) checkpoint exports, and its graph computes what the golden model computes
   * from the same weights.
   */
  @ParameterizedTest
  @EnumSource(
      value = DType.class,
      names = {"BF16", "F16"})
  void halfPrecisionCheckpointExportsWithParity(DType dtype) {
    Path ck = tmp.resolve("ck-" + dtype);
    SyntheticCheckpoint.write(Profiles.load("small").model(), ck, 11, dtype);
    try (Checkpoint c = Checkpoint.open(ck)) {
      assertEquals(dtype, c.tensor("blocks.0.msn.values").dtype());
      assertEquals(dtype, c.tensor("blocks.1.ffn.w1").dtype());
      Path out = tmp.resolve("m-" + dtype);
      MsnOnnxExporter.export(
          c,
          out,
          new MsnOnnxExporter.Options(
              DType.F32, MsnOnnxExporter.ExternalData.NEVER, true, "small"));
      try (Backend golden = new GoldenBackend(c);
          Backend ort =
              new OrtBackend(
                  OrtBackend.REFERENCE, out.resolve(MsnOnnxExporter.REFERENCE_FILE), false, 1)) {
        var report =
            Verifier.run(
                new Verifier.Subject(
                    out.toString(),
                    "small",
                    "fp32",
                    java.util.List.of(golden, ort),
                    dev.msnexport.verifier.backend.Inputs.random(c.config(), 8, 3),
                    3),
                new Verifier.Tolerances(
                    Profiles.load("small").tolerance("fp32"), Map.of(), Map.of()));
        // half-precision weights are exact in float32, so the fp32 tolerance holds
        ParityTest.assertExact(report, ATOL);
      }
    }
  }
}
