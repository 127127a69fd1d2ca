package dev.msnexport.profiles;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.msnexport.common.BadInputException;
import dev.msnexport.parity.Tolerance;
import java.util.List;
import java.util.Map;

/**
 * A named deployment profile: the model configuration plus how it is served (batch shapes,
 * precision) and how it is checked (tolerances, latency budgets). Documented in profiles/README.md.
 */
@JsonPropertyOrder({
  "name",
  "description",
  "model",
  "batch",
  "precision",
  "values_dtype",
  "tolerances",
  "latency"
})
public record Profile(
    @JsonProperty(value = "name", required = true) String name,
    @JsonProperty("description") String description,
    @JsonProperty(value = "model", required = true) ModelConfig model,
    @JsonProperty(value = "batch", required = true) BatchShapes batch,
    @JsonProperty("precision") String precision,
    @JsonProperty("values_dtype") String valuesDtype,
    @JsonProperty(value = "tolerances", required = true) Map<String, Tolerance> tolerances,
    @JsonProperty("latency") LatencyBudget latency) {

  /**
   * Batch sizes for the optimization profiles of an engine: smallest, tuned-for and largest, and
   * optionally {@code opt_batches}, one optimization profile (bucket) per listed batch ({@link
   * BatchBuckets}): TensorRT picks kernels for a profile's opt shape, so an engine with one bucket
   * per batch regime runs each batch with kernels chosen for it.
   *
   * @param optBatches strictly increasing batch sizes within [min, max]; empty: one profile (min,
   *     opt, max)
   */
  @JsonPropertyOrder({"min", "opt", "max", "opt_batches"})
  public record BatchShapes(
      @JsonProperty(value = "min", required = true) int min,
      @JsonProperty(value = "opt", required = true) int opt,
      @JsonProperty(value = "max", required = true) int max,
      @JsonProperty("opt_batches")
          @JsonInclude(JsonInclude.Include.NON_EMPTY)
          @JsonDeserialize(contentUsing = BatchBuckets.StrictInt.class)
          List<Integer> optBatches) {
    @JsonCreator
    public BatchShapes {
      // nulls kept (not List.copyOf) so that validation can name them
      optBatches =
          optBatches == null
              ? List.of()
              : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(optBatches));
    }

    /** One optimization profile (min, opt, max), without buckets. */
    public BatchShapes(int min, int opt, int max) {
      this(min, opt, max, List.of());
    }

    /** The same range with {@code opt} batches (null or empty: one profile). */
    public BatchShapes withOptBatches(List<Integer> batches) {
      return new BatchShapes(min, opt, max, batches);
    }

    /**
     * The optimization profiles an engine of these shapes gets, in order ({@link BatchBuckets}).
     */
    public List<BatchShapes> buckets() {
      return BatchBuckets.of(this);
    }
  }

  /**
   * Latency gates: {@code max_p99_ratio} bounds p99(candidate) / p99(reference graph) measured in
   * one run; {@code max_p99_regression} bounds the p99 growth against a saved baseline.
   */
  @JsonPropertyOrder({"max_p99_ratio", "max_p99_regression"})
  public record LatencyBudget(
      @JsonProperty("max_p99_ratio") double maxP99Ratio,
      @JsonProperty("max_p99_regression") double maxP99Regression) {}

  /** Value-table storage types a profile may name as its default. */
  public static final java.util.List<String> VALUES_DTYPES =
      java.util.List.of("fp32", "fp16", "bf16");

  /**
   * The storage type of the value tables that {@code init} writes and {@code export} stores when no
   * {@code --values-dtype} is given: the profile's {@code values_dtype}, fp32 when absent.
   */
  public String defaultValuesDtype() {
    return valuesDtype != null ? valuesDtype : "fp32";
  }

  /** The tolerance for a precision ("fp32", "fp16", "bf16"), falling back to fp32's. */
  public Tolerance tolerance(String forPrecision) {
    Tolerance t = tolerances.get(forPrecision);
    return t != null ? t : tolerances.get("fp32");
  }

  public Profile validate(String where) {
    if (name == null || name.isBlank()) {
      throw new BadInputException(where + ": field 'name' must not be empty");
    }
    if (model == null) {
      throw new BadInputException(where + ": field 'model' must be an object, got null");
    }
    model.validate(where + " (field 'model')");
    if (batch == null) {
      throw new BadInputException(
          where + ": field 'batch' must be an object with min, opt and max, got null");
    }
    if (batch.min() < 1 || batch.opt() < batch.min() || batch.max() < batch.opt()) {
      throw new BadInputException(
          where + ": field 'batch' must satisfy 1 <= min <= opt <= max, got " + batch);
    }
    BatchBuckets.validate(batch, where);
    if (precision != null && !precision.equals("fp32") && !precision.equals("fp16")) {
      throw new BadInputException(
          where + ": field 'precision' is '" + precision + "', expected fp32 or fp16");
    }
    if (valuesDtype != null && !VALUES_DTYPES.contains(valuesDtype)) {
      throw new BadInputException(
          where
              + ": field 'values_dtype' is '"
              + valuesDtype
              + "', expected one of "
              + String.join(", ", VALUES_DTYPES));
    }
    if (tolerances == null || !tolerances.containsKey("fp32")) {
      throw new BadInputException(where + ": field 'tolerances' must hold an 'fp32' entry");
    }
    for (Map.Entry<String, Tolerance> e : tolerances.entrySet()) {
      Tolerance t = e.getValue();
      if (t == null || !(t.atol() >= 0) || !(t.rtol() >= 0) || !(t.tieEpsilon() >= 0)) {
        throw new BadInputException(
            where
                + ": field 'tolerances."
                + e.getKey()
                + "' needs non-negative atol, rtol, tie_epsilon");
      }
    }
    if (latency != null && (!(latency.maxP99Ratio() >= 0) || !(latency.maxP99Regression() >= 0))) {
      throw new BadInputException(
          where
              + ": field 'latency' needs non-negative max_p99_ratio and max_p99_regression, got "
              + latency);
    }
    return this;
  }
}
