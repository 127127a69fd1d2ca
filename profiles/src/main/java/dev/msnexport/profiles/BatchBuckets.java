package dev.msnexport.profiles;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import dev.msnexport.common.BadInputException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Batch buckets: one TensorRT optimization profile per entry of a profile's {@code
 * batch.opt_batches} (as serving stacks do: the runner picks the profile by batch). For {@code
 * opt_batches = [o0, .., on]} within {@code [min, max]}, bucket {@code i} spans {@code min} (i = 0)
 * or {@code o(i-1) + 1} to {@code oi} (or {@code max} for the last bucket), tuned for {@code oi}.
 * Without {@code opt_batches}: one bucket {@code (min, opt, max)}. Buckets never overlap and cover
 * {@code [min, max]}.
 */
public final class BatchBuckets {
  private BatchBuckets() {}

  /** The buckets of {@code b}, in order (each without {@code opt_batches} of its own). */
  public static List<Profile.BatchShapes> of(Profile.BatchShapes b) {
    List<Integer> opt = b.optBatches();
    if (opt.isEmpty()) {
      return List.of(new Profile.BatchShapes(b.min(), b.opt(), b.max()));
    }
    List<Profile.BatchShapes> out = new ArrayList<>();
    for (int i = 0; i < opt.size(); i++) {
      int lo = i == 0 ? b.min() : opt.get(i - 1) + 1;
      int hi = i == opt.size() - 1 ? b.max() : opt.get(i);
      out.add(new Profile.BatchShapes(lo, opt.get(i), hi));
    }
    return List.copyOf(out);
  }

  /**
   * What is wrong with {@code opt} as the opt batches of range {@code [min, max]}, or null when
   * nothing is: it must be strictly increasing, every entry within {@code [min, max]}.
   */
  public static String problem(int min, int max, List<Integer> opt) {
    for (int i = 0; i < opt.size(); i++) {
      Integer o = opt.get(i);
      if (o == null) {
        return "holds null at index " + i;
      }
      if (o < min || o > max) {
        return "holds " + o + ", outside the batch range [" + min + ", " + max + "]";
      }
      if (i > 0 && o <= opt.get(i - 1)) {
        return "must be strictly increasing, got " + opt;
      }
    }
    return null;
  }

  /** Refuses (exit 4) invalid {@code opt_batches}; {@code where} names the file. */
  static void validate(Profile.BatchShapes b, String where) {
    String p = problem(b.min(), b.max(), b.optBatches());
    if (p != null) {
      throw new BadInputException(where + ": field 'batch.opt_batches' " + p);
    }
  }

  /**
   * The index of the bucket with the smallest max that holds {@code batch}, or -1 when none does
   * (the runner's choice of optimization profile).
   */
  public static int indexFor(List<Profile.BatchShapes> buckets, long batch) {
    int best = -1;
    for (int i = 0; i < buckets.size(); i++) {
      Profile.BatchShapes b = buckets.get(i);
      if (batch >= b.min() && batch <= b.max() && (best < 0 || b.max() < buckets.get(best).max())) {
        best = i;
      }
    }
    return best;
  }

  /** One bucket for people: {@code 2..64 (opt 64)}. */
  public static String describe(Profile.BatchShapes b) {
    return b.min() + ".." + b.max() + " (opt " + b.opt() + ")";
  }

  /** Buckets for people: {@code [1..1 (opt 1), 2..64 (opt 64)]}. */
  public static String describe(List<Profile.BatchShapes> buckets) {
    return buckets.stream().map(BatchBuckets::describe).collect(Collectors.joining(", ", "[", "]"));
  }

  /**
   * Reads a JSON integer that fits an int and nothing else: Jackson would otherwise truncate 1.5 to
   * 1 silently.
   */
  public static final class StrictInt extends StdDeserializer<Integer> {
    public StrictInt() {
      super(Integer.class);
    }

    @Override
    public Integer deserialize(JsonParser p, DeserializationContext c) throws IOException {
      if (p.currentToken() != JsonToken.VALUE_NUMBER_INT
          || p.getNumberType() != JsonParser.NumberType.INT) {
        throw MismatchedInputException.from(
            p, Integer.class, "expected an integer batch size, got " + p.getText());
      }
      return p.getIntValue();
    }
  }
}
