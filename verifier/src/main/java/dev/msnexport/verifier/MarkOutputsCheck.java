package dev.msnexport.verifier;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.profiles.Profile;
import dev.msnexport.verifier.backend.BackendSpec;
import dev.msnexport.verifier.backend.TrtSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks {@code --mark-outputs} before anything runs: no {@code --engine} with a TensorRT backend
 * (a prebuilt plan lacks the marked outputs), and every name a node output of every graph a listed
 * backend runs. The two graphs share the names of the token mixing, the FFN, the LayerNorms and the
 * MSN query and scoring, but not all inside {@code blocks.{l}.msn} (their retrieval ops, the gate's
 * Mul): the message says when a name is only in the other graph.
 */
final class MarkOutputsCheck {
  private MarkOutputsCheck() {}

  static void check(
      ExportedModel m, List<BackendSpec> specs, List<String> marks, TrtSettings trt, Profile p) {
    if (marks.isEmpty()) {
      return;
    }
    Map<Path, List<String>> graphs = new LinkedHashMap<>();
    for (BackendSpec b : specs) {
      if (b.isTrt() && trt.engine() != null) {
        throw new BadInputException(
            "--engine "
                + trt.engine()
                + " cannot be used with --mark-outputs: a prebuilt plan lacks the "
                + "marked outputs (leave out --engine: "
                + b
                + " then builds a temporary engine that has them)");
      }
      Path graph = trt.onnxOf(b, m, p);
      if (graph != null) {
        graphs.computeIfAbsent(graph, g -> new ArrayList<>()).add(b.format());
      }
    }
    for (Map.Entry<Path, List<String>> e : graphs.entrySet()) {
      Path file = e.getKey();
      ModelProto model = OnnxTensors.read(file);
      Set<String> known = new HashSet<>();
      OnnxTensors.list(model).forEach(t -> known.add(t.name()));
      for (String name : marks) {
        if (!known.contains(name)) {
          throw notANodeOutput(m, file, e.getValue(), name);
        }
      }
      OnnxTensors.requireMarkable(model, marks, file.toString());
    }
  }

  private static BadInputException notANodeOutput(
      ExportedModel m, Path file, List<String> backends, String name) {
    Path other = file.equals(m.custom()) ? m.reference() : m.custom();
    boolean inOther =
        Files.isRegularFile(other)
            && OnnxTensors.list(OnnxTensors.read(other)).stream()
                .anyMatch(t -> t.name().equals(name));
    return new BadInputException(
        "--mark-outputs: tensor '"
            + name
            + "' is not a node output of "
            + file
            + " (backend "
            + String.join(", ", backends)
            + ")"
            + (inOther
                ? "; it is one of "
                    + other
                    + " only (inside blocks.{l}.msn the "
                    + "graphs differ: their retrieval ops, and the names of some nodes such as the"
                    + " gate's Mul), so mark it with backends of that graph only"
                : "")
            + " ('msn-export inspect "
            + file
            + " --tensors' lists them)");
  }
}
