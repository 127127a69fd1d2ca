package dev.msnexport.ortops;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Session options with the msn library registered, a session cache keyed by model bytes, and
 * helpers to make input tensors. One owner: closing closes the sessions, then the options.
 */
final class OrtRunner implements AutoCloseable {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  private final OrtSession.SessionOptions options;
  private final Map<String, OrtSession> sessions = new LinkedHashMap<>();

  OrtRunner(int intraOpThreads) throws OrtException {
    options = new OrtSession.SessionOptions();
    try {
      options.setIntraOpNumThreads(intraOpThreads);
      MsnOrtOps.register(options);
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  /** A session for the model, created on first use and kept until {@link #close}. */
  OrtSession session(String key, byte[] model) throws OrtException {
    OrtSession s = sessions.get(key);
    if (s == null) {
      s = ENV.createSession(model, options);
      sessions.put(key, s);
    }
    return s;
  }

  /** A fresh session the caller must close (for models expected to fail at load). */
  OrtSession newSession(byte[] model) throws OrtException {
    return ENV.createSession(model, options);
  }

  @Override
  public void close() throws OrtException {
    List<OrtSession> all = new ArrayList<>(sessions.values());
    sessions.clear();
    for (OrtSession s : all) {
      s.close();
    }
    options.close();
  }

  static OnnxTensor floats(float[] data, long... shape) throws OrtException {
    return OnnxTensor.createTensor(ENV, FloatBuffer.wrap(data), shape);
  }

  static OnnxTensor doubles(double[] data, long... shape) throws OrtException {
    return OnnxTensor.createTensor(ENV, DoubleBuffer.wrap(data), shape);
  }

  static OnnxTensor longs(long[] data, long... shape) throws OrtException {
    return OnnxTensor.createTensor(ENV, LongBuffer.wrap(data), shape);
  }

  static OnnxTensor ints(int[] data, long... shape) throws OrtException {
    return OnnxTensor.createTensor(ENV, IntBuffer.wrap(data), shape);
  }

  /** float16 (type FLOAT16) or bfloat16 (type BFLOAT16) tensor from raw 16-bit patterns. */
  static OnnxTensor halves(short[] bits, OnnxJavaType type, long... shape) throws OrtException {
    ByteBuffer buf = ByteBuffer.allocateDirect(bits.length * 2).order(ByteOrder.nativeOrder());
    buf.asShortBuffer().put(bits);
    return OnnxTensor.createTensor(ENV, buf, shape, type);
  }

  static float[] readFloats(OnnxTensor t) {
    FloatBuffer b = t.getFloatBuffer();
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }

  static long[] readLongs(OnnxTensor t) {
    LongBuffer b = t.getLongBuffer();
    long[] out = new long[b.remaining()];
    b.get(out);
    return out;
  }

  static short[] readShorts(OnnxTensor t) {
    ShortBuffer b = t.getShortBuffer();
    short[] out = new short[b.remaining()];
    b.get(out);
    return out;
  }
}
