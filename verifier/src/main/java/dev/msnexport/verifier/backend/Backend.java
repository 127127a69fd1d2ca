package dev.msnexport.verifier.backend;

import dev.msnexport.common.HostTensor;
import dev.msnexport.verifier.latency.FloorModel;
import dev.msnexport.verifier.latency.LayerProfile;
import java.util.List;
import java.util.Map;

/**
 * One way to run the model (in the spirit of Polygraphy's runners): the golden Java model, ONNX
 * Runtime on either graph, or a TensorRT engine. Comparison and timing are written once on top of
 * this interface and never know which backend produced a result.
 *
 * <p>Inputs are {@code tokens [batch, T, D]}; outputs are every model output by name (task
 * probabilities {@code [batch, 1]} and, when exported, {@code retrieval.{l}.slots/weights}).
 */
public interface Backend extends AutoCloseable {
  String name();

  /** Runs one batch; the returned map is in the model's output order. */
  Map<String, HostTensor> infer(Map<String, HostTensor> inputs);

  /**
   * Prepares {@code inputs} once for repeated timing ({@link #runPrepared()}), so that timing
   * measures inference and not input conversion; returns false if the backend cannot.
   */
  default boolean prepare(Map<String, HostTensor> inputs) {
    return false;
  }

  /** Runs the prepared inputs once, discarding outputs. */
  default void runPrepared() {
    throw new UnsupportedOperationException(name() + " has no prepared run");
  }

  /**
   * What the machine this backend runs on can do, for {@code bench}'s floor model, at the precision
   * this backend computes in; null when no floor applies (the golden model, a saved result).
   */
  default FloorModel.Ceilings ceilings() {
    return null;
  }

  /**
   * The model and value-table dtype this backend runs, for the floor model; null: those of the
   * export that {@code bench} was given.
   */
  default FloorModel.Subject floorSubject() {
    return null;
  }

  /** The precision whose bytes and peak the floor model counts: {@code fp32} or {@code fp16}. */
  default String floorPrecision() {
    return "fp32";
  }

  /**
   * Per-layer times of {@code runs} runs on the inputs last given to {@link #prepare}, from the
   * runtime's own profiler (TensorRT's IProfiler), in execution order; null when the backend has
   * none.
   */
  default List<LayerProfile.Layer> layerProfile(int runs) {
    return null;
  }

  @Override
  void close();
}
