package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import dev.msnexport.ops.OpTable;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.ILayer;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.ITensor;
import org.bytedeco.tensorrt.nvonnxparser.IParser;
import org.bytedeco.tensorrt.nvonnxparser.IParserError;

/**
 * A TensorRT network parsed from an ONNX file by path (so external data resolves), explicit batch,
 * strongly typed on request; intermediate tensors can be marked as extra outputs. The network is
 * owned by the caller ({@link TrtObjects#delete}).
 */
final class NetworkFromOnnx {
  private NetworkFromOnnx() {}

  /**
   * @param parsed the file TensorRT parses (the export's graph or its fp16 variant)
   * @param onnx the export's graph, named in messages
   * @param plugins where our plugin library came from (custom graph), else null
   */
  static INetworkDefinition parse(
      IBuilder builder,
      Path parsed,
      Path onnx,
      String graph,
      boolean stronglyTyped,
      PluginLibrary.Located plugins,
      PrintStream log) {
    TrtLogger logger = TrtLogger.get();
    // explicit batch (the only mode in TensorRT 10); weakly typed unless strongly typed fp16
    INetworkDefinition network =
        TrtObjects.own(
            builder.createNetworkV2(
                stronglyTyped
                    ? 1 << nvinfer.NetworkDefinitionCreationFlag.kSTRONGLY_TYPED.value
                    : 0));
    // The parser cannot be freed through these bindings (no JavaCPP allocator for the abstract
    // IParser): it and its copy of the weights stay allocated until the process exits.
    IParser parser = nvonnxparser.createParser(network, logger);
    if (parser == null || parser.isNull()) {
      TrtObjects.delete(network);
      throw new TrtException("createParser failed" + logger.describeErrors());
    }
    log.printf(Locale.ROOT, "build: parsing %s (%s graph)%n", onnx, graph);
    if (!parser.parseFromFile(
        parsed.toAbsolutePath().toString(),
        org.bytedeco.tensorrt.nvinfer.ILogger.Severity.kWARNING.value)) {
      TrtObjects.delete(network);
      throw new BadInputException(
          "TensorRT's ONNX parser rejected "
              + onnx
              + ": "
              + parserErrors(parser)
              + (plugins != null ? " (plugins loaded from " + plugins.source() + ")" : ""));
    }
    return network;
  }

  /**
   * Marks the named tensors as network outputs: each must be the output of a layer of the parsed
   * network, which TensorRT's ONNX parser names after the ONNX node output; an unknown name is bad
   * input naming it and the ONNX file.
   */
  static void markOutputs(INetworkDefinition network, List<String> names, Path onnx) {
    if (names.isEmpty()) {
      return;
    }
    Map<String, ITensor> byName = new HashMap<>();
    for (int i = 0; i < network.getNbLayers(); i++) {
      ILayer layer = network.getLayer(i);
      for (int o = 0; o < layer.getNbOutputs(); o++) {
        byName.putIfAbsent(layer.getOutput(o).getName(), layer.getOutput(o));
      }
    }
    for (String name : names) {
      ITensor t = byName.get(name);
      if (t == null) {
        throw new BadInputException(
            "tensor '" + name + "' is not the output of any layer TensorRT parsed from " + onnx);
      }
      if (!t.isNetworkOutput()) {
        network.markOutput(t);
      }
    }
  }

  private static String parserErrors(IParser parser) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < parser.getNbErrors(); i++) {
      IParserError e = parser.getError(i);
      String node =
          e.nodeName() == null || e.nodeName().isEmpty()
              ? "node " + e.node()
              : "node '" + e.nodeName() + "'";
      String op =
          e.nodeOperator() == null || e.nodeOperator().isEmpty()
              ? ""
              : " (" + e.nodeOperator() + ")";
      out.add(node + op + ": " + e.desc());
    }
    String s = out.isEmpty() ? "no error details" : String.join("; ", out);
    if (s.contains("Plugin not found")
        || OpTable.standard().names().stream().anyMatch(s::contains)) {
      s +=
          " (the custom graph needs our plugin library: it is loaded from the trt-plugins jar, or -Dmsn.trt.plugins=PATH)";
    }
    return s;
  }
}
