package dev.msnexport.verifier;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.OrtBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Model variants to export and the counts to check in the graphs that come out. */
final class ExportedGraphs {
  private ExportedGraphs() {}

  /**
   * The built-in profile {@code base} renamed to {@code name} with some model fields changed,
   * written to {@code dir} and read back as a user's profile file is.
   */
  static Profile profileVariant(Path dir, String base, String name, Map<String, ?> model)
      throws IOException {
    ObjectNode json = (ObjectNode) Profiles.JSON.readTree(Profiles.toJson(Profiles.load(base)));
    json.put("name", name);
    ((ObjectNode) json.get("model")).setAll((ObjectNode) Profiles.JSON.valueToTree(model));
    Path file = dir.resolve(name + ".json");
    Files.writeString(file, Profiles.JSON.writeValueAsString(json));
    return Profiles.read(file);
  }

  /** {@code c} with {@code subKeys} sub-keys per half (S) and per-token memory or not. */
  static ModelConfig variant(ModelConfig c, int subKeys, boolean perToken) {
    return new ModelConfig(
        c.T(),
        c.D(),
        c.L(),
        c.msnLayers(),
        subKeys,
        c.k(),
        c.dk(),
        c.scoreScale(),
        c.gate(),
        c.ffnMult(),
        c.headHidden(),
        c.tasks(),
        perToken);
  }

  /**
   * The golden model (computing on value tables of {@code golden}) and ONNX Runtime on both graphs
   * of the export in {@code out}; the caller closes them.
   */
  static List<Backend> goldenAndOrt(Checkpoint c, DType golden, Path out) {
    return List.of(
        new GoldenBackend(c, true, golden),
        new OrtBackend(OrtBackend.REFERENCE, out.resolve(MsnOnnxExporter.REFERENCE_FILE), false, 1),
        new OrtBackend(OrtBackend.CUSTOM, out.resolve(MsnOnnxExporter.CUSTOM_FILE), true, 1));
  }

  /** Every pair of {@code backends} on {@code in}, at the profile's fp32 tolerances. */
  static VerifyReport atFp32(
      Path out, Profile p, DType values, List<Backend> backends, Map<String, HostTensor> in) {
    return Verifier.run(
        new Verifier.Subject(out.toString(), p.name(), values.cliName(), backends, in, 3),
        new Verifier.Tolerances(p.tolerance("fp32"), Map.of(), Map.of()));
  }

  /** How many nodes of the graph in {@code onnx} have the op type {@code opType}. */
  static long count(Path onnx, String opType) throws IOException {
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(onnx));
    return m.getGraph().getNodeList().stream()
        .map(NodeProto::getOpType)
        .filter(opType::equals)
        .count();
  }
}
