package dev.msnexport.profiles;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import dev.msnexport.common.BadInputException;
import java.util.List;

/**
 * The model configuration of docs/model-contract.md, with the contract's key names. It travels with
 * every checkpoint as {@code config.json} and inside every profile as {@code model}.
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
@JsonPropertyOrder({
  "T",
  "D",
  "L",
  "msn_layers",
  "S",
  "k",
  "dk",
  "score_scale",
  "gate",
  "ffn_mult",
  "head_hidden",
  "tasks",
  "per_token_memory"
})
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
      throw new BadInputException(
          where + ": field 'D' (" + D + ") must be a multiple of 'T' (" + T + ")");
    }
    if (k > S) {
      throw new BadInputException(
          where + ": field 'k' (" + k + ") must be at most 'S' (" + S + ")");
    }
    if ((long) S * S * (perTokenMemory ? T : 1) > (1L << 40)) {
      throw new BadInputException(
          where + ": field 'S' (" + S + ") gives an unreasonably large memory");
    }
    checkSizes(where);
    if (!Double.isFinite(scoreScale)) {
      throw new BadInputException(where + ": field 'score_scale' must be finite");
    }
    if (!GATES.contains(gate)) {
      throw new BadInputException(
          where + ": field 'gate' is '" + gate + "', expected one of " + GATES);
    }
    for (Integer l : msnLayers) {
      if (l == null || l < 0 || l >= L) {
        throw new BadInputException(
            where + ": field 'msn_layers' holds " + l + ", expected layers in [0, " + L + ")");
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
        throw new BadInputException(
            where + ": field 'tasks' holds '" + t + "', expected an identifier");
      }
    }
    if (tasks.stream().distinct().count() != tasks.size()) {
      throw new BadInputException(where + ": field 'tasks' lists a task twice: " + tasks);
    }
    return this;
  }

  /** Most bytes a config may describe (float32 tensors): 1 TiB. */
  public static final long MAX_BYTES = 1L << 40;

  /** Most elements of one dense (non-memory) tensor: the exporter holds it in one Java array. */
  public static final long MAX_DENSE_ELEMENTS = Integer.MAX_VALUE - 8;

  /** One group of tensors, the fields it grows with, and its float32 size. */
  public record SizeTerm(String fields, long bytes) {}

  /**
   * The float32 bytes of the checkpoint this config describes, by group, computed in checked 64-bit
   * arithmetic: value tables {@code S^2*D} per MSN layer ({@code x T} per token), the retrieval
   * weights ({@code dk}), the per-token FFNs ({@code ffn_mult*D} per token, {@code x T}) and the
   * heads. Also what {@code init} writes and, about, what {@code export} writes per graph.
   *
   * @throws BadInputException naming the fields when a count overflows 64 bits
   */
  public List<SizeTerm> sizeTerms(String where) {
    long d = D;
    long msn = msnLayers.size();
    long dkl = dk;
    String values = perTokenMemory ? "S, D, T (value tables)" : "S, D (value tables)";
    String retrieval = "dk, S, D (retrieval weights)";
    String ffn = "ffn_mult, D, T (FFNs)";
    String heads = "head_hidden, D (heads)";
    return List.of(
        new SizeTerm(
            values,
            exact(
                where,
                values,
                () ->
                    Math.multiplyExact(
                        Math.multiplyExact(
                            Math.multiplyExact(
                                Math.multiplyExact(
                                    Math.multiplyExact((long) S, (long) S),
                                    perTokenMemory ? (long) T : 1L),
                                d),
                            4L),
                        msn))),
        new SizeTerm(
            retrieval,
            exact(
                where,
                retrieval,
                () ->
                    Math.multiplyExact(
                        Math.multiplyExact(
                            Math.addExact(
                                Math.addExact(
                                    Math.multiplyExact(2 * dkl, d + 1),
                                    Math.multiplyExact(2L * S, dkl)),
                                Math.addExact(Math.multiplyExact(2 * dkl, dkl), 8 * dkl)),
                            4L),
                        msn))),
        new SizeTerm(
            ffn,
            exact(
                where,
                ffn,
                () -> {
                  long hidden = Math.multiplyExact((long) ffnMult, d);
                  long perLayer =
                      Math.multiplyExact(
                          (long) T,
                          Math.addExact(
                              Math.multiplyExact(Math.multiplyExact(2L, hidden), d), hidden + d));
                  return Math.multiplyExact(
                      Math.multiplyExact(Math.addExact(perLayer, 4 * d), 4L), (long) L);
                })),
        new SizeTerm(
            heads,
            exact(
                where,
                heads,
                () ->
                    Math.multiplyExact(
                        Math.multiplyExact(
                            Math.addExact(Math.multiplyExact((long) headHidden, d + 2), 1L), 4L),
                        (long) tasks.size()))));
  }

  private long exact(String where, String fields, java.util.function.LongSupplier bytes) {
    try {
      return bytes.getAsLong();
    } catch (ArithmeticException e) {
      throw new BadInputException(
          where
              + ": fields "
              + fields
              + " describe more than 2^63 bytes of tensors (S="
              + S
              + ", D="
              + D
              + ", T="
              + T
              + ", dk="
              + dk
              + ", ffn_mult="
              + ffnMult
              + ", head_hidden="
              + headHidden
              + ")");
    }
  }

  /** Total float32 bytes of {@link #sizeTerms}. */
  public long totalBytes(String where) {
    long total = 0;
    for (SizeTerm t : sizeTerms(where)) {
      total = Math.addExact(total, t.bytes());
    }
    return total;
  }

  /** The group that dominates the size, for messages: "S, D (value tables): N bytes". */
  public String largestTerm(String where) {
    SizeTerm max =
        sizeTerms(where).stream()
            .max(java.util.Comparator.comparingLong(SizeTerm::bytes))
            .orElseThrow();
    return "fields " + max.fields() + ": " + max.bytes() + " bytes";
  }

  private void checkSizes(String where) {
    long total =
        exact(where, "S, D, T, dk, ffn_mult, head_hidden (all tensors)", () -> totalBytes(where));
    if (total > MAX_BYTES) {
      throw new BadInputException(
          where
              + ": the config describes "
              + total
              + " bytes ("
              + human(total)
              + ") of tensors, more than "
              + "the limit of "
              + human(MAX_BYTES)
              + "; most from "
              + largestTerm(where));
    }
    long hidden = (long) ffnMult * D;
    long[][] dense = {
      {hidden},
      {(long) T * hidden * D},
      {2L * dk * D},
      {(long) dk * S},
      {(long) dk * dk},
      {(long) headHidden * D}
    };
    String[] names = {
      "ffn_mult*D (FFN hidden width)",
      "T*ffn_mult*D*D (one FFN weight)",
      "2*dk*D (query weight)",
      "dk*S (folded keys)",
      "dk*dk (theta)",
      "head_hidden*D (head weight)"
    };
    for (int i = 0; i < dense.length; i++) {
      if (dense[i][0] > MAX_DENSE_ELEMENTS) {
        throw new BadInputException(
            where
                + ": fields "
                + names[i]
                + " give "
                + dense[i][0]
                + " elements ("
                + 4 * dense[i][0]
                + " bytes) in one tensor, more than "
                + MAX_DENSE_ELEMENTS
                + " (T="
                + T
                + ", D="
                + D
                + ", dk="
                + dk
                + ", S="
                + S
                + ", ffn_mult="
                + ffnMult
                + ", head_hidden="
                + headHidden
                + ")");
      }
    }
  }

  /** 1.5 GiB, 64.0 TiB. */
  public static String human(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
  }

  private static void positive(String where, String field, long value) {
    if (value <= 0) {
      throw new BadInputException(where + ": field '" + field + "' must be positive, got " + value);
    }
  }
}
