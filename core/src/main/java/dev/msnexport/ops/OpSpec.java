package dev.msnexport.ops;

import java.util.List;
import java.util.Optional;

/**
 * One custom op of the table ({@code ops.json}): its stable id (snake_case, also the name of its
 * native source folders), its ONNX op type (= TensorRT plugin name), and its signature.
 */
public record OpSpec(
    String id,
    String name,
    String doc,
    List<Input> inputs,
    List<Output> outputs,
    List<Attribute> attributes) {

  /**
   * An input: its name, the element types it accepts, its rank, whether it may be omitted, and for
   * an optional input the rule of when a node gives it ({@code givenWhen}; null: the node may or
   * may not).
   */
  public record Input(
      String name, List<ElementType> types, int rank, boolean optional, GivenWhen givenWhen) {
    public Input(String name, List<ElementType> types, int rank, boolean optional) {
      this(name, types, rank, optional, null);
    }
  }

  /**
   * ops.json's {@code givenWhen} of an optional input: the node gives it exactly when input {@code
   * input} has one of {@code types} (SparseGather's {@code scales}: with an int8 or float8e4m3fn
   * table, and only then).
   */
  public record GivenWhen(String input, List<ElementType> types) {}

  /**
   * An output: its name, its element type rule ({@code "same:INPUT"}: the type of input INPUT, or a
   * fixed type such as {@code "int64"}), and its rank.
   */
  public record Output(String name, String type, int rank) {
    static final String SAME_PREFIX = "same:";

    /** The input whose type this output takes, if the rule is {@code "same:INPUT"}. */
    public Optional<String> sameAs() {
      return type.startsWith(SAME_PREFIX)
          ? Optional.of(type.substring(SAME_PREFIX.length()))
          : Optional.empty();
    }

    /** The fixed element type, if the rule names one. */
    public Optional<ElementType> fixedType() {
      return sameAs().isPresent() ? Optional.empty() : Optional.of(ElementType.of(type));
    }
  }

  /**
   * An attribute: name, ONNX attribute type ({@code int}, {@code float}, {@code string}, {@code
   * ints}, {@code floats}), whether a node must carry it, for ints an inclusive range (null:
   * unbounded on that side), and for strings the allowed values (empty: any string).
   */
  public record Attribute(
      String name, String type, boolean required, Long min, Long max, List<String> values) {}

  /** The attribute {@code attributeName}; fails naming the op and its attributes. */
  public Attribute attribute(String attributeName) {
    return attributes.stream()
        .filter(a -> a.name().equals(attributeName))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "op "
                        + name
                        + " has no attribute '"
                        + attributeName
                        + "' in the op table (attributes: "
                        + attributes.stream().map(Attribute::name).toList()
                        + ")"));
  }

  /** The index of input {@code inputName}, or -1. */
  public int inputIndex(String inputName) {
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i).name().equals(inputName)) {
        return i;
      }
    }
    return -1;
  }

  /** The number of inputs a node must have (those before the first optional one). */
  public int requiredInputs() {
    int n = 0;
    while (n < inputs.size() && !inputs.get(n).optional()) {
      n++;
    }
    return n;
  }

  /**
   * Whether a node whose inputs have the element types {@code inputTypes} (in table order) gives
   * input {@code index}: required inputs always; an optional one with {@link GivenWhen} exactly
   * when its rule holds; any other optional one may be given (true).
   */
  public boolean gives(int index, List<ElementType> inputTypes) {
    Input in = inputs.get(index);
    if (!in.optional() || in.givenWhen() == null) {
      return true;
    }
    int other = inputIndex(in.givenWhen().input());
    return in.givenWhen().types().contains(inputTypes.get(other));
  }

  /**
   * The ONNX element type of output {@code index}, given the ONNX types of the node's inputs (0
   * where unknown); 0 when it depends on an unknown input type or {@code index} is out of range.
   */
  public int outputOnnxType(int index, List<Integer> inputTypes) {
    if (index < 0 || index >= outputs.size()) {
      return 0;
    }
    Output o = outputs.get(index);
    Optional<String> same = o.sameAs();
    if (same.isEmpty()) {
      return o.fixedType().orElseThrow().onnxCode();
    }
    int i = inputIndex(same.get());
    return i < inputTypes.size() ? inputTypes.get(i) : 0;
  }
}
