package dev.msnexport.exporter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.SafetensorsFile;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.exporter.safetensors.TensorView;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafetensorsTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(DType.class)
  void roundTripsEveryDtype(DType dtype) throws IOException {
    long[] shape = {3, 5};
    int n = 15;
    ByteBuffer raw = ByteBuffer.allocate(n * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
    new SplittableRandom(dtype.ordinal())
        .ints(raw.capacity(), 0, 256)
        .forEach(b -> raw.put((byte) b));
    if (dtype == DType.BOOL) {
      for (int i = 0; i < n; i++) {
        raw.put(i, (byte) (i % 2));
      }
    }
    byte[] bytes = raw.array();
    Path f = tmp.resolve(dtype + ".safetensors");
    new SafetensorsWriter()
        .add("t", dtype, shape, out -> out.write(ByteBuffer.wrap(bytes)))
        .add(
            "scalar",
            DType.F32,
            new long[0],
            out ->
                out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 2.5f)))
        .write(f, Map.of("k", "v"));
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      TensorView t = st.tensor("t");
      assertEquals(dtype, t.dtype());
      assertArrayEquals(shape, t.shape());
      ByteBuffer back = t.rawSlice(0, n);
      byte[] got = new byte[back.remaining()];
      back.get(got);
      assertArrayEquals(bytes, got);
      assertEquals(2.5f, st.tensor("scalar").getFloat(0));
      assertEquals("v", st.metadata().get("k"));
    }
  }

  @Test
  void floatConversionsOnRead() {
    Path f = tmp.resolve("f.safetensors");
    float[] v = {1.5f, -2.25f, 0f, 1e-3f};
    new SafetensorsWriter()
        .add(
            "f16",
            DType.F16,
            new long[] {4},
            out -> SafetensorsWriter.writeConverted(out, DType.F16, v, 0, 4))
        .add(
            "bf16",
            DType.BF16,
            new long[] {4},
            out -> SafetensorsWriter.writeConverted(out, DType.BF16, v, 0, 4))
        .add(
            "f64",
            DType.F64,
            new long[] {4},
            out -> SafetensorsWriter.writeConverted(out, DType.F64, v, 0, 4))
        .write(f, null);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      for (String name : new String[] {"f16", "bf16", "f64"}) {
        float[] got = st.tensor(name).toFloatArray();
        for (int i = 0; i < 4; i++) {
          assertEquals(v[i], got[i], Math.abs(v[i]) * 1e-2, name);
        }
      }
    }
  }

  @Test
  void headerIsPaddedAndDataAligned() throws IOException {
    Path f = tmp.resolve("a.safetensors");
    new SafetensorsWriter().addF32("x", new long[] {1}, new float[] {1}).write(f, null);
    long headerLen =
        ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLen % 8);
  }

  // ---- bad input: one clear message naming the file or tensor ----

  private Path good() {
    Path f = tmp.resolve("good.safetensors");
    new SafetensorsWriter()
        .addF32("a", new long[] {2, 2}, new float[] {1, 2, 3, 4})
        .addF32("b", new long[] {3}, new float[] {5, 6, 7})
        .write(f, null);
    return f;
  }

  private Path withHeader(String json, int dataBytes) throws IOException {
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path f = Files.createTempFile(tmp, "bad", ".safetensors");
    Files.write(f, b.array());
    return f;
  }

  private static void assertBad(Path f, String... fragments) {
    BadInputException e =
        assertThrows(BadInputException.class, () -> SafetensorsFile.open(f).close());
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    for (String s : fragments) {
      assertTrue(e.getMessage().contains(s), "'" + s + "' not in: " + e.getMessage());
    }
  }

  @Test
  void truncatedFiles() throws IOException {
    byte[] all = Files.readAllBytes(good());
    Path shorter = tmp.resolve("short.safetensors");
    Files.write(shorter, java.util.Arrays.copyOf(all, 5));
    assertBad(shorter, "truncated");
    Files.write(shorter, java.util.Arrays.copyOf(all, all.length - 4));
    assertBad(shorter, "'b'", "truncated");
    Files.write(shorter, java.util.Arrays.copyOf(all, 20));
    assertBad(shorter, "header length", "larger than the file");
  }

  @Test
  void headerLengthLargerThanFile() throws IOException {
    Path f = tmp.resolve("h.safetensors");
    Files.write(
        f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
    assertBad(f, "header length", "larger than the file");
    Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
    assertBad(f, "header length");
  }

  @Test
  void malformedHeaders() throws IOException {
    assertBad(withHeader("{\"a\": {\"dtype\": \"F32\"", 0), "malformed header JSON");
    assertBad(withHeader("[1, 2]", 0), "must be an object");
    assertBad(
        withHeader("{\"a\": {\"dtype\": \"F33\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4),
        "'a'",
        "unknown dtype 'F33'");
    assertBad(
        withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4),
        "'a'",
        "need 8");
    assertBad(
        withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4),
        "'a'",
        "shape[0]");
    assertBad(
        withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4), "'a'", "data_offsets");
    assertBad(withHeader("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4), "'a'", "dtype");
    assertBad(
        withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", 4),
        "'a'",
        "ordered");
    assertBad(
        withHeader(
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [2, 6]}}",
            8),
        "overlap");
    assertBad(withHeader("{\"__metadata__\": {\"x\": 1}}", 0), "__metadata__");
    assertBad(
        withHeader(
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 4]}}",
            4),
        "'a'");
  }

  @Test
  void missingFile() {
    assertBad(tmp.resolve("nope.safetensors"), "does not exist");
  }

  @Test
  void tensorsLargerThanOneSegmentReadAcrossTheBoundary() throws IOException {
    // A view over an in-memory buffer behaves like the mapped one; the >1 GiB path is covered by
    // the
    // large export test (tagged "large"), which reads a 2 GiB table through several segments.
    float[] v = new float[1000];
    for (int i = 0; i < v.length; i++) {
      v[i] = i;
    }
    Path f = tmp.resolve("v.safetensors");
    new SafetensorsWriter().addF32("v", new long[] {10, 100}, v).write(f, null);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      float[] row = new float[100];
      st.tensor("v").readFloats(300, row, 0, 100);
      assertEquals(300f, row[0]);
      assertEquals(399f, row[99]);
      assertEquals(-1, st.tensor("v").firstNonFinite());
    }
    assertEquals(
        0,
        Stream.of(tmp.toFile().list()).filter(n -> n.endsWith(".tmp")).count(),
        "no temporary files left");
  }
}
