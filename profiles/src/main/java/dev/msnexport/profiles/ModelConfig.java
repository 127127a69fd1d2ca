package dev.msnexport.profiles;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import dev.msnexport.common.BadInputException;
import java.util.List;

/**
 * The model configuration of docs/model-contract.md, with the contract's key names. It travels
 * with every checkpoint as {@code config.json} and inside every profile as {@code model}.
 *
 * @param T feature tokens per candidate
 * @param D token width (a multiple of T: token mixing splits each token into T chunks)
 * @param L number of blocks
 * @param msnLayers blocks that carry an MSN memory layer
 * @param S sub-keys per half; the memory has {@code S*S} slots
 * @param k slots retrieved per query (and per half)
 * @param dk query/sub-key width per half
 * @param scoreScale factor applied to both halves' scores
 * @param gate activation of the memory gate: tanh, sigmoid or identity
 * @param ffnMult per-token FFN hidden width is {@code ffnMult * D}
 * @param headHidden hidden width of each task head
 * @param tasks output names, one probability each
 * @param perTokenMemory one value table per token ({@code [T, n, D]}) instead of a shared one
 */
@JsonPropertyOrder({"T", "D", "L", "msn_layers", "S", "k", "dk", "score_scale", "gate", "ffn_mult", "head_hidden",
    "tasks", "per_token_memory"})
public record ModelConfig(
    @JsonProperty(value = "T", required = true) int T,
    @JsonProperty(value = "D", required = true) int D,
    @JsonProperty(value = "L", required = true) int L,
    @JsonProperty(value = "msn_layers", required = true) List<Integer> msnLayers,
    @JsonProperty(value = "S", required = true) int S,
    @JsonProperty(value = "k", required = true) int k,
    @JsonProperty(value = "dk", required = true) int dk,
    @JsonProperty("score_scale") @JsonSetter(nulls = Nulls.AS_EMPTY) double scoreScale,
    @JsonProperty("gate") String gate,
    @JsonProperty(value = "ffn_mult", required = true) int ffnMult,
    @JsonProperty(value = "head_hidden", required = true) int headHidden,
    @JsonProperty(value = "tasks", required = true) List<String> tasks,
    @JsonProperty("per_token_memory") @JsonSetter(nulls = Nulls.AS_EMPTY) boolean perTokenMemory) {

  public static final List<String> GATES = List.of("tanh", "sigmoid", "identity");

  @JsonCreator
  public ModelConfig {
    msnLayers = msnLayers == null ? List.of() : List.copyOf(msnLayers);
    tasks = tasks == null ? List.of() : List.copyOf(tasks);
    gate = gate == null ? "tanh" : gate;
    // Optional fields: absent (or null) reads as 0 / false through @JsonSetter(nulls = AS_EMPTY),
    // not as an error of the strict mapper's FAIL_ON_NULL_FOR_PRIMITIVES.
    if (scoreScale == 0.0) {
      scoreScale = 1.0; // absent in JSON: the contract's default
    }
  }

  /** Memory slots per table: {@code n = S*S}. */
  public long slots() {
    return (long) S * S;
  }

  public int tokenChunk() {
    return D / T;
  }

  public int ffnHidden() {
    return ffnMult * D;
  }

  public boolean isMsnLayer(int layer) {
    return msnLayers.contains(layer);
  }

  /** Rows of one layer's value table as the ops see it: {@code n}, or {@code T*n} per token. */
  public long valueRows() {
    return perTokenMemory ? slots() * T : slots();
  }

  /**
   * Checks every constraint of the contract; {@code where} names the source (a file) in messages.
   *
   * @return this
   */
  public ModelConfig validate(String where) {
    positive(where, "T", T);
    positive(where, "D", D);
    positive(where, "L", L);
    positive(where, "S", S);
    positive(where, "k", k);
    positive(where, "dk", dk);
    positive(where, "ffn_mult", ffnMult);
    positive(where, "head_hidden", headHidden);
    if (D % T != 0) {
      throw new BadInputException(where + ": field 'D' (" + D + ") must be a multiple of 'T' (" + T + ")");
    }
    if (k > S) {
      throw new BadInputException(where + ": field 'k' (" + k + ") must be at most 'S' (" + S + ")");
    }
    if ((long) S * S * (perTokenMemory ? T : 1) > (1L << 40)) {
      throw new BadInputException(where + ": field 'S' (" + S + ") gives an unreasonably large memory");
    }
    if (!Double.isFinite(scoreScale)) {
      throw new BadInputException(where + ": field 'score_scale' must be finite");
    }
    if (!GATES.contains(gate)) {
      throw new BadInputException(where + ": field 'gate' is '" + gate + "', expected one of " + GATES);
    }
    for (Integer l : msnLayers) {
      if (l == null || l < 0 || l >= L) {
        throw new BadInputException(where + ": field 'msn_layers' holds " + l + ", expected layers in [0, " + L + ")");
      }
    }
    if (msnLayers.stream().distinct().count() != msnLayers.size()) {
      throw new BadInputException(where + ": field 'msn_layers' lists a layer twice: " + msnLayers);
    }
    if (tasks.isEmpty()) {
      throw new BadInputException(where + ": field 'tasks' must name at least one task");
    }
    for (String t : tasks) {
      if (t == null || !t.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw new BadInputException(where + ": field 'tasks' holds '" + t + "', expected an identifier");
      }
    }
    if (tasks.stream().distinct().count() != tasks.size()) {
      throw new BadInputException(where + ": field 'tasks' lists a task twice: " + tasks);
    }
    return this;
  }

  private static void positive(String where, String field, long value) {
    if (value <= 0) {
      throw new BadInputException(where + ": field '" + field + "' must be positive, got " + value);
    }
  }
}
