package dev.msnexport.exporter.checkpoint;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.OutputLock;
import dev.msnexport.exporter.progress.Progress;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a deterministic synthetic checkpoint for a config: every tensor of the contract, with
 * realistic scales (LayerNorm weights near 1, Xavier-uniform matrices, unit-normal keys and
 * values). Each tensor draws from its own stream seeded by (seed, name), so a tensor's values do
 * not depend on which other tensors exist; a tensor of more than {@link #STREAM_ELEMENTS} elements
 * draws each run of that many from a stream of its own (the first from the tensor's stream), so the
 * runs are drawn in parallel, and the file is the same whatever the number of threads. Every tensor
 * of tiny, small and paper fits one run: their checkpoints are the ones drawn sequentially.
 * Streamed: the 13 GB of tables of {@code xl} never sit in memory.
 */
public final class SyntheticCheckpoint {
  private static final int CHUNK = 1 << 16;

  /**
   * Elements drawn from one random stream (2^26: paper's 50 M-element table is one stream, xl's 3.2
   * G-element tables are 48 streams each).
   */
  public static final long STREAM_ELEMENTS = 1L << 26;

  private SyntheticCheckpoint() {}

  public static void write(ModelConfig config, Path dir, long seed) {
    write(config, dir, seed, DType.F32);
  }

  /** Every tensor in {@code dtype}. */
  public static void write(ModelConfig config, Path dir, long seed, DType dtype) {
    write(config, dir, seed, dtype, dtype, Progress.NONE);
  }

  /**
   * The value tables ({@code *.values}) in {@code valuesDtype}, every other tensor in {@code
   * dtype}; bytes written are reported to {@code progress}. A table's values are drawn in float32
   * and rounded once, so an fp16 table holds the fp16 rounding of the float32 table of the same
   * seed. One thread.
   */
  public static void write(
      ModelConfig config, Path dir, long seed, DType dtype, DType valuesDtype, Progress progress) {
    write(config, dir, seed, dtype, valuesDtype, progress, 1);
  }

  /**
   * As {@link #write(ModelConfig, Path, long, DType, DType, Progress)}, drawing on up to {@code
   * threads} threads; the same files whatever {@code threads}.
   */
  public static void write(
      ModelConfig config,
      Path dir,
      long seed,
      DType dtype,
      DType valuesDtype,
      Progress progress,
      int threads) {
    write(config, dir, seed, new Draw(dtype, valuesDtype, STREAM_ELEMENTS, threads), progress);
  }

  /**
   * How tensors are drawn: their storage types, the elements per random stream, the threads.
   * Package-private for tests, which use short streams.
   */
  record Draw(DType dtype, DType valuesDtype, long streamElements, int threads) {
    DType of(String name) {
      return name.endsWith(".values") ? valuesDtype : dtype;
    }
  }

  static void write(ModelConfig config, Path dir, long seed, Draw draw, Progress progress) {
    DType dtype = draw.dtype();
    DType valuesDtype = draw.valuesDtype();
    AtomicFiles.ensureWritableDirectory(dir, "checkpoint directory");
    String where = "checkpoint " + dir;
    config.validate(where); // sizes in 64-bit arithmetic, before anything is written
    AtomicFiles.requireFreeSpace(
        dir,
        bytes(config, dtype, valuesDtype),
        where + " (" + config.largestTerm(where) + " as float32)");
    try (OutputLock lock = OutputLock.acquire(dir, "checkpoint directory")) {
      writeLocked(config, dir, seed, draw, progress);
    }
  }

  /** The tensor bytes of the checkpoint (the safetensors header aside). */
  public static long bytes(ModelConfig config, DType dtype, DType valuesDtype) {
    long total = 0;
    for (Map.Entry<String, long[]> e : TensorLayout.expected(config).entrySet()) {
      DType t = e.getKey().endsWith(".values") ? valuesDtype : dtype;
      total = Math.addExact(total, Math.multiplyExact(TensorView.numel(e.getValue()), t.size()));
    }
    return total;
  }

  private static void writeLocked(
      ModelConfig config, Path dir, long seed, Draw draw, Progress progress) {
    SafetensorsWriter w = new SafetensorsWriter();
    for (Map.Entry<String, long[]> e : TensorLayout.expected(config).entrySet()) {
      String name = e.getKey();
      long[] shape = e.getValue();
      DType as = draw.of(name);
      Init init = initFor(name, shape);
      long streamSeed = mix(seed, name);
      long n = TensorView.numel(shape);
      long per = draw.streamElements();
      w.addPieces(
          name,
          as,
          shape,
          per * as.size(),
          (piece, out) -> {
            long start = piece * per;
            writeSamples(
                out, init, streamOf(streamSeed, piece), start, Math.min(per, n - start), as);
          });
    }
    // config.json last: a directory with config.json always has its weights beside it
    w.write(
        dir.resolve(Checkpoint.WEIGHTS_FILE),
        Map.of("format", "pt", "generator", "msn-export init", "seed", Long.toString(seed)),
        progress,
        draw.threads());
    AtomicFiles.writeString(dir.resolve(Checkpoint.CONFIG_FILE), Profiles.toJson(config) + "\n");
  }

  /**
   * The random stream of a tensor's run {@code run}: run 0 is the tensor's own stream, run r > 0 a
   * stream seeded by a splitmix64 hash of (tensor seed, r).
   */
  static SplittableRandom streamOf(long streamSeed, long run) {
    if (run == 0) {
      return new SplittableRandom(streamSeed);
    }
    long z = streamSeed + run * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return new SplittableRandom(z ^ (z >>> 31));
  }

  /**
   * Draws {@code count} values, elements {@code start..} of a tensor, from {@code rnd}, {@link
   * #CHUNK} at a time, in {@code dtype}.
   */
  private static void writeSamples(
      WritableByteChannel out, Init init, SplittableRandom rnd, long start, long count, DType dtype)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(CHUNK * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
    long end = start + count;
    for (long i = start; i < end; ) {
      buf.clear();
      int m = (int) Math.min(CHUNK, end - i);
      for (int j = 0; j < m; j++) {
        float v = init.sample(rnd, i + j);
        switch (dtype) {
          case F32 -> buf.putFloat(v);
          case F16 -> buf.putShort(DType.floatToHalf(v));
          case BF16 -> buf.putShort(DType.floatToBf16(v));
          case F64 -> buf.putDouble(v);
          default ->
              throw new IllegalArgumentException("checkpoint dtype must be a float type: " + dtype);
        }
      }
      buf.flip();
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      i += m;
    }
  }

  @FunctionalInterface
  private interface Init {
    float sample(SplittableRandom rnd, long flatIndex);
  }

  private static Init initFor(String name, long[] shape) {
    if (name.endsWith("norm.weight") || name.contains("_norm_") && name.endsWith(".weight")) {
      return (r, i) -> (float) (1.0 + 0.1 * r.nextGaussian());
    }
    if (name.endsWith("norm.bias") || name.contains("_norm_") && name.endsWith(".bias")) {
      return (r, i) -> (float) (0.1 * r.nextGaussian());
    }
    if (name.endsWith(".values") || name.contains(".keys_")) {
      return (r, i) -> (float) r.nextGaussian();
    }
    if (shape.length >= 2) { // weight matrices [.., out, in]: Xavier uniform
      double fanOut = shape[shape.length - 2];
      double fanIn = shape[shape.length - 1];
      double a = Math.sqrt(6.0 / (fanIn + fanOut));
      return (r, i) -> (float) (a * (2 * r.nextDouble() - 1));
    }
    return (r, i) -> (float) (0.05 * r.nextGaussian()); // biases
  }

  private static long mix(long seed, String name) {
    long h = seed * 0x9E3779B97F4A7C15L;
    for (int i = 0; i < name.length(); i++) {
      h = (h ^ name.charAt(i)) * 0x100000001B3L;
    }
    return h ^ (h >>> 31);
  }
}
