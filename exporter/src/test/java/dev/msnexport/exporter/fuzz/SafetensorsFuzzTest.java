package dev.msnexport.exporter.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.TensorView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of the safetensors reader (docs/robustness.md): whatever the bytes,
 * {@link SafetensorsFile#open} either rejects them with a {@link BadInputException} that names the
 * file, or every tensor it hands out can be read end to end. Any other exception, a hang or a JVM
 * crash is a finding.
 *
 * <p>Seed corpus: {@code src/test/resources/dev/msnexport/exporter/fuzz/SafetensorsFuzzTestInputs/
 * safetensorsFile/}; without {@code JAZZER_FUZZ} this runs every file there as a regression test.
 */
class SafetensorsFuzzTest {
  /** One scratch file per JVM: the reader is file-based (it memory-maps the data). */
  private static final Path FILE = scratchFile();

  private static Path scratchFile() {
    try {
      Path dir = Files.createTempDirectory("msn-fuzz-safetensors");
      dir.toFile().deleteOnExit();
      Path f = dir.resolve("input.safetensors");
      f.toFile().deleteOnExit();
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest
  @DictionaryEntries({
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "\"__metadata__\"",
    "\"F32\"",
    "\"F16\"",
    "\"BF16\"",
    "\"F64\"",
    "\"I64\"",
    "\"I32\"",
    "\"I16\"",
    "\"I8\"",
    "\"U8\"",
    "\"BOOL\"",
    "9223372036854775807",
    "4294967296",
    "1e309"
  })
  void safetensorsFile(byte[] data) throws IOException {
    Files.write(FILE, data);
    SafetensorsFile st;
    try {
      st = SafetensorsFile.open(FILE);
    } catch (BadInputException e) {
      assertTrue(
          e.getMessage().contains(FILE.toString()),
          "the message names the file: " + e.getMessage());
      return;
    }
    try (st) {
      long dataBytes = 0;
      for (TensorView t : st.tensors().values()) {
        touch(t);
        dataBytes += t.byteSize();
      }
      assertTrue(
          dataBytes <= data.length,
          "tensors claim " + dataBytes + " bytes of a " + data.length + "-byte file");
      st.metadata().forEach((k, v) -> assertTrue(k != null && v != null));
      for (String name : st.tensors().keySet()) {
        assertEquals(name, st.tensor(name).name());
      }
    }
  }

  /** Reads every element of a tensor through each accessor a caller may use. */
  static void touch(TensorView t) throws IOException {
    long[] shape = t.shape();
    assertEquals(shape.length, t.rank());
    long numel = TensorView.numel(shape);
    assertEquals(numel, t.numel());
    assertEquals(numel * t.dtype().size(), t.byteSize());
    for (int i = 0; i < shape.length; i++) {
      assertEquals(shape[i], t.dim(i));
    }
    assertTrue(t.toString().contains(t.name()));
    if (numel == 0) {
      assertEquals(-1, t.firstNonFinite());
      return;
    }
    double sum = 0;
    for (long i = 0; i < numel; i++) {
      sum += t.getFloat(i) + t.getDouble(i) + t.getLong(i);
    }
    int n = Math.toIntExact(numel); // a file of at most a few KiB
    float[] all = t.toFloatArray();
    float[] part = new float[n];
    t.readFloats(0, part, 0, n);
    assertTrue(Arrays.equals(all, part), t.name() + ": readFloats and toFloatArray agree");
    assertEquals(n, t.toDoubleArray().length);
    long bad = t.firstNonFinite();
    assertTrue(bad >= -1 && bad < numel);
    if (bad >= 0) {
      assertTrue(
          !Double.isFinite(t.getDouble(bad)),
          t.name() + ": element " + bad + " is reported non-finite");
    }
    ByteBuffer raw = t.rawSlice(0, n);
    assertEquals(t.byteSize(), raw.remaining());
    CountingSink sink = new CountingSink();
    t.transferTo(sink);
    assertEquals(t.byteSize(), sink.count);
    if (Double.isNaN(sum)) {
      return; // keeps sum alive
    }
  }

  private static final class CountingSink implements WritableByteChannel {
    long count;

    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      src.position(src.limit());
      count += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
