package dev.msnexport.exporter.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a safetensors file (8-byte little-endian header length, a JSON header, then the data) with
 * every structural check the format allows, and hands out memory-mapped {@link TensorView}s.
 * Nothing is copied: a 2 GiB value table costs no heap. Close to unmap (the views die with it).
 */
public final class SafetensorsFile implements AutoCloseable {
  /** The format's own limit on the header size. */
  public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final FileChannel channel;
  private final Map<String, TensorView> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(
      Path path,
      FileChannel channel,
      Map<String, TensorView> tensors,
      Map<String, String> metadata) {
    this.path = path;
    this.channel = channel;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  public static SafetensorsFile open(Path path) {
    FileChannel ch;
    InputFiles.requireRegularFile(path, "safetensors file");
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new BadInputException("safetensors file " + path + " does not exist");
    } catch (IOException e) {
      throw new BadInputException(
          "safetensors file " + path + " cannot be opened: " + e.getMessage(), e);
    }
    try {
      SafetensorsFile f = parse(path, ch);
      ch = null;
      return f;
    } catch (IOException e) {
      throw new BadInputException(
          "safetensors file " + path + " cannot be read: " + e.getMessage(), e);
    } finally {
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
    }
  }

  private static SafetensorsFile parse(Path path, FileChannel ch) throws IOException {
    String where = "safetensors file " + path;
    long size = ch.size();
    if (size < 8) {
      throw new BadInputException(
          where + " is truncated: " + size + " bytes, shorter than the 8-byte header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0);
    long headerLen = lenBuf.getLong(0);
    if (headerLen < 0 || headerLen > size - 8) {
      throw new BadInputException(
          where
              + ": header length "
              + Long.toUnsignedString(headerLen)
              + " is larger than the file ("
              + size
              + " bytes): truncated or not a safetensors file");
    }
    if (headerLen > MAX_HEADER_BYTES) {
      throw new BadInputException(
          where
              + ": header length "
              + headerLen
              + " exceeds the format's limit of "
              + MAX_HEADER_BYTES);
    }
    ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
    readFully(ch, hb, 8);
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(hb.flip())
              .toString();
    } catch (CharacterCodingException e) {
      throw new BadInputException(where + ": header is not valid UTF-8");
    }
    JsonNode root;
    try {
      root = JSON.readTree(text.strip());
    } catch (JacksonException e) {
      throw new BadInputException(
          where + ": malformed header JSON: " + e.getOriginalMessage().replace('\n', ' '));
    }
    if (root == null || !root.isObject()) {
      throw new BadInputException(where + ": header JSON must be an object");
    }
    long dataStart = 8 + headerLen;
    long dataLen = size - dataStart;
    Map<String, String> metadata = new LinkedHashMap<>();
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {}
    List<Entry> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode v = e.getValue();
      if (name.equals("__metadata__")) {
        if (!v.isObject()) {
          throw new BadInputException(where + ": __metadata__ must be an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
          Map.Entry<String, JsonNode> kv = m.next();
          if (!kv.getValue().isTextual()) {
            throw new BadInputException(
                where + ": __metadata__." + kv.getKey() + " must be a string");
          }
          metadata.put(kv.getKey(), kv.getValue().asText());
        }
        continue;
      }
      String tw = where + ": tensor '" + name + "'";
      if (!v.isObject()) {
        throw new BadInputException(tw + " must be an object with dtype, shape and data_offsets");
      }
      JsonNode dt = v.get("dtype");
      if (dt == null || !dt.isTextual()) {
        throw new BadInputException(tw + ": missing field 'dtype'");
      }
      DType dtype =
          DType.fromSafetensors(dt.asText())
              .orElseThrow(
                  () -> new BadInputException(tw + ": unknown dtype '" + dt.asText() + "'"));
      JsonNode sh = v.get("shape");
      if (sh == null || !sh.isArray()) {
        throw new BadInputException(tw + ": missing field 'shape' (an array)");
      }
      long[] shape = new long[sh.size()];
      for (int i = 0; i < shape.length; i++) {
        JsonNode d = sh.get(i);
        if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
          throw new BadInputException(
              tw + ": shape[" + i + "] must be a non-negative integer, got " + d);
        }
        shape[i] = d.asLong();
      }
      JsonNode off = v.get("data_offsets");
      if (off == null
          || !off.isArray()
          || off.size() != 2
          || !off.get(0).canConvertToLong()
          || !off.get(1).canConvertToLong()
          || !off.get(0).isIntegralNumber()
          || !off.get(1).isIntegralNumber()) {
        throw new BadInputException(tw + ": field 'data_offsets' must be [begin, end]");
      }
      long begin = off.get(0).asLong();
      long end = off.get(1).asLong();
      if (begin < 0 || end < begin) {
        throw new BadInputException(
            tw + ": data_offsets [" + begin + ", " + end + "] are not an ordered range");
      }
      long expected;
      try {
        expected = Math.multiplyExact(TensorView.numel(shape), dtype.size());
      } catch (ArithmeticException ex) {
        throw new BadInputException(tw + ": shape " + sh + " overflows");
      }
      if (end - begin != expected) {
        throw new BadInputException(
            tw
                + ": data_offsets span "
                + (end - begin)
                + " bytes but dtype "
                + dtype.safetensorsName()
                + " and shape "
                + sh
                + " need "
                + expected);
      }
      if (end > dataLen) {
        throw new BadInputException(
            tw
                + ": data ends at byte "
                + end
                + " of the data section but the file holds only "
                + dataLen
                + " data bytes: the file is truncated");
      }
      entries.add(new Entry(name, dtype, shape, begin, end));
    }
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingLong(Entry::begin));
    for (int i = 1; i < sorted.size(); i++) {
      if (sorted.get(i).begin() < sorted.get(i - 1).end()) {
        throw new BadInputException(
            where
                + ": tensors '"
                + sorted.get(i - 1).name()
                + "' and '"
                + sorted.get(i).name()
                + "' overlap");
      }
    }
    Map<String, TensorView> views = new LinkedHashMap<>();
    for (Entry e : entries) {
      views.put(
          e.name(), new TensorView(e.name(), e.dtype(), e.shape(), ch, dataStart + e.begin()));
    }
    return new SafetensorsFile(
        path, ch, Collections.unmodifiableMap(views), Collections.unmodifiableMap(metadata));
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += n;
    }
  }

  public Path path() {
    return path;
  }

  /** Tensors in header order. */
  public Map<String, TensorView> tensors() {
    return tensors;
  }

  public TensorView tensor(String name) {
    TensorView t = tensors.get(name);
    if (t == null) {
      throw new BadInputException("safetensors file " + path + ": no tensor '" + name + "'");
    }
    return t;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // read-only channel: nothing to lose
    }
  }

  /** The header JSON node for a tensor, as {@link SafetensorsWriter} writes it. */
  static ObjectNode headerEntry(DType dtype, long[] shape, long begin, long end) {
    ObjectNode n = JSON.createObjectNode();
    n.put("dtype", dtype.safetensorsName());
    var arr = n.putArray("shape");
    for (long d : shape) {
      arr.add(d);
    }
    var off = n.putArray("data_offsets");
    off.add(begin);
    off.add(end);
    return n;
  }

  static ObjectMapper json() {
    return JSON;
  }
}
