package dev.msnexport.verifier.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.BackendException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Golden files: .npy, our safetensors form and Polygraphy's JSON, round trips and hand-made
 * fixtures.
 */
class GoldenFileTest {
  @TempDir Path tmp;

  static GoldenFile sample() {
    Map<String, HostTensor> in = new LinkedHashMap<>();
    in.put(
        "tokens",
        HostTensor.ofFloats(
            "tokens",
            new long[] {2, 2, 3},
            new double[] {0.5, -1, 2, 3.25, 1e-3, -7, 0, 1, 2, 3, 4, 5}));
    Map<String, HostTensor> out = new LinkedHashMap<>();
    out.put("click", HostTensor.ofFloats("click", new long[] {2, 1}, new double[] {0.25, 0.75}));
    out.put("finish", HostTensor.ofFloats("finish", new long[] {2, 1}, new double[] {0.125, 0.5}));
    out.put(
        "retrieval.0.slots",
        HostTensor.ofInts(
            "retrieval.0.slots",
            new long[] {2, 2, 2},
            new long[] {63, 1, 0, 5, 9, 8, 4_000_000_000L, 2}));
    out.put(
        "retrieval.0.weights",
        HostTensor.ofFloats(
            "retrieval.0.weights",
            new long[] {2, 2, 2},
            new double[] {0.5, 0.5, 0.9, 0.1, 1, 0, 0.3, 0.7}));
    return new GoldenFile(in, out, "golden", "ab".repeat(32));
  }

  /** Values as float32 would hold them: what our files store for float tensors. */
  static void assertSameAtF32(GoldenFile want, GoldenFile got) {
    assertEquals(List.copyOf(want.inputs().keySet()), List.copyOf(got.inputs().keySet()));
    assertEquals(List.copyOf(want.outputs().keySet()), List.copyOf(got.outputs().keySet()));
    Map<String, HostTensor> all = new LinkedHashMap<>(want.inputs());
    all.putAll(want.outputs());
    for (HostTensor w : all.values()) {
      HostTensor g =
          got.inputs().containsKey(w.name())
              ? got.inputs().get(w.name())
              : got.outputs().get(w.name());
      assertArrayEquals(w.shape(), g.shape(), w.name());
      assertEquals(w.isInteger(), g.isInteger(), w.name());
      if (w.isInteger()) {
        assertArrayEquals(w.ints(), g.ints(), w.name());
      } else {
        assertArrayEquals(w.toFloatArray(), g.toFloatArray(), w.name());
      }
    }
  }

  @Test
  void npyRoundTripsEveryTypeAndRank() {
    HostTensor scalar = HostTensor.ofFloats("s", new long[] {}, new double[] {Math.PI});
    HostTensor vec = HostTensor.ofInts("v", new long[] {3}, new long[] {-1, Long.MAX_VALUE, 7});
    HostTensor mat =
        HostTensor.ofFloats("m", new long[] {2, 3}, new double[] {1, 2, 3, 4, 5, 1.0 / 3});
    for (Npy.Type t : new Npy.Type[] {Npy.Type.F4, Npy.Type.F8}) {
      for (HostTensor x : List.of(scalar, mat)) {
        byte[] b = Npy.write(x, t);
        int headerEnd =
            10 + (ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(8) & 0xffff);
        assertEquals(0, headerEnd % 64, "data starts 64-byte aligned");
        assertEquals('\n', b[headerEnd - 1]);
        HostTensor back = Npy.read(x.name(), b, "test");
        assertArrayEquals(x.shape(), back.shape());
        if (t == Npy.Type.F8) {
          assertArrayEquals(x.floats(), back.floats());
        } else {
          assertArrayEquals(x.toFloatArray(), back.toFloatArray());
        }
      }
    }
    HostTensor back = Npy.read("v", Npy.write(vec, Npy.Type.I8), "test");
    assertArrayEquals(vec.ints(), back.ints());
    String header = new String(Npy.write(vec, Npy.Type.I8), 10, 60, StandardCharsets.US_ASCII);
    assertTrue(
        header.startsWith("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"), header);
  }

  /** An .npy file built byte by byte from the format description, as NumPy writes it. */
  static byte[] handMadeNpy(String descr, String shape, byte[] data) {
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int total = 10 + dict.length() + 1;
    String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(
        new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) header.length(), 0});
    out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(data);
    return out.toByteArray();
  }

  static byte[] floats(ByteOrder order, float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(order);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  static byte[] longs(long... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return b.array();
  }

  @Test
  void npyReadsBigEndianAndRejectsWhatItCannotRead() {
    HostTensor t =
        Npy.read("x", handMadeNpy(">f4", "(2,)", floats(ByteOrder.BIG_ENDIAN, 1.5f, -2f)), "test");
    assertArrayEquals(new double[] {1.5, -2}, t.floats());
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> Npy.read("x", handMadeNpy("<i2", "(1,)", new byte[2]), "f.npy"));
    assertTrue(e.getMessage().contains("f.npy") && e.getMessage().contains("<i2"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () ->
                Npy.read("x", handMadeNpy("<f4", "(3,)", floats(ByteOrder.LITTLE_ENDIAN, 1)), "f"));
    assertTrue(e.getMessage().contains("need 12"), e.getMessage());
    assertThrows(
        BadInputException.class,
        () -> Npy.read("x", "not numpy".getBytes(StandardCharsets.US_ASCII), "f"));
  }

  @Test
  void safetensorsRoundTrip() {
    GoldenFile g = sample();
    Path f = tmp.resolve("g.safetensors");
    g.write(f);
    GoldenFile back = GoldenFile.read(f);
    assertSameAtF32(g, back);
    assertEquals("golden", back.producer());
    assertEquals("ab".repeat(32), back.modelSha256());
    assertTrue(back.outputs().get("retrieval.0.slots").isInteger());
  }

  @Test
  void safetensorsLayoutIsTheDocumentedOne() throws Exception {
    Path f = tmp.resolve("g.safetensors");
    sample().write(f);
    byte[] all = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    JsonNode h =
        Profiles.JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8).strip());
    assertEquals(GoldenFile.FORMAT, h.get("__metadata__").get("format").asText());
    assertEquals("golden", h.get("__metadata__").get("producer").asText());
    assertEquals("F32", h.get("inputs.tokens").get("dtype").asText());
    assertEquals("F32", h.get("outputs.click").get("dtype").asText());
    assertEquals("I64", h.get("outputs.retrieval.0.slots").get("dtype").asText());
  }

  @Test
  void safetensorsReadsF64AndRejectsCheckpoints() {
    Path f = tmp.resolve("f64.safetensors");
    new SafetensorsWriter()
        .add(
            "inputs.tokens",
            dev.msnexport.exporter.safetensors.DType.F64,
            new long[] {1, 2},
            out -> {
              ByteBuffer b =
                  ByteBuffer.allocate(16)
                      .order(ByteOrder.LITTLE_ENDIAN)
                      .putDouble(0.1)
                      .putDouble(-0.2)
                      .flip();
              out.write(b);
            })
        .addF32("outputs.click", new long[] {1, 1}, new float[] {0.5f})
        .write(f, Map.of("format", GoldenFile.FORMAT, "producer", "pytorch"));
    GoldenFile g = GoldenFile.read(f);
    assertArrayEquals(new double[] {0.1, -0.2}, g.inputs().get("tokens").floats());
    assertEquals("pytorch", g.producer());
    assertNull(g.modelSha256());

    Path ck = tmp.resolve("ck.safetensors");
    new SafetensorsWriter()
        .addF32("blocks.0.mix_norm.weight", new long[] {1}, new float[] {1})
        .write(ck, Map.of());
    BadInputException e = assertThrows(BadInputException.class, () -> GoldenFile.read(ck));
    assertTrue(e.getMessage().contains("format"), e.getMessage());
  }

  @Test
  void polygraphyJsonRoundTrip() throws Exception {
    GoldenFile g = sample();
    Path f = tmp.resolve("golden.json");
    g.write(f);
    assertTrue(Files.isRegularFile(tmp.resolve("golden.inputs.json")));
    GoldenFile back = GoldenFile.read(f);
    assertSameAtF32(g, back);
    assertEquals("golden", back.producer());
    // the structure Polygraphy's decoder expects
    JsonNode root = Profiles.JSON.readTree(Files.readString(f));
    assertEquals("RunResults", root.get("polygraphy_class").asText());
    JsonNode pair = root.get("lst").get(0);
    assertEquals("golden", pair.get(0).asText());
    JsonNode it = pair.get(1).get(0);
    assertEquals("IterationResult", it.get("polygraphy_class").asText());
    assertTrue(it.has("runtime") && it.get("runtime").isNull());
    assertEquals("golden", it.get("runner_name").asText());
    JsonNode click = it.get("outputs").get("click");
    assertEquals("LazyNumpyArray", click.get("polygraphy_class").asText());
    assertEquals("ndarray", click.get("values").get("polygraphy_class").asText());
    byte[] npy = Base64.getDecoder().decode(click.get("values").get("array").asText());
    assertEquals("\u0093NUMPY", new String(npy, 0, 6, StandardCharsets.ISO_8859_1));
    JsonNode inputs = Profiles.JSON.readTree(Files.readString(tmp.resolve("golden.inputs.json")));
    assertTrue(
        inputs.isArray()
            && inputs.get(0).get("tokens").get("polygraphy_class").asText().equals("ndarray"));
  }

  /** A results file written by hand from Polygraphy's documented format (current class names). */
  @Test
  void handMadePolygraphyFixture() throws Exception {
    String click =
        Base64.getEncoder()
            .encodeToString(
                handMadeNpy("<f4", "(2, 1)", floats(ByteOrder.LITTLE_ENDIAN, 0.25f, 0.5f)));
    String slots =
        Base64.getEncoder().encodeToString(handMadeNpy("<i8", "(2, 1, 1)", longs(3, 12)));
    String tokens =
        Base64.getEncoder()
            .encodeToString(
                handMadeNpy("<f4", "(2, 1, 2)", floats(ByteOrder.LITTLE_ENDIAN, 1, 2, 3, 4)));
    String results =
        """
        {
            "lst": [
                [
                    "onnxrt-runner-N0-04/01/25-12:00:00",
                    [
                        {
                            "outputs": {
                                "click": {"values": {"array": "%s", "polygraphy_class": "ndarray"}, "polygraphy_class": "LazyArray"},
                                "retrieval.0.slots": {"values": {"array": "%s", "polygraphy_class": "ndarray"}, "polygraphy_class": "LazyArray"}
                            },
                            "runtime": 0.0123,
                            "runner_name": "onnxrt-runner-N0-04/01/25-12:00:00",
                            "polygraphy_class": "IterationResult"
                        }
                    ]
                ],
                ["trt-runner", []]
            ],
            "polygraphy_class": "RunResults"
        }
        """
            .formatted(click, slots);
    Files.writeString(tmp.resolve("poly.json"), results);
    Files.writeString(
        tmp.resolve("poly.inputs.json"),
        """
        [
            {
                "tokens": {"array": "%s", "polygraphy_class": "ndarray"}
            }
        ]
        """
            .formatted(tokens));
    GoldenFile g = GoldenFile.read(tmp.resolve("poly.json"));
    assertEquals("onnxrt-runner-N0-04/01/25-12:00:00", g.producer());
    assertArrayEquals(new double[] {0.25, 0.5}, g.outputs().get("click").floats());
    assertArrayEquals(new long[] {2, 1}, g.outputs().get("click").shape());
    assertArrayEquals(new long[] {3, 12}, g.outputs().get("retrieval.0.slots").ints());
    assertArrayEquals(new long[] {2, 1, 2}, g.inputs().get("tokens").shape());
  }

  /** Older Polygraphy: legacy type keys, raw arrays without the lazy wrapper, npz payloads. */
  @Test
  void legacyPolygraphyForms() throws Exception {
    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(zip)) {
      z.putNextEntry(new ZipEntry("arr_0.npy"));
      z.write(
          handMadeNpy(
              "<f8",
              "(1,)",
              ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.75).array()));
      z.closeEntry();
    }
    String npz = Base64.getEncoder().encodeToString(zip.toByteArray());
    String tokens =
        Base64.getEncoder()
            .encodeToString(handMadeNpy("<f4", "(1,)", floats(ByteOrder.LITTLE_ENDIAN, 9)));
    Files.writeString(
        tmp.resolve("old.json"),
        """
        {"lst": [["ort", [{"outputs": {"click": {"array": "%s", "__polygraphy_encoded_ndarray": "polygraphy_serialized_json_type"}},
          "runtime": null, "runner_name": "ort", "__polygraphy_encoded_IterationResult": "polygraphy_serialized_json_type"}]]],
         "__polygraphy_encoded_RunResults": "polygraphy_serialized_json_type"}
        """
            .formatted(npz));
    Files.writeString(
        tmp.resolve("old.inputs.json"),
        "[{\"tokens\": {\"array\": \"" + tokens + "\", \"polygraphy_class\": \"ndarray\"}}]");
    GoldenFile g = GoldenFile.read(tmp.resolve("old.json"));
    assertArrayEquals(new double[] {0.75}, g.outputs().get("click").floats());
  }

  @Test
  void polygraphyErrorsNameTheProblem() throws Exception {
    Path f = tmp.resolve("x.json");
    Files.writeString(f, "{\"lst\": [], \"polygraphy_class\": \"RunResults\"}");
    assertTrue(
        assertThrows(BadInputException.class, () -> GoldenFile.read(f))
            .getMessage()
            .contains("no runner"));
    Files.writeString(f, "[1, 2]");
    assertTrue(
        assertThrows(BadInputException.class, () -> GoldenFile.read(f))
            .getMessage()
            .contains("RunResults"));
    sample().write(f);
    Files.delete(tmp.resolve("x.inputs.json"));
    BadInputException e = assertThrows(BadInputException.class, () -> GoldenFile.read(f));
    assertTrue(
        e.getMessage().contains("x.inputs.json") && e.getMessage().contains("--save-inputs"),
        e.getMessage());
  }

  @Test
  void goldenFileBackendReplaysOnlyItsOwnInputs() {
    GoldenFile g = sample();
    GoldenFileBackend b = new GoldenFileBackend(g);
    assertEquals(List.copyOf(g.outputs().keySet()), List.copyOf(b.infer(g.inputs()).keySet()));
    HostTensor other = HostTensor.ofFloats("tokens", new long[] {2, 2, 3}, new double[12]);
    assertThrows(BackendException.class, () -> b.infer(Map.of("tokens", other)));
  }
}
