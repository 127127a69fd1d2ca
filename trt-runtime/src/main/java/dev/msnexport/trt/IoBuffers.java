package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

/**
 * The IO buffers of an engine: per IO tensor a device buffer and a pinned host staging buffer, both
 * sized for the largest shapes of all optimization profiles (so no call allocates), bound once to
 * every execution context that uses them (one per profile, {@link ProfileContexts}: TensorRT 10's
 * tensor names are the same for every profile). Shapes are set and read on the context in use
 * ({@link #use}). Stages host tensors in (shape and type checked against the engine) and reads
 * outputs back. {@link #free} releases device then host buffers.
 */
final class IoBuffers {
  /** An IO tensor's buffers. */
  static final class Slot {
    final String name;
    final boolean input;
    final nvinfer.DataType dtype;
    final int elemBytes;
    final long[] engineShape;
    long[] minShape;
    long[] maxShape;
    long[] shape; // current
    Pointer device;
    Pointer host;
    long capacityBytes;

    Slot(String name, boolean input, nvinfer.DataType dtype, long[] engineShape) {
      this.name = name;
      this.input = input;
      this.dtype = dtype;
      this.elemBytes = HostCopies.elementBytes(name, dtype);
      this.engineShape = engineShape;
    }
  }

  private final Path plan;
  private IExecutionContext context;
  private final CUstream_st stream;
  final List<Slot> slots = new ArrayList<>();

  IoBuffers(Path plan, IExecutionContext context, CUstream_st stream) {
    this.plan = plan;
    this.context = context;
    this.stream = stream;
  }

  /**
   * Allocates buffers for every IO tensor of {@code engine} and binds them to the context (inputs
   * at their largest shapes: the context must be on the profile that holds them); on failure,
   * {@link #free} frees what was allocated.
   */
  void allocate(ICudaEngine engine) {
    for (int i = 0; i < engine.getNbIOTensors(); i++) {
      String name = engine.getIOTensorName(i);
      boolean input = engine.getTensorIOMode(name).value == nvinfer.TensorIOMode.kINPUT.value;
      if (engine.getTensorFormat(name).value != nvinfer.TensorFormat.kLINEAR.value) {
        throw new TrtException(
            "IO tensor '"
                + name
                + "' of "
                + plan
                + " is not in linear format: "
                + engine.getTensorFormatDesc(name));
      }
      Slot s =
          new Slot(
              name,
              input,
              engine.getTensorDataType(name).intern(),
              dims(engine.getTensorShape(name)));
      if (input) {
        s.minShape = profileShape(engine, name, nvinfer.OptProfileSelector.kMIN);
        s.maxShape = profileShape(engine, name, nvinfer.OptProfileSelector.kMAX);
        setShape(s, s.maxShape);
      }
      slots.add(s);
    }
    for (Slot s : slots) {
      bind(s);
    }
  }

  /** The smallest (kMIN) or largest (kMAX) shape of input {@code name} over all profiles. */
  private static long[] profileShape(
      ICudaEngine engine, String name, nvinfer.OptProfileSelector sel) {
    long[] out = null;
    boolean min = sel == nvinfer.OptProfileSelector.kMIN;
    for (int p = 0; p < engine.getNbOptimizationProfiles(); p++) {
      long[] d = dims(engine.getProfileShape(name, p, sel));
      if (out == null) {
        out = d;
      } else {
        for (int i = 0; i < Math.min(out.length, d.length); i++) {
          out[i] = min ? Math.min(out[i], d[i]) : Math.max(out[i], d[i]);
        }
      }
    }
    return out;
  }

  /** Runs on {@code c} from now on: shapes are set and read there (its buffers bound). */
  void use(IExecutionContext c) {
    context = c;
  }

  /** Binds every buffer to {@code c}, a context of another profile. */
  void bindAddresses(IExecutionContext c) {
    for (Slot s : slots) {
      if (!c.setTensorAddress(s.name, s.device)) {
        throw new TrtException(
            "setTensorAddress('" + s.name + "') failed" + TrtLogger.get().describeErrors());
      }
    }
  }

  /** Allocates and binds the buffers of one slot (outputs sized at the inputs' largest shapes). */
  private void bind(Slot s) {
    if (!s.input) {
      s.maxShape = dims(context.getTensorShape(s.name));
      for (long d : s.maxShape) {
        if (d < 0) {
          throw new TrtException(
              "output '"
                  + s.name
                  + "' of "
                  + plan
                  + " has a data-dependent shape "
                  + Arrays.toString(s.maxShape)
                  + ": not supported");
        }
      }
    }
    s.capacityBytes = Math.max(HostTensor.volume(s.maxShape) * s.elemBytes, 1);
    s.device = new Pointer();
    Cuda.check(
        cudart.cudaMalloc(s.device, s.capacityBytes),
        "cudaMalloc(" + s.capacityBytes + " bytes for '" + s.name + "')");
    s.host = new Pointer();
    Cuda.check(
        cudart.cudaMallocHost(s.host, s.capacityBytes),
        "cudaMallocHost(" + s.capacityBytes + " bytes for '" + s.name + "')");
    if (!context.setTensorAddress(s.name, s.device)) {
      throw new TrtException(
          "setTensorAddress('" + s.name + "') failed" + TrtLogger.get().describeErrors());
    }
  }

  /** Fills every output buffer with {@code byteValue}, then waits for the stream. */
  void poisonOutputs(int byteValue) {
    for (Slot s : slots) {
      if (!s.input) {
        Cuda.check(
            cudart.cudaMemsetAsync(s.device, byteValue, s.capacityBytes, stream),
            "cudaMemsetAsync('" + s.name + "')");
      }
    }
    Cuda.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  }

  /** Checks {@code inputs} against the engine's inputs and queues their copies to the device. */
  void stage(Map<String, HostTensor> inputs) {
    for (Slot s : slots) {
      if (s.input) {
        stage(s, inputs.get(s.name), inputs);
      }
    }
    for (String name : inputs.keySet()) {
      if (slots.stream().noneMatch(s -> s.input && s.name.equals(name))) {
        throw new BadInputException(
            "engine " + plan.getFileName() + " has no input '" + name + "'");
      }
    }
  }

  private void stage(Slot s, HostTensor t, Map<String, HostTensor> inputs) {
    if (t == null) {
      throw new BadInputException(
          "engine "
              + plan.getFileName()
              + ": input '"
              + s.name
              + "' is missing (have "
              + inputs.keySet()
              + ")");
    }
    checkShape(s, t.shape());
    boolean floatSlot =
        s.dtype == nvinfer.DataType.kFLOAT
            || s.dtype == nvinfer.DataType.kHALF
            || s.dtype == nvinfer.DataType.kBF16;
    if (floatSlot == t.isInteger()) {
      throw new BadInputException(
          "engine "
              + plan.getFileName()
              + ": input '"
              + s.name
              + "' is "
              + HostCopies.dtypeName(s.dtype)
              + ", got "
              + (t.isInteger() ? "integers" : "floats"));
    }
    setShape(s, t.shape());
    HostCopies.write(s.host, s.dtype, s.name, t);
    long bytes = (long) t.size() * s.elemBytes;
    Cuda.check(
        cudart.cudaMemcpyAsync(s.device, s.host, bytes, cudart.cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync(H2D '" + s.name + "')");
  }

  /** Queues the copies of every output (at the context's current shapes) to the host. */
  void queueOutputCopies() {
    for (Slot s : slots) {
      if (!s.input) {
        s.shape = dims(context.getTensorShape(s.name));
        long bytes = HostTensor.volume(s.shape) * s.elemBytes;
        Cuda.check(
            cudart.cudaMemcpyAsync(s.host, s.device, bytes, cudart.cudaMemcpyDeviceToHost, stream),
            "cudaMemcpyAsync(D2H '" + s.name + "')");
      }
    }
  }

  /** The outputs copied by {@link #queueOutputCopies}, once the stream has finished them. */
  Map<String, HostTensor> outputs() {
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (Slot s : slots) {
      if (!s.input) {
        out.put(s.name, HostCopies.read(s.host, s.dtype, s.name, s.shape));
      }
    }
    return out;
  }

  private void checkShape(Slot s, long[] shape) {
    boolean ok = shape.length == s.minShape.length;
    for (int i = 0; ok && i < shape.length; i++) {
      ok = shape[i] >= s.minShape[i] && shape[i] <= s.maxShape[i];
    }
    if (!ok) {
      StringBuilder range = new StringBuilder("[");
      for (int i = 0; i < s.minShape.length; i++) {
        range
            .append(i > 0 ? ", " : "")
            .append(
                s.minShape[i] == s.maxShape[i]
                    ? "" + s.minShape[i]
                    : s.minShape[i] + ".." + s.maxShape[i]);
      }
      throw new BadInputException(
          "engine "
              + plan.getFileName()
              + ": input '"
              + s.name
              + "' has shape "
              + Arrays.toString(shape)
              + ", the engine accepts "
              + range
              + "] (its optimization profiles; rebuild with a profile whose batch covers it)");
    }
  }

  private void setShape(Slot s, long[] shape) {
    try (Dims64 d = dims(shape)) {
      if (!context.setInputShape(s.name, d)) {
        throw new BadInputException(
            "engine "
                + plan.getFileName()
                + ": TensorRT rejected shape "
                + Arrays.toString(shape)
                + " for input '"
                + s.name
                + "'"
                + TrtLogger.get().describeErrors());
      }
    }
    s.shape = shape.clone();
  }

  /** The engine's first input (its dimension 0 is the batch). */
  Slot firstInput() {
    return slots.stream()
        .filter(s -> s.input)
        .findFirst()
        .orElseThrow(() -> new TrtException("engine " + plan + " has no inputs"));
  }

  /** Frees every device buffer, then every pinned host buffer. */
  void free() {
    for (Slot s : slots) {
      if (s.device != null && !s.device.isNull()) {
        cudart.cudaFree(s.device);
      }
      if (s.host != null && !s.host.isNull()) {
        cudart.cudaFreeHost(s.host);
      }
    }
  }

  static long[] dims(Dims64 d) {
    long[] out = new long[d.nbDims()];
    for (int i = 0; i < out.length; i++) {
      out[i] = d.d(i);
    }
    return out;
  }

  /** A {@link Dims64} of {@code shape}; the caller closes it. */
  static Dims64 dims(long[] shape) {
    Dims64 d = new Dims64();
    d.nbDims(shape.length);
    for (int i = 0; i < shape.length; i++) {
      d.d(i, shape[i]);
    }
    return d;
  }
}
