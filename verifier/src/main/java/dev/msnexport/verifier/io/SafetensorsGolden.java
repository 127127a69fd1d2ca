package dev.msnexport.verifier.io;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.exporter.safetensors.TensorView;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors form of a {@link GoldenFile}: tensors {@code inputs.<name>} and {@code
 * outputs.<name>} (F32 for float values, I64 for int64; F64, F16 and BF16 are accepted when
 * reading) and {@code __metadata__} {@code {"format": "msn-export.golden/1", "producer": ...,
 * "model_sha256": ...}} ({@code model_sha256} optional). Other tools write this format too: keep it
 * fixed.
 */
public final class SafetensorsGolden {
  public static final String INPUT_PREFIX = "inputs.";
  public static final String OUTPUT_PREFIX = "outputs.";

  private SafetensorsGolden() {}

  public static void write(Path path, GoldenFile g) {
    SafetensorsWriter w = new SafetensorsWriter();
    g.inputs().forEach((name, t) -> add(w, INPUT_PREFIX + name, t));
    g.outputs().forEach((name, t) -> add(w, OUTPUT_PREFIX + name, t));
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", GoldenFile.FORMAT);
    meta.put("producer", g.producer() == null ? "unknown" : g.producer());
    if (g.modelSha256() != null) {
      meta.put("model_sha256", g.modelSha256());
    }
    w.write(path, meta);
  }

  private static void add(SafetensorsWriter w, String name, HostTensor t) {
    if (!t.isInteger()) {
      w.addF32(name, t.shape(), t.toFloatArray());
      return;
    }
    long[] v = t.ints();
    w.add(
        name,
        DType.I64,
        t.shape(),
        out -> {
          ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
          b.asLongBuffer().put(v);
          while (b.hasRemaining()) {
            out.write(b);
          }
        });
  }

  public static GoldenFile read(Path path) {
    String where = "golden file " + path;
    try (SafetensorsFile f = SafetensorsFile.open(path)) {
      String format = f.metadata().get("format");
      if (!GoldenFile.FORMAT.equals(format)) {
        throw new BadInputException(
            where
                + ": __metadata__.format is "
                + (format == null ? "missing" : "'" + format + "'")
                + ", expected '"
                + GoldenFile.FORMAT
                + "' (a checkpoint is not a golden file)");
      }
      Map<String, HostTensor> inputs = new LinkedHashMap<>();
      Map<String, HostTensor> outputs = new LinkedHashMap<>();
      for (TensorView v : f.tensors().values()) {
        String name = v.name();
        if (name.startsWith(INPUT_PREFIX)) {
          String n = name.substring(INPUT_PREFIX.length());
          inputs.put(n, toHost(n, v, where));
        } else if (name.startsWith(OUTPUT_PREFIX)) {
          String n = name.substring(OUTPUT_PREFIX.length());
          outputs.put(n, toHost(n, v, where));
        } else {
          throw new BadInputException(
              where + ": tensor '" + name + "' is neither inputs.<name> nor outputs.<name>");
        }
      }
      if (inputs.isEmpty() || outputs.isEmpty()) {
        throw new BadInputException(
            where
                + ": needs at least one inputs.<name> and one outputs.<name> tensor, has "
                + f.tensors().keySet());
      }
      return new GoldenFile(
          inputs,
          outputs,
          f.metadata().getOrDefault("producer", "unknown"),
          f.metadata().get("model_sha256"));
    }
  }

  private static HostTensor toHost(String name, TensorView v, String where) {
    long numel = v.numel();
    if (numel > Integer.MAX_VALUE) {
      throw new BadInputException(
          where + ": tensor '" + v.name() + "' is too large (" + numel + " elements)");
    }
    return switch (v.dtype()) {
      case F32, F64, F16, BF16 -> HostTensor.ofFloats(name, v.shape(), v.toDoubleArray());
      case I64 -> {
        long[] out = new long[(int) numel];
        for (int i = 0; i < out.length; i++) {
          out[i] = v.getLong(i);
        }
        yield HostTensor.ofInts(name, v.shape(), out);
      }
      default ->
          throw v.wrongDtype(where, v.name(), "; golden files hold F32, F64, F16, BF16 or I64");
    };
  }
}
