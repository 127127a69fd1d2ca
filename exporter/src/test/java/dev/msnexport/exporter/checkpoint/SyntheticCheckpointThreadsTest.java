package dev.msnexport.exporter.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.exporter.progress.Progress;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A synthetic checkpoint is the same file whatever the number of threads that drew it, and a tensor
 * that fits one random stream is drawn as one sequential stream (so the checkpoints of the profiles
 * whose tensors all fit, tiny, small and paper, are the sequential ones).
 */
class SyntheticCheckpointThreadsTest {
  @TempDir Path tmp;
  final ModelConfig small = Profiles.load("small").model();

  private Path write(String name, ModelConfig c, long streamElements, int threads) {
    Path dir = tmp.resolve(name);
    SyntheticCheckpoint.write(
        c,
        dir,
        11,
        new SyntheticCheckpoint.Draw(DType.F32, DType.F16, streamElements, threads),
        Progress.NONE);
    return dir;
  }

  private static void assertSameFiles(Path a, Path b) throws IOException {
    for (String f : new String[] {Checkpoint.WEIGHTS_FILE, Checkpoint.CONFIG_FILE}) {
      assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
    }
  }

  @Test
  void theFileIsTheSameWhateverTheThreads() throws IOException {
    // short streams: small's tensors are cut into many runs, drawn by the threads in any order
    long runs = 0;
    for (long[] shape : TensorLayout.expected(small).values()) {
      runs += (TensorView.numel(shape) + 4095) / 4096;
    }
    assertTrue(runs > 100, "runs: " + runs);
    Path one = write("t1", small, 4096, 1);
    assertSameFiles(one, write("t3", small, 4096, 3));
    assertSameFiles(one, write("t8", small, 4096, 8));
    // the default streams too
    Path seq = write("d1", small, SyntheticCheckpoint.STREAM_ELEMENTS, 1);
    assertSameFiles(seq, write("d4", small, SyntheticCheckpoint.STREAM_ELEMENTS, 4));
  }

  @Test
  void aTensorOfOneStreamIsDrawnSequentiallyAndRunsBeyondItAreOtherStreams() {
    Path whole = write("whole", small, SyntheticCheckpoint.STREAM_ELEMENTS, 2);
    Path cut = write("cut", small, 4096, 2);
    int split = 0;
    try (Checkpoint a = Checkpoint.open(whole);
        Checkpoint b = Checkpoint.open(cut)) {
      for (String name : a.tensors().keySet()) {
        float[] x = a.tensor(name).toFloatArray();
        float[] y = b.tensor(name).toFloatArray();
        assertEquals(x.length, y.length, name);
        int n = Math.min(x.length, 4096);
        // the first run is the tensor's own stream either way
        assertArrayEquals(Arrays.copyOf(x, n), Arrays.copyOf(y, n), name);
        if (x.length > 4096) {
          split++;
          assertFalse(
              Arrays.equals(
                  Arrays.copyOfRange(x, 4096, x.length), Arrays.copyOfRange(y, 4096, y.length)),
              name + ": the later runs come from streams of their own");
        }
      }
    }
    assertTrue(split > 0);
  }

  @Test
  void runStreamsDifferFromTheTensorsAndFromEachOther() {
    long seed = 0x1234L;
    long a = SyntheticCheckpoint.streamOf(seed, 0).nextLong();
    assertEquals(new java.util.SplittableRandom(seed).nextLong(), a);
    long b = SyntheticCheckpoint.streamOf(seed, 1).nextLong();
    long c = SyntheticCheckpoint.streamOf(seed, 2).nextLong();
    assertTrue(a != b && b != c && a != c);
    assertEquals(b, SyntheticCheckpoint.streamOf(seed, 1).nextLong());
  }
}
