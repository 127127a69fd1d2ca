package dev.msnexport.verifier.io;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's {@code .npy} format (what {@code np.save} writes, and what Polygraphy base64-encodes
 * inside its JSON): the magic {@code \x93NUMPY}, a version, a little-endian header length, a
 * Python-literal header dict ({@code descr}, {@code fortran_order}, {@code shape}) padded with
 * spaces to a multiple of 64 bytes and ended by a newline, then the raw C-order data.
 *
 * <p>Writes version 1.0 with {@code <f4}, {@code <f8} or {@code <i8}; reads versions 1.0 to 3.0 in
 * either byte order for float32, float64 and int64 (the types a model of ours produces).
 */
public final class Npy {
  /** The element types we read and write. */
  public enum Type {
    F4("f4", 4, true),
    F8("f8", 8, true),
    I8("i8", 8, false);

    final String code;
    final int size;
    final boolean floating;

    Type(String code, int size, boolean floating) {
      this.code = code;
      this.size = size;
      this.floating = floating;
    }

    /** float32 for float tensors, int64 for integer ones: what our golden files store. */
    public static Type defaultFor(HostTensor t) {
      return t.isInteger() ? I8 : F4;
    }
  }

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int ALIGN = 64;
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private Npy() {}

  /**
   * The tensor as {@code .npy} bytes of {@code type} (float values are rounded to float32 for F4).
   */
  public static byte[] write(HostTensor t, Type type) {
    if (t.isInteger() != !type.floating) {
      throw new IllegalArgumentException(
          t.name() + ": cannot store " + t.dtype() + " as " + type.code);
    }
    StringBuilder shape = new StringBuilder("(");
    long[] s = t.shape();
    for (int i = 0; i < s.length; i++) {
      shape.append(s[i]).append(s.length == 1 ? "," : i + 1 < s.length ? ", " : "");
    }
    shape.append(')');
    String dict =
        "{'descr': '<" + type.code + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int pad = (ALIGN - unpadded % ALIGN) % ALIGN;
    String header = dict + " ".repeat(pad) + "\n";
    int n = t.size();
    ByteBuffer b =
        ByteBuffer.allocate(MAGIC.length + 4 + header.length() + n * type.size)
            .order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    b.put(header.getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < n; i++) {
      switch (type) {
        case F4 -> b.putFloat((float) t.floats()[i]);
        case F8 -> b.putDouble(t.floats()[i]);
        case I8 -> b.putLong(t.ints()[i]);
      }
    }
    return b.array();
  }

  /** Parses {@code .npy} bytes; {@code where} names the source in error messages. */
  public static HostTensor read(String name, byte[] bytes, String where) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 10) {
      throw new BadInputException(where + ": not an .npy array (" + bytes.length + " bytes)");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (bytes[i] != MAGIC[i]) {
        throw new BadInputException(where + ": not an .npy array (no \\x93NUMPY magic)");
      }
    }
    int major = bytes[6] & 0xff;
    long headerLen;
    int start;
    if (major == 1) {
      headerLen = b.getShort(8) & 0xffff;
      start = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.length < 12) {
        throw new BadInputException(where + ": truncated .npy header");
      }
      headerLen = b.getInt(8) & 0xffffffffL;
      start = 12;
    } else {
      throw new BadInputException(
          where + ": unsupported .npy version " + major + "." + (bytes[7] & 0xff));
    }
    if (start + headerLen > bytes.length) {
      throw new BadInputException(
          where + ": truncated .npy header (" + headerLen + " bytes announced)");
    }
    String header =
        new String(
            bytes,
            start,
            (int) headerLen,
            major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    String descr = group(DESCR, header, where, "descr");
    String fortran = group(FORTRAN, header, where, "fortran_order");
    String shapeText = group(SHAPE, header, where, "shape");
    if (fortran.equals("True")) {
      throw new BadInputException(
          where + ": Fortran-order .npy arrays are not supported (save a C-contiguous array)");
    }
    long[] shape = parseShape(shapeText, where);
    if (descr.length() < 2) {
      throw new BadInputException(where + ": bad .npy dtype '" + descr + "'");
    }
    char order = descr.charAt(0);
    String code = descr.substring(1);
    ByteOrder bo =
        switch (order) {
          case '<', '=', '|' -> ByteOrder.LITTLE_ENDIAN;
          case '>' -> ByteOrder.BIG_ENDIAN;
          default -> throw new BadInputException(where + ": bad .npy dtype '" + descr + "'");
        };
    Type type = null;
    for (Type t : Type.values()) {
      if (t.code.equals(code)) {
        type = t;
      }
    }
    if (type == null) {
      throw new BadInputException(
          where + ": .npy dtype '" + descr + "' is not supported (float32, float64 or int64)");
    }
    long numel = 1;
    long need;
    try {
      for (long d : shape) {
        numel = Math.multiplyExact(numel, d);
      }
      need =
          Math.multiplyExact(
              numel, type.size); // unchecked, a product that wraps could match the data length
    } catch (ArithmeticException overflow) {
      throw new BadInputException(where + ": .npy shape (" + shapeText.strip() + ") overflows");
    }
    int dataStart = (int) (start + headerLen);
    if (bytes.length - dataStart != need) {
      throw new BadInputException(
          where
              + ": .npy data holds "
              + (bytes.length - dataStart)
              + " bytes, dtype "
              + descr
              + " and shape "
              + shapeText.strip()
              + " need "
              + need);
    }
    ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) need).slice().order(bo);
    int n = (int) numel;
    if (type == Type.I8) {
      long[] v = new long[n];
      data.asLongBuffer().get(v);
      return HostTensor.ofInts(name, shape, v);
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = type == Type.F4 ? data.getFloat(i * 4) : data.getDouble(i * 8);
    }
    return HostTensor.ofFloats(name, shape, v);
  }

  private static String group(Pattern p, String header, String where, String key) {
    Matcher m = p.matcher(header);
    if (!m.find()) {
      throw new BadInputException(where + ": .npy header has no '" + key + "': " + header.strip());
    }
    return m.group(1);
  }

  private static long[] parseShape(String text, String where) {
    List<Long> dims = new ArrayList<>();
    for (String part : text.split(",")) {
      String s = part.strip();
      if (s.endsWith("L")) {
        s = s.substring(0, s.length() - 1); // Python 2 long literals in old files
      }
      if (s.isEmpty()) {
        continue;
      }
      try {
        long d = Long.parseLong(s);
        if (d < 0) {
          throw new NumberFormatException();
        }
        dims.add(d);
      } catch (NumberFormatException e) {
        throw new BadInputException(where + ": bad .npy shape (" + text + ")");
      }
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }
}
