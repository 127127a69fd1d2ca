package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.ILayer;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.ITensor;

/**
 * In weakly typed fp16 engines (the reference graph; plugin engines are strongly typed, see {@link
 * PrecisionPolicy}), asks TensorRT to keep in float32 the layers the graph's precision policy names
 * ({@link PrecisionPolicy#float32Layers}: for our exports the MSN scoring path) and the residual
 * stream (every normalization layer and the residual sum before it), as mixed precision training
 * does.
 *
 * <p>The weights those layers read come from constant layers that the parser names after their
 * initializers, not after a node, so a name test misses them; a constant layer left free may be
 * stored in fp16 and cast up, which rounds every key to 11 bits. So every weight-only layer (a
 * constant, or a layer whose inputs all come from weight-only layers) that feeds a pinned layer is
 * pinned too.
 */
final class Float32Pins {
  /** What was pinned: compute layers, and the weight-only layers that feed them. */
  record Pinned(int layers, int weights) {}

  private final INetworkDefinition network;
  private final int n;
  private final Map<Long, Integer> producer = new HashMap<>();

  private Float32Pins(INetworkDefinition network) {
    this.network = network;
    this.n = network.getNbLayers();
    for (int i = 0; i < n; i++) {
      ILayer layer = network.getLayer(i);
      for (int o = 0; o < layer.getNbOutputs(); o++) {
        producer.put(layer.getOutput(o).address(), i);
      }
    }
  }

  /** Pins the layers {@code inScope} names, the residual stream and their weights to float32. */
  static Pinned pin(INetworkDefinition network, Predicate<String> inScope) {
    return new Float32Pins(network).pin(inScope);
  }

  private Pinned pin(Predicate<String> inScope) {
    Set<Integer> residual = residualSums();
    boolean[] weightOnly = weightOnly();
    boolean[] pin = new boolean[n];
    for (int i = 0; i < n; i++) {
      ILayer layer = network.getLayer(i);
      boolean stream =
          layer.getType().value == nvinfer.LayerType.kNORMALIZATION.value || residual.contains(i);
      pin[i] = (inScope.test(layer.getName()) || stream) && !weightOnly[i];
    }
    // Walk back from the pinned layers through weight-only producers (consumers come after
    // producers).
    boolean[] pinWeight = new boolean[n];
    for (int i = n - 1; i >= 0; i--) {
      if (pin[i] || pinWeight[i]) {
        ILayer layer = network.getLayer(i);
        for (int j = 0; j < layer.getNbInputs(); j++) {
          Integer p = producerOf(layer.getInput(j));
          if (p != null && weightOnly[p]) {
            pinWeight[p] = true;
          }
        }
      }
    }
    int layers = 0;
    int weights = 0;
    for (int i = 0; i < n; i++) {
      if (pin[i] && pinToFloat32(network.getLayer(i))) {
        layers++;
      } else if (pinWeight[i] && pinToFloat32(network.getLayer(i))) {
        weights++;
      }
    }
    if (layers == 0 && Boolean.getBoolean("msn.trt.debugLayers")) {
      StringBuilder seen = new StringBuilder();
      for (int i = 0; i < Math.min(n, 60); i++) {
        seen.append(i == 0 ? "" : ", ").append(network.getLayer(i).getName());
      }
      System.err.println("build: no layer in the float32 scope; layers: " + seen);
    }
    return new Pinned(layers, weights);
  }

  /** The elementwise layers whose output a normalization layer reads: x + mix(x), x + ffn(x). */
  private Set<Integer> residualSums() {
    Set<Integer> residual = new HashSet<>();
    for (int i = 0; i < n; i++) {
      ILayer layer = network.getLayer(i);
      if (layer.getType().value == nvinfer.LayerType.kNORMALIZATION.value
          && layer.getNbInputs() > 0) {
        Integer p = producerOf(layer.getInput(0));
        if (p != null
            && network.getLayer(p).getType().value == nvinfer.LayerType.kELEMENTWISE.value) {
          residual.add(p);
        }
      }
    }
    return residual;
  }

  /** Weight-only layers, in network order (the parser adds a layer after its inputs' producers). */
  private boolean[] weightOnly() {
    boolean[] weightOnly = new boolean[n];
    for (int i = 0; i < n; i++) {
      ILayer layer = network.getLayer(i);
      if (layer.getType().value == nvinfer.LayerType.kCONSTANT.value) {
        weightOnly[i] = true;
        continue;
      }
      boolean all = layer.getNbInputs() > 0;
      for (int j = 0; j < layer.getNbInputs() && all; j++) {
        Integer p = producerOf(layer.getInput(j));
        all = p != null && weightOnly[p];
      }
      weightOnly[i] = all;
    }
    return weightOnly;
  }

  private Integer producerOf(ITensor in) {
    return in == null || in.isNull() ? null : producer.get(in.address());
  }

  /**
   * Float32 compute and float32 floating outputs for one layer; false when it has no floating
   * output.
   */
  private static boolean pinToFloat32(ILayer layer) {
    int fp32 = nvinfer.DataType.kFLOAT.value;
    int fp16 = nvinfer.DataType.kHALF.value;
    boolean floating = false;
    for (int o = 0; o < layer.getNbOutputs(); o++) {
      int t = layer.getOutput(o).getType().value;
      if (t == fp32 || t == fp16) {
        layer.setOutputType(o, nvinfer.DataType.kFLOAT);
        floating = true;
      }
    }
    if (floating) {
      layer.setPrecision(nvinfer.DataType.kFLOAT);
    }
    return floating;
  }

  /**
   * How weakly typed fp16 builds treat the pins ({@link
   * EngineBuilder#PRECISION_CONSTRAINTS_PROPERTY}): obey (true) or prefer (false, the default).
   */
  static boolean obeyPrecisionConstraints() {
    String v = System.getProperty(EngineBuilder.PRECISION_CONSTRAINTS_PROPERTY, "prefer");
    return switch (v) {
      case "obey" -> true;
      case "prefer" -> false;
      default ->
          throw new BadInputException(
              "-D"
                  + EngineBuilder.PRECISION_CONSTRAINTS_PROPERTY
                  + " must be obey or prefer, got '"
                  + v
                  + "'");
    };
  }
}
