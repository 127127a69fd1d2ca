package dev.msnexport.ortops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.msnexport.ops.ElementType;
import dev.msnexport.ops.OpSpec;
import dev.msnexport.ops.OpTable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real libmsn_ort_ops.so agrees with the op table (core's ops.json): every op of the table runs
 * as a one-node model built from the table's signature alone, for every accepted input type, and
 * gives the table's outputs (count, element type, rank); a node with an input too few or too many,
 * without a required attribute, with an int attribute outside its range or a string attribute
 * outside its allowed values is refused. Inputs are zeros with every dimension 2 unless {@link
 * #SHAPES} gives the op's own example shapes; int attributes take their smallest allowed value (at
 * least 1), string attributes their first allowed value.
 */
class OrtOpTableTest {
  private static final long DIM = 2;
  private static final String NODE = "table_node";

  /**
   * Input shapes of ops on which zeros of dims 2 are not a valid input (docs/adding-an-op.md, step
   * 5): op id to one shape per input, in table order. MsnLayer: x [N=2, D=2], Wq [2dk=2, D], bq
   * [2dk], the four LayerNorm tensors [dk=1], K_row/K_col [S=2, dk], values [S*S=4, D].
   */
  static final Map<String, long[][]> SHAPES =
      Map.of(
          OpTable.MSN_LAYER,
          new long[][] {{2, 2}, {2, 2}, {2}, {1}, {1}, {1}, {1}, {2, 1}, {2, 1}, {4, 2}});

  static Stream<OpSpec> ops() {
    return OpTable.standard().ops().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void everyOpRunsWithTheTablesSignature(OpSpec op) throws OrtException {
    int variants = op.inputs().stream().mapToInt(i -> i.types().size()).max().orElse(1);
    for (int v = 0; v < variants; v++) {
      List<ElementType> types = inputTypes(op, v);
      int n = givenInputs(op, types);
      byte[] model = model(op, types, n, attributes(op, null, null));
      try (OrtRunner r = new OrtRunner(1);
          OrtSession s = r.newSession(model);
          Inputs in = Inputs.zeros(op, types, n);
          OrtSession.Result out = s.run(in.map())) {
        assertEquals(op.outputs().size(), out.size(), op.name() + " output count");
        List<Integer> codes = types.stream().map(ElementType::onnxCode).toList();
        for (int o = 0; o < op.outputs().size(); o++) {
          OpSpec.Output spec = op.outputs().get(o);
          OnnxTensor t = (OnnxTensor) out.get(spec.name()).orElseThrow();
          ElementType expected = ElementType.ofOnnx(op.outputOnnxType(o, codes));
          assertEquals(
              ZeroTensors.javaType(expected),
              t.getInfo().type,
              op.name()
                  + " output "
                  + spec.name()
                  + " type ("
                  + expected
                  + ") for inputs "
                  + types);
          assertEquals(spec.rank(), t.getInfo().getShape().length, spec.name() + " rank");
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void wrongArityIsRefused(OpSpec op) throws OrtException {
    List<ElementType> types = inputTypes(op, 0);
    int required = op.requiredInputs();
    assertTrue(required > 0, op.name() + " has a required input to leave out");
    String fewer =
        refused(
            model(op, types, required - 1, attributes(op, null, null)), op, types, required - 1);
    assertFalse(fewer.isEmpty());
    List<ElementType> more = new ArrayList<>(types);
    more.add(types.get(0));
    String extra =
        refused(model(op, more, more.size(), attributes(op, null, null)), op, more, more.size());
    assertFalse(extra.isEmpty());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void missingOrOutOfRangeAttributesAreRefused(OpSpec op) throws OrtException {
    List<ElementType> types = inputTypes(op, 0);
    int n = op.inputs().size();
    for (OpSpec.Attribute a : op.attributes()) {
      if (a.required()) {
        String msg = refused(model(op, types, n, attributes(op, a.name(), null)), op, types, n);
        assertTrue(msg.contains("'" + a.name() + "'"), "names the missing attribute: " + msg);
      }
      List<AttributeProto> bad = new ArrayList<>();
      if (a.min() != null) {
        bad.add(OnnxGraphs.intAttr(a.name(), a.min() - 1));
      }
      if (a.max() != null) {
        bad.add(OnnxGraphs.intAttr(a.name(), a.max() + 1));
      }
      if (!a.values().isEmpty()) {
        bad.add(OnnxGraphs.stringAttr(a.name(), "not_" + a.values().get(0)));
      }
      for (AttributeProto value : bad) {
        String msg = refused(model(op, types, n, attributes(op, a.name(), value)), op, types, n);
        assertTrue(
            msg.contains(NODE) && msg.contains(a.name()), "names node and attribute: " + msg);
      }
    }
  }

  /**
   * An optional input with a {@code givenWhen} rule (SparseGather's {@code scales}) is refused when
   * the rule holds and it is left out, and when the rule does not hold and it is given.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void inputsGivenByRuleAreCheckedByTheKernel(OpSpec op) throws OrtException {
    int variants = op.inputs().stream().mapToInt(i -> i.types().size()).max().orElse(1);
    int all = op.inputs().size();
    for (int i = op.requiredInputs(); i < all; i++) {
      if (op.inputs().get(i).givenWhen() == null) {
        continue;
      }
      String name = op.inputs().get(i).name();
      for (int v = 0; v < variants; v++) {
        List<ElementType> types = inputTypes(op, v);
        int n = op.gives(i, types) ? i : all; // leave it out where due, give it where not
        String msg = refused(model(op, types, n, attributes(op, null, null)), op, types, n);
        assertTrue(msg.contains(NODE) && msg.contains("'" + name + "'"), types + ": " + msg);
      }
    }
  }

  /** How many leading inputs a node of these input types gives ({@link OpSpec#gives}). */
  private static int givenInputs(OpSpec op, List<ElementType> types) {
    int n = 0;
    while (n < op.inputs().size() && op.gives(n, types)) {
      n++;
    }
    return n;
  }

  /** Variant v: input i takes its v-th accepted type (its last one if it has fewer). */
  private static List<ElementType> inputTypes(OpSpec op, int v) {
    return op.inputs().stream().map(i -> i.types().get(Math.min(v, i.types().size() - 1))).toList();
  }

  /**
   * The attributes of a valid node (its required ones); {@code changed} (when not null) is left out
   * ({@code value} null) or set to {@code value}.
   */
  private static List<AttributeProto> attributes(OpSpec op, String changed, AttributeProto value) {
    List<AttributeProto> out = new ArrayList<>();
    for (OpSpec.Attribute a : op.attributes()) {
      if (a.name().equals(changed)) {
        if (value != null) {
          out.add(value);
        }
      } else if (a.required()) {
        out.add(validValue(op, a));
      }
    }
    return out;
  }

  /** The smallest valid int (at least 1), or the first allowed string. */
  private static AttributeProto validValue(OpSpec op, OpSpec.Attribute a) {
    if (a.type().equals("int")) {
      return OnnxGraphs.intAttr(a.name(), a.min() == null ? 1 : Math.max(1, a.min()));
    }
    if (a.type().equals("string") && !a.values().isEmpty()) {
      return OnnxGraphs.stringAttr(a.name(), a.values().get(0));
    }
    return fail(
        op.name()
            + ": required attribute "
            + a.name()
            + " of type "
            + a.type()
            + " without allowed values: give the table its values or add a value here");
  }

  /** The example shape of input {@code i} (an extra input beyond the table's: [2, 2]). */
  static long[] shape(OpSpec op, int i) {
    long[][] given = SHAPES.get(op.id());
    if (given != null && i < given.length) {
      return given[i];
    }
    long[] d = new long[i < op.inputs().size() ? op.inputs().get(i).rank() : 2];
    Arrays.fill(d, DIM);
    return d;
  }

  /** A one-node model: the op with the first {@code n} inputs typed {@code types}. */
  private static byte[] model(
      OpSpec op, List<ElementType> types, int n, List<AttributeProto> attrs) {
    OnnxGraphs.Graph g = new OnnxGraphs.Graph();
    List<String> inputs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String name = Inputs.name(op, i);
      inputs.add(name);
      if (ZeroTensors.javaType(types.get(i)) == null) {
        g.initializer(zeroInitializer(name, types.get(i), shape(op, i)));
      } else {
        g.input(name, types.get(i).onnxCode(), Arrays.stream(shape(op, i)).boxed().toArray());
      }
    }
    List<String> outputs = op.outputs().stream().map(OpSpec.Output::name).toList();
    g.node(op.name(), NODE, inputs, outputs, attrs.toArray(AttributeProto[]::new));
    List<Integer> codes = types.stream().map(ElementType::onnxCode).toList();
    for (int o = 0; o < outputs.size(); o++) {
      g.output(outputs.get(o), op.outputOnnxType(o, codes));
    }
    return g.toBytes();
  }

  /** Zeros of a 1-byte type ONNX Runtime's Java API has no tensor for (float8e4m3fn). */
  private static TensorProto zeroInitializer(String name, ElementType type, long[] shape) {
    long count = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    return TensorProto.newBuilder()
        .setName(name)
        .setDataType(type.onnxCode())
        .addAllDims(Arrays.stream(shape).boxed().toList())
        .setRawData(ByteString.copyFrom(new byte[(int) count]))
        .build();
  }

  /** The message of the failure of loading or running the model; fails if both succeed. */
  private static String refused(byte[] model, OpSpec op, List<ElementType> types, int n)
      throws OrtException {
    try (OrtRunner r = new OrtRunner(1)) {
      try (OrtSession s = r.newSession(model);
          Inputs in = Inputs.zeros(op, types, n);
          OrtSession.Result out = s.run(in.map())) {
        fail(op.name() + ": a node with " + n + " inputs " + types + " ran: " + out.size());
      } catch (OrtException e) {
        return e.getMessage();
      }
    }
    return "";
  }

  /** Zero-filled inputs of the example shapes; closes its tensors. */
  record Inputs(Map<String, OnnxTensor> map) implements AutoCloseable {
    static String name(OpSpec op, int i) {
      return i < op.inputs().size() ? op.inputs().get(i).name() : "extra" + i;
    }

    static Inputs zeros(OpSpec op, List<ElementType> types, int n) throws OrtException {
      Map<String, OnnxTensor> m = new LinkedHashMap<>();
      Inputs in = new Inputs(m);
      try {
        for (int i = 0; i < n; i++) {
          if (ZeroTensors.javaType(types.get(i)) != null) { // else an initializer of the model
            m.put(name(op, i), ZeroTensors.of(types.get(i), shape(op, i)));
          }
        }
      } catch (OrtException | RuntimeException e) {
        in.close();
        throw e;
      }
      return in;
    }

    @Override
    public void close() {
      map.values().forEach(OnnxTensor::close);
    }
  }
}
