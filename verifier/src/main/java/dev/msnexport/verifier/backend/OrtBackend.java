package dev.msnexport.verifier.backend;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.common.InputFiles;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.ortops.MsnOrtOps;
import dev.msnexport.verifier.latency.FloorModel;
import dev.msnexport.verifier.latency.HostCeilings;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime (CPU) on one exported graph: {@code ort-reference} runs the standard-op graph,
 * {@code ort-custom} the custom-op graph with our kernel library registered. Owns its session and
 * its session options; closing releases the session first, then the options.
 */
public final class OrtBackend implements Backend {
  public static final String REFERENCE = "ort-reference";
  public static final String CUSTOM = "ort-custom";

  private final String name;
  private final OrtEnvironment env;
  private final OrtSession.SessionOptions options;
  private final OrtSession session;
  private final int threads;
  private Map<String, OnnxTensor> prepared;

  /**
   * @param threads intra-op threads; 0 lets ONNX Runtime choose
   */
  public OrtBackend(String name, Path model, boolean customOps, int threads) {
    this(name, model, customOps, threads, List.of());
  }

  /**
   * As above, and the graph also outputs the intermediate tensors {@code markOutputs} (node output
   * names, {@link OnnxTensors#withOutputs}; a name not in the graph is bad input). The session is
   * made from a copy of the graph with those outputs, written beside {@code model} (so relative
   * external-data paths resolve; the external data itself is neither read nor copied) as a hidden
   * temporary file that is deleted once the session exists, or when creating it fails.
   */
  public OrtBackend(
      String name, Path model, boolean customOps, int threads, List<String> markOutputs) {
    InputFiles.requireRegularFile(model, "ONNX model");
    Path externalData = model.resolveSibling(dev.msnexport.exporter.onnx.MsnOnnxExporter.DATA_FILE);
    // ONNX Runtime would block on a FIFO there. A directory cannot block, and an export without
    // external data never opens the name (a failed later export may have left one: its previous
    // export must still load)
    if ((Files.exists(externalData) || Files.isSymbolicLink(externalData))
        && !Files.isDirectory(externalData)) {
      InputFiles.requireRegularFile(externalData, "external data");
    }
    this.name = name;
    this.env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    OrtSession s = null;
    try {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (threads > 0) {
        opts.setIntraOpNumThreads(threads);
      }
      if (customOps) {
        MsnOrtOps.register(opts);
      }
      s =
          markOutputs.isEmpty()
              ? env.createSession(model.toString(), opts)
              : createMarkedSession(env, opts, model, markOutputs);
      requireContractTypes(s, model, markOutputs);
    } catch (OrtException e) {
      closeQuietly(s);
      opts.close();
      throw new BackendException(
          name + ": ONNX Runtime cannot load " + model + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(s);
      opts.close();
      throw e;
    }
    this.options = opts;
    this.session = s;
    this.threads = threads;
  }

  /**
   * The graph's retrieval outputs have the contract's element types: {@code retrieval.L.slots}
   * int64 (slot indices), {@code retrieval.L.weights} a float type; else bad input naming the model
   * file and the tensor (other outputs are checked against the other backend's by the verifier).
   */
  static void requireContractTypes(OrtSession s, Path model, List<String> markOutputs)
      throws OrtException {
    for (Map.Entry<String, NodeInfo> e : s.getOutputInfo().entrySet()) {
      String out = e.getKey();
      boolean slots = out.matches("retrieval\\.[0-9]+\\.slots");
      if (markOutputs.contains(out) || !slots && !out.matches("retrieval\\.[0-9]+\\.weights")) {
        continue;
      }
      OnnxJavaType type = e.getValue().getInfo() instanceof TensorInfo t ? t.type : null;
      boolean ok =
          slots
              ? type == OnnxJavaType.INT64
              : type == OnnxJavaType.FLOAT
                  || type == OnnxJavaType.FLOAT16
                  || type == OnnxJavaType.BFLOAT16;
      if (!ok) {
        throw new BadInputException(
            "ONNX model "
                + model
                + ": output '"
                + out
                + "' is "
                + (type == null
                    ? "not a tensor"
                    : type.toString().toLowerCase(java.util.Locale.ROOT))
                + ", the MSN contract has "
                + (slots ? "int64 (retrieved slot indices)" : "float (retrieval weights)"));
      }
    }
  }

  private static void closeQuietly(OrtSession s) {
    if (s != null) {
      try {
        s.close();
      } catch (OrtException ignored) {
        // already failing: the first error is the one to report
      }
    }
  }

  private static OrtSession createMarkedSession(
      OrtEnvironment env, OrtSession.SessionOptions opts, Path model, List<String> markOutputs)
      throws OrtException {
    ModelProto marked =
        OnnxTensors.withOutputs(OnnxTensors.read(model), markOutputs, model.toString());
    try (AtomicFiles.Batch tmp =
        new AtomicFiles.Batch()) { // never committed: closing deletes the copy
      return env.createSession(OnnxTensors.writeBeside(marked, model, tmp).toString(), opts);
    }
  }

  /**
   * The host's measured copy bandwidth and ONNX Runtime's MatMul rate at this backend's thread
   * count.
   */
  @Override
  public FloorModel.Ceilings ceilings() {
    return HostCeilings.cached(threads);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Map<String, HostTensor> infer(Map<String, HostTensor> inputs) {
    Map<String, OnnxTensor> in = toOrt(inputs);
    try (OrtSession.Result r = session.run(in)) {
      Map<String, HostTensor> out = new LinkedHashMap<>();
      for (Map.Entry<String, OnnxValue> e : r) {
        out.put(e.getKey(), fromOrt(e.getKey(), (OnnxTensor) e.getValue()));
      }
      return out;
    } catch (OrtException e) {
      throw new BackendException(name + ": inference failed: " + e.getMessage(), e);
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  private Map<String, OnnxTensor> toOrt(Map<String, HostTensor> inputs) {
    Map<String, OnnxTensor> in = new HashMap<>();
    try {
      for (String inputName : session.getInputNames()) {
        HostTensor t = inputs.get(inputName);
        if (t == null) {
          throw badInput(inputName, "is missing");
        }
        NodeInfo info = session.getInputInfo().get(inputName);
        long[] want = ((TensorInfo) info.getInfo()).getShape();
        long[] have = t.shape();
        boolean ok = want.length == have.length;
        for (int i = 0; ok && i < want.length; i++) {
          ok = want[i] < 0 || want[i] == have[i];
        }
        if (!ok) {
          throw badInput(
              inputName,
              "has shape "
                  + java.util.Arrays.toString(have)
                  + ", the model expects "
                  + java.util.Arrays.toString(want)
                  + " (-1: any)");
        }
        // An empty dimension crashes some ONNX Runtime kernels (SIGFPE in the JVM): refuse it here.
        for (long d : have) {
          if (d < 1) {
            throw badInput(
                inputName,
                "has shape "
                    + java.util.Arrays.toString(have)
                    + ": every dimension must be at least 1");
          }
        }
        boolean wantsInteger = ((TensorInfo) info.getInfo()).type == OnnxJavaType.INT64;
        if (t.isInteger() != wantsInteger) {
          throw badInput(
              inputName,
              "is "
                  + t.dtype()
                  + ", the model expects "
                  + ((TensorInfo) info.getInfo())
                      .type
                      .toString()
                      .toLowerCase(java.util.Locale.ROOT));
        }
        Inputs.requireFinite(t);
        if (t.isInteger()) {
          in.put(inputName, OnnxTensor.createTensor(env, LongBuffer.wrap(t.ints()), t.shape()));
        } else {
          in.put(
              inputName,
              OnnxTensor.createTensor(env, FloatBuffer.wrap(t.toFloatArray()), t.shape()));
        }
      }
      return in;
    } catch (OrtException e) {
      in.values().forEach(OnnxTensor::close);
      throw new BackendException(name + ": cannot create input tensors: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      in.values().forEach(OnnxTensor::close);
      throw e;
    }
  }

  private static HostTensor fromOrt(String name, OnnxTensor t) {
    TensorInfo info = t.getInfo();
    long[] shape = info.getShape();
    if (info.type == OnnxJavaType.INT64) {
      LongBuffer b = t.getLongBuffer();
      long[] v = new long[b.remaining()];
      b.get(v);
      return HostTensor.ofInts(name, shape, v);
    }
    if (info.type
        == OnnxJavaType.INT32) { // only marked intermediates (verify --mark-outputs) can be int32
      java.nio.IntBuffer b = t.getIntBuffer();
      long[] v = new long[b.remaining()];
      for (int i = 0; i < v.length; i++) {
        v[i] = b.get(i);
      }
      return HostTensor.ofInts(name, shape, v);
    }
    if (info.type == OnnxJavaType.FLOAT
        || info.type == OnnxJavaType.FLOAT16
        || info.type == OnnxJavaType.BFLOAT16) {
      FloatBuffer b =
          t.getFloatBuffer(); // half types widened to float (exactly); only marked intermediates
      // can be half
      float[] v = new float[b.remaining()];
      b.get(v);
      return HostTensor.ofFloats(name, shape, v);
    }
    throw new BackendException("output " + name + " has unsupported type " + info.type);
  }

  @Override
  public boolean prepare(Map<String, HostTensor> inputs) {
    closePrepared();
    prepared = toOrt(inputs);
    return true;
  }

  @Override
  public void runPrepared() {
    try (OrtSession.Result r = session.run(prepared)) {
      // outputs discarded: timing only
    } catch (OrtException e) {
      throw new BackendException(name + ": inference failed: " + e.getMessage(), e);
    }
  }

  private void closePrepared() {
    if (prepared != null) {
      prepared.values().forEach(OnnxTensor::close);
      prepared = null;
    }
  }

  @Override
  public void close() {
    closePrepared();
    try {
      session.close();
    } catch (OrtException e) {
      throw new BackendException(name + ": cannot close session: " + e.getMessage(), e);
    } finally {
      options.close();
    }
  }

  /** Bad input naming this backend and the input: "NAME: input 'INPUT' WHAT". */
  private BadInputException badInput(String inputName, String what) {
    return new BadInputException(name + ": input '" + inputName + "' " + what);
  }
}
