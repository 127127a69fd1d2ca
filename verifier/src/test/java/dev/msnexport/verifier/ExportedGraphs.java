package dev.msnexport.verifier;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

  /** How many nodes of the graph in {@code onnx} have the op type {@code opType}. */
  static long count(Path onnx, String opType) throws IOException {
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(onnx));
    return m.getGraph().getNodeList().stream()
        .map(NodeProto::getOpType)
        .filter(opType::equals)
        .count();
  }
}
