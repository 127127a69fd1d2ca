package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.CodedInputStream;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import dev.msnexport.ops.OpTable;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The intermediate tensors of an ONNX graph (every node output), with their op, node and element
 * type, and a copy of a graph with some of them added as graph outputs ({@code verify
 * --mark-outputs}, like Polygraphy's {@code --onnx-outputs}). Reads the {@code .onnx} file only:
 * initializers in external data stay there.
 *
 * <p>Element types come from the graph's {@code value_info} when it has them, else from the
 * producing op: the exporter writes none, so they are derived op by op from the graph inputs and
 * initializers ({@code Cast} gives its {@code to}, {@code TopK}'s second output and {@code Shape}
 * int64, comparisons bool, {@code msn::PKMRetrieval} float and int64, {@code msn::SparseGather}
 * float, and the ops listed in {@link #SAME_AS_FIRST_INPUT} the type of their first input). A
 * tensor whose type cannot be derived that way is added as an output without a type, for the
 * runtime's own inference to fill in.
 */
public final class OnnxTensors {
  private OnnxTensors() {}

  /**
   * One node output: tensor name, op (with its domain when not the default), node name, element
   * type (0: unknown).
   */
  public record Tensor(String name, String op, String node, int elemType) {
    /**
     * The element type as ONNX names it in lower case ("float", "int64", "float16"), or "?" when
     * unknown.
     */
    public String dtype() {
      if (elemType == 0) {
        return "?";
      }
      TensorProto.DataType t = TensorProto.DataType.forNumber(elemType);
      return t == null ? Integer.toString(elemType) : t.name().toLowerCase(Locale.ROOT);
    }
  }

  /** Ops whose every output has the element type of their first input (in ONNX opset 17). */
  static final Set<String> SAME_AS_FIRST_INPUT =
      Set.of(
          "Abs",
          "Add",
          "Sub",
          "Mul",
          "Div",
          "Neg",
          "Pow",
          "Sqrt",
          "Exp",
          "Log",
          "Erf",
          "Tanh",
          "Sigmoid",
          "Relu",
          "Gelu",
          "Softmax",
          "LogSoftmax",
          "MatMul",
          "Gemm",
          "Reshape",
          "Transpose",
          "Slice",
          "Squeeze",
          "Unsqueeze",
          "Flatten",
          "Concat",
          "Split",
          "Expand",
          "Tile",
          "Identity",
          "Gather",
          "GatherElements",
          "GatherND",
          "ReduceSum",
          "ReduceMean",
          "ReduceMax",
          "ReduceMin",
          "LayerNormalization",
          "Max",
          "Min",
          "Clip");

  /**
   * Reads an ONNX model file (not its external data). A file that is not a valid model is bad input
   * naming it.
   */
  public static ModelProto read(Path onnx) {
    return InputFiles.load(onnx, "ONNX model", () -> parse(readBytes(onnx), onnx.toString()));
  }

  /** The bytes of an ONNX model file, or bad input naming it (missing, unreadable, over 2 GiB). */
  public static byte[] readBytes(Path onnx) {
    return InputFiles.load(onnx, "ONNX model", () -> readAll(onnx));
  }

  private static byte[] readAll(Path onnx) {
    InputFiles.requireRegularFile(onnx, "ONNX model");
    try {
      long size = Files.size(onnx);
      if (size > Integer.MAX_VALUE - 8) {
        throw new BadInputException(
            "ONNX model "
                + onnx
                + " has "
                + size
                + " bytes, more than a protobuf message can hold (2 GiB): "
                + "large tensors belong in external data");
      }
      return Files.readAllBytes(onnx);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new BadInputException("ONNX model " + onnx + " does not exist", e);
    } catch (IOException e) {
      throw new BadInputException("ONNX model " + onnx + " cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * Parses an ONNX model; {@code path} names it in messages. Whatever the bytes, the only failure
   * is a {@link BadInputException}. Parsed from a heap array on purpose: on malformed input,
   * protobuf-java 3.25's InputStream decoder throws ArrayIndexOutOfBoundsException and its
   * direct-buffer decoder can crash the JVM (SIGSEGV), while the array decoder's reads are
   * bounds-checked. Aliasing keeps tensor bytes in the array instead of copying them.
   */
  public static ModelProto parse(byte[] data, String path) {
    try {
      CodedInputStream cis = CodedInputStream.newInstance(data);
      cis.enableAliasing(true);
      return ModelProto.parseFrom(cis);
    } catch (IOException e) {
      throw new BadInputException(
          "ONNX model " + path + " is not a valid ONNX protobuf: " + e.getMessage(), e);
    }
  }

  /**
   * Every node output of the graph, in node order (the top-level graph; subgraphs are not entered).
   */
  public static List<Tensor> list(ModelProto model) {
    GraphProto g = model.getGraph();
    Map<String, Integer> types = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) {
      types.put(t.getName(), t.getDataType());
    }
    for (ValueInfoProto v : g.getInputList()) {
      putType(types, v);
    }
    Map<String, Integer> declared = new HashMap<>();
    for (ValueInfoProto v : g.getValueInfoList()) {
      putType(declared, v);
    }
    for (ValueInfoProto v : g.getOutputList()) {
      putType(declared, v);
    }
    List<Tensor> out = new ArrayList<>();
    for (NodeProto n : g.getNodeList()) {
      String op =
          (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx") ? "" : n.getDomain() + "::")
              + n.getOpType();
      for (int o = 0; o < n.getOutputCount(); o++) {
        String name = n.getOutput(o);
        if (name.isEmpty()) {
          continue; // an omitted optional output
        }
        int t = declared.getOrDefault(name, 0);
        if (t == 0) {
          t = derivedType(n, o, types);
        }
        if (t != 0) {
          types.put(name, t);
        }
        out.add(new Tensor(name, op, n.getName(), t));
      }
    }
    return out;
  }

  private static void putType(Map<String, Integer> types, ValueInfoProto v) {
    if (v.hasType()
        && v.getType().hasTensorType()
        && v.getType().getTensorType().getElemType() != 0) {
      types.put(v.getName(), v.getType().getTensorType().getElemType());
    }
  }

  /**
   * The element type of output {@code o} of {@code n} from its op and its inputs' types; 0 when
   * unknown.
   */
  private static int derivedType(NodeProto n, int o, Map<String, Integer> types) {
    String op = n.getOpType();
    int first = n.getInputCount() > 0 ? types.getOrDefault(n.getInput(0), 0) : 0;
    if (n.getDomain().equals(MsnOnnxExporter.DOMAIN)) {
      List<Integer> inputTypes =
          n.getInputList().stream().map(i -> types.getOrDefault(i, 0)).toList();
      return OpTable.standard()
          .byName(op)
          .map(spec -> spec.outputOnnxType(o, inputTypes))
          .orElse(0);
    }
    if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
      return 0;
    }
    return switch (op) {
      case "Cast" -> (int) attribute(n, "to", 0);
      case "TopK" -> o == 0 ? first : TensorProto.DataType.INT64_VALUE;
      case "Shape", "Size", "ArgMax", "ArgMin", "NonZero" -> TensorProto.DataType.INT64_VALUE;
      case "Equal",
          "Less",
          "LessOrEqual",
          "Greater",
          "GreaterOrEqual",
          "Not",
          "And",
          "Or",
          "Xor",
          "IsNaN",
          "IsInf" ->
          TensorProto.DataType.BOOL_VALUE;
      case "Where" -> n.getInputCount() > 1 ? types.getOrDefault(n.getInput(1), 0) : 0;
      case "Constant" -> constantType(n);
      default -> SAME_AS_FIRST_INPUT.contains(op) ? first : 0;
    };
  }

  private static long attribute(NodeProto n, String name, long dflt) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return dflt;
  }

  private static int constantType(NodeProto n) {
    for (AttributeProto a : n.getAttributeList()) {
      switch (a.getName()) {
        case "value":
          return a.getT().getDataType();
        case "value_float", "value_floats":
          return TensorProto.DataType.FLOAT_VALUE;
        case "value_int", "value_ints":
          return TensorProto.DataType.INT64_VALUE;
        default:
          break;
      }
    }
    return 0;
  }

  /**
   * A copy of {@code model} whose graph also outputs {@code names} (after its own outputs, in the
   * given order), typed as {@link #list} derives them; {@code file} names the model in messages. A
   * name that is not a node output, or that is already a graph output, is bad input.
   */
  public static ModelProto withOutputs(ModelProto model, List<String> names, String file) {
    Map<String, Tensor> byName = new LinkedHashMap<>();
    for (Tensor t : list(model)) {
      byName.putIfAbsent(t.name(), t);
    }
    Set<String> outputs = new HashSet<>();
    model.getGraph().getOutputList().forEach(v -> outputs.add(v.getName()));
    GraphProto.Builder g = model.getGraph().toBuilder();
    Set<String> seen = new HashSet<>();
    for (String name : names) {
      Tensor t = byName.get(name);
      if (t == null) {
        throw new BadInputException(
            "tensor '"
                + name
                + "' is not a node output of "
                + file
                + " ('msn-export inspect "
                + file
                + " --tensors' lists them)");
      }
      if (outputs.contains(name)) {
        throw new BadInputException(
            "tensor '" + name + "' is already an output of " + file + ": it is compared anyway");
      }
      if (!seen.add(name)) {
        continue;
      }
      ValueInfoProto.Builder v = ValueInfoProto.newBuilder().setName(name);
      if (t.elemType() != 0) {
        v.setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(t.elemType())));
      }
      g.addOutput(v);
    }
    return model.toBuilder().setGraph(g).build();
  }

  /**
   * Writes {@code model} to a fresh temporary sibling of {@code original} (so that relative
   * external-data paths resolve as they do for the original) and returns its path; the file is
   * deleted when {@code scratch} closes uncommitted. For the modified graphs that runtimes parse
   * (marked outputs, the fp16 variant), never for results.
   */
  public static Path writeBeside(ModelProto model, Path original, AtomicFiles.Batch scratch) {
    Path copy = scratch.tempFor(original.toAbsolutePath());
    try (OutputStream out =
        new BufferedOutputStream(
            Files.newOutputStream(copy, AtomicFiles.existingTemp()), 1 << 20)) {
      model.writeTo(out);
    } catch (IOException e) {
      throw AtomicFiles.writeFailed(copy, e);
    }
    return copy;
  }

  /**
   * Checks that every name is a node output of {@code model} and not already a graph output ({@link
   * #withOutputs}).
   */
  public static void requireMarkable(ModelProto model, List<String> names, String file) {
    withOutputs(model, names, file);
  }
}
