package dev.msnexport.cli;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.onnx.Fp16Policy;
import dev.msnexport.profiles.BatchBuckets;
import dev.msnexport.trt.EngineLayers;
import dev.msnexport.trt.EngineMetadata;
import dev.msnexport.trt.TensorRtUnavailableException;
import dev.msnexport.trt.TrtEngine;
import dev.msnexport.trt.TrtException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@code msn-export inspect PLAN}: the sidecar, the IO tensors and TensorRT's layer table of a
 * built engine (the layers need a GPU and TensorRT, like trtexec's --dumpLayerInfo; without them
 * the sidecar is printed and the command fails with exit 4), and for fp16 engines the layers of the
 * float32 scoring path that still touch half precision.
 */
final class EngineInspection {
  private EngineInspection() {}

  static void print(Path plan, boolean layers, PrintStream out) {
    EngineMetadata m =
        EngineMetadata.read(plan); // the plan must exist with its sidecar, which needs no GPU
    out.printf(
        Locale.ROOT,
        "engine %s: %s graph, %s, profile %s, batch %d..%d (opt %d), TensorRT %s, built on %s (sm %s)%n",
        plan,
        m.graph(),
        m.precision(),
        m.profile(),
        m.batch().min(),
        m.batch().max(),
        m.batch().opt(),
        m.tensorRtVersion(),
        m.gpu().name(),
        m.gpu().computeCapability());
    if (m.buckets().size() > 1) {
      out.println(
          "  "
              + m.buckets().size()
              + " optimization profiles (batch buckets), min..max (opt): "
              + BatchBuckets.describe(m.buckets()));
    }
    try (TrtEngine e = TrtEngine.load(plan, null)) {
      out.printf(
          Locale.ROOT,
          "  onnx %s (sha256 %s), plan %.1f MB, activations %.1f MB at the largest batch%n",
          m.onnx().file(),
          m.onnx().sha256(),
          m.planBytes() / 1e6,
          e.activationBytes() / 1e6);
      for (TrtEngine.IoTensor t : e.tensors()) {
        out.printf(
            Locale.ROOT,
            "  %-6s %-28s %-7s %s%n",
            t.input() ? "input" : "output",
            t.name(),
            t.dtype(),
            Arrays.toString(t.engineShape()));
      }
      EngineLayers info = e.layers();
      long half = info.layers().stream().filter(EngineLayers.Layer::touchesHalf).count();
      out.printf(
          Locale.ROOT,
          "  %d engine layers (after fusion), %d with fp16/bf16 data%s%n",
          info.layers().size(),
          half,
          e.detailedLayerInformation()
              ? ""
              : "; the plan was built without detailed profiling verbosity, so types and tactics are unknown");
      if ("fp16".equals(m.precision())) {
        var leaks = info.halfIn(Fp16Policy::inFloat32Scope);
        out.printf(
            Locale.ROOT,
            "  scoring path (blocks.{l}.msn/ but the table readers SparseGather and MsnLayer), pinned to float32: %s%n",
            leaks.isEmpty() ? "all float32" : leaks.size() + " layer(s) touch fp16:");
        for (EngineLayers.Layer l : leaks) {
          out.printf(
              Locale.ROOT,
              "    %s -> %s  %s  %s%n",
              l.inputTypes(),
              l.outputTypes(),
              l.type(),
              l.name());
        }
      }
      if (layers) {
        out.print(info.table(160));
      }
    } catch (TensorRtUnavailableException | TrtException e) {
      throw new BadInputException(
          "cannot load " + plan + " to list its layers: " + e.getMessage(), e);
    }
  }
}
