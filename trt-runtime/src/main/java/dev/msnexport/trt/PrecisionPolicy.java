package dev.msnexport.trt;

import dev.msnexport.common.AtomicFiles;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Predicate;

/**
 * How an fp16 engine keeps what must stay float32, as the graph's owner decides it (for our exports
 * the exporter's {@code Fp16Policy}; this module knows no node name):
 *
 * @param stronglyTypedVariant writes the graph a strongly typed build compiles (explicit casts and
 *     fp16 weights say each layer's precision), or returns null: build the original weakly typed
 *     with {@code float32Layers} pinned
 * @param float32Layers whether a network layer (named after its ONNX node) is pinned to float32 in
 *     weakly typed fp16 builds, besides the residual stream (normalization layers and the residual
 *     sums feeding them), which {@link Float32Pins} finds by layer type
 */
public record PrecisionPolicy(Variant stronglyTypedVariant, Predicate<String> float32Layers) {
  /** Writes the strongly typed fp16 variant of a graph, or says there is none. */
  @FunctionalInterface
  public interface Variant {
    /**
     * @param onnx the graph
     * @param pluginGraph whether it is the custom-op graph (our plugins)
     * @param keepFloat tensors to keep under their names in float32 (marked as outputs)
     * @param scratch where the variant is written (deleted when it closes uncommitted)
     * @return the variant's path, or null: no strongly typed variant
     */
    Path write(Path onnx, boolean pluginGraph, Set<String> keepFloat, AtomicFiles.Batch scratch);
  }
}
