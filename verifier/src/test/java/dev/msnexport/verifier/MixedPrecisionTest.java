package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.Fp16Policy;
import dev.msnexport.exporter.onnx.MixedPrecision;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.parity.OutputComparison;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.OrtBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fp16 variant that strongly typed TensorRT builds compile (MixedPrecision): which nodes are
 * half, that names and outputs outside the half region are unchanged, that the graph stays valid
 * (topological, every input defined), and that it computes the model within the profile's fp16
 * tolerances (ONNX Runtime on CPU against the float64 golden model).
 */
class MixedPrecisionTest {
  @TempDir Path tmp;

  /** Exports a synthetic small checkpoint (seed) to tmp/out; returns the checkpoint directory. */
  private Path exportSmall(long seed) {
    Path ck = tmp.resolve("ck");
    SyntheticCheckpoint.write(Profiles.load("small").model(), ck, seed);
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c,
          tmp.resolve("out"),
          new MsnOnnxExporter.Options(
              DType.F32, MsnOnnxExporter.ExternalData.NEVER, true, "small"));
    }
    return ck;
  }

  @Test
  void halfRegionIsTheFfnAndTheHeadsAndTheGraphStaysValid() throws Exception {
    Profile p = Profiles.load("small");
    exportSmall(5);
    Path out = tmp.resolve("out");
    for (String f : List.of(MsnOnnxExporter.CUSTOM_FILE, MsnOnnxExporter.REFERENCE_FILE)) {
      ModelProto plain = OnnxTensors.read(out.resolve(f));
      ModelProto mixed = MixedPrecision.fp16Variant(plain);
      Set<String> defined = new HashSet<>();
      mixed.getGraph().getInitializerList().forEach(t -> defined.add(t.getName()));
      mixed.getGraph().getInputList().forEach(v -> defined.add(v.getName()));
      int halfMatMuls = 0;
      for (NodeProto n : mixed.getGraph().getNodeList()) {
        for (String in : n.getInputList()) {
          assertTrue(
              in.isEmpty() || defined.contains(in),
              f + ": " + n.getName() + " reads " + in + " before it is defined");
        }
        defined.addAll(n.getOutputList());
        boolean readsHalf = n.getInputList().stream().anyMatch(s -> s.endsWith(".fp16"));
        String name = n.getName();
        if (n.getOpType().equals("Cast")) {
          continue;
        }
        if (name.contains(".msn/") && !n.getOpType().equals("SparseGather")) {
          assertFalse(
              readsHalf, f + ": the scoring path stays float32: " + name + " " + n.getInputList());
        }
        if (n.getOpType().equals("SparseGather")) {
          assertTrue(n.getInput(0).endsWith(".fp16"), "SparseGather reads an fp16 value table");
          assertFalse(
              n.getInput(2).endsWith(".fp16"), "and float32 weights (so its output stays float32)");
        }
        if (n.getOpType().equals("LayerNormalization")
            || name.startsWith("blocks.") && name.contains(".mix/")) {
          assertFalse(readsHalf, f + ": the residual stream stays float32: " + name);
        }
        if (name.contains(".ffn/MatMul")
            || name.startsWith("heads.") && n.getOpType().equals("MatMul")) {
          assertTrue(
              n.getInputList().stream().allMatch(s -> s.endsWith(".fp16")),
              f + ": " + name + " " + n.getInputList());
          halfMatMuls++;
        }
      }
      assertEquals(2 * p.model().L() + 2 * p.model().tasks().size(), halfMatMuls, f);
      assertEquals(
          plain.getGraph().getOutputList().stream().map(ValueInfoProto::getName).toList(),
          mixed.getGraph().getOutputList().stream().map(ValueInfoProto::getName).toList(),
          "graph outputs unchanged");
      Set<String> plainTensors = new HashSet<>();
      OnnxTensors.list(plain).forEach(t -> plainTensors.add(t.name()));
      for (OnnxTensors.Tensor t : OnnxTensors.list(mixed)) {
        if (!t.name().endsWith(".fp16")) {
          assertTrue(plainTensors.contains(t.name()), "no new float32 tensor names: " + t.name());
          assertTrue(
              t.elemType() != TensorProto.DataType.FLOAT16_VALUE, t.name() + " keeps its type");
        }
      }
    }
  }

  @Test
  void fusedLayerReadsAnFp16TableAndEverythingElseInFloat32() throws Exception {
    Path ck = tmp.resolve("ck");
    SyntheticCheckpoint.write(Profiles.load("small").model(), ck, 7);
    Path out = tmp.resolve("fused");
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c,
          out,
          new MsnOnnxExporter.Options(
              DType.F32,
              MsnOnnxExporter.ExternalData.NEVER,
              true,
              "small",
              MsnOnnxExporter.DEFAULT_SCORING_SPLIT_K,
              true));
    }
    ModelProto mixed =
        MixedPrecision.fp16Variant(OnnxTensors.read(out.resolve(MsnOnnxExporter.CUSTOM_FILE)));
    int layers = 0;
    for (NodeProto n : mixed.getGraph().getNodeList()) {
      if (!n.getOpType().equals("MsnLayer")) {
        continue;
      }
      layers++;
      for (int i = 0; i < n.getInputCount(); i++) {
        assertEquals(
            i == 9,
            n.getInput(i).endsWith(".fp16"),
            n.getName() + " input " + i + " " + n.getInput(i) + ": only the table (9) is fp16");
      }
    }
    assertEquals(Profiles.load("small").model().L(), layers);
    // inspect's float32-scope check: the table readers may touch fp16, the rest of the path not
    assertFalse(Fp16Policy.inFloat32Scope("blocks.0.msn/MsnLayer_1"));
    assertFalse(Fp16Policy.inFloat32Scope("blocks.1.msn/SparseGather_1"));
    assertTrue(Fp16Policy.inFloat32Scope("blocks.0.msn/PKMRetrieval_1"));
    assertTrue(Fp16Policy.inFloat32Scope("blocks.1.msn/MatMul_1"));
  }

  @Test
  void fp16VariantComputesTheModel() throws Exception {
    Profile p = Profiles.load("small");
    Path ck = exportSmall(6);
    Path out = tmp.resolve("out");
    try (Checkpoint c = Checkpoint.open(ck)) {
      Path mixed = out.resolve("model.reference.fp16.onnx");
      Files.write(
          mixed,
          MixedPrecision.fp16Variant(OnnxTensors.read(out.resolve(MsnOnnxExporter.REFERENCE_FILE)))
              .toByteArray());
      List<Backend> backends =
          List.of(new GoldenBackend(c), new OrtBackend("ort-fp16", mixed, false, 1));
      try {
        VerifyReport r =
            Verifier.run(
                new Verifier.Subject(
                    out.toString(), "small", "fp16", backends, Inputs.random(p.model(), 32, 6), 6),
                new Verifier.Tolerances(p.tolerance("fp16"), Map.of(), Map.of()));
        for (VerifyReport.Comparison cmp : r.comparisons()) {
          for (OutputComparison o : cmp.outputs()) {
            System.out.printf(
                java.util.Locale.ROOT,
                "fp16 variant vs golden %s max_abs %.3g%n",
                o.name(),
                o.max_abs());
          }
        }
        assertTrue(r.pass(), () -> Profiles.toJson(r));
      } finally {
        backends.forEach(Backend::close);
      }
    }
  }
}
