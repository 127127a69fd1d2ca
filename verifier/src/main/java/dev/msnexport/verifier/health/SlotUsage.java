package dev.msnexport.verifier.health;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * Counts the slots one MSN layer retrieves. Up to {@link #EXACT_MAX_SLOTS} slots every slot gets a
 * counter (exact figures). Above it (the {@code xl} profile's 4,194,304 slots per layer) only a
 * seeded uniform random sample of about {@link #SAMPLE_SLOTS} slots is counted, so memory does not
 * grow with the table: the figures are estimated from the sample ({@link UsageFigures}), the
 * fraction of slots used with a 95% Wilson interval. Draws are counted in full either way, and
 * whether at most {@code k} distinct slots were ever retrieved (collapse rule 3) is tracked
 * exactly, with a set of at most {@code k + 1} slots.
 */
public final class SlotUsage {
  /** Tables with at most this many slots are counted slot by slot. */
  public static final long EXACT_MAX_SLOTS = 1L << 20;

  /** About how many slots the sample of a larger table holds. */
  public static final int SAMPLE_SLOTS = 1 << 16;

  private final long n;
  private final int k;
  private final long[] sampled; // sorted slot ids counted; null: every slot (exact)
  private final long[] counts;
  private final Set<Long> distinct = new HashSet<>();
  private long draws;

  private SlotUsage(long n, int k, long[] sampled) {
    this.n = n;
    this.k = k;
    this.sampled = sampled;
    this.counts = new long[sampled == null ? Math.toIntExact(n) : sampled.length];
  }

  /** A counter for {@code n} slots retrieved {@code k} at a time; {@code seed} picks the sample. */
  public static SlotUsage forSlots(long n, int k, long seed) {
    return n <= EXACT_MAX_SLOTS ? new SlotUsage(n, k, null) : sampled(n, k, SAMPLE_SLOTS, seed);
  }

  /**
   * A counter of a random sample of about {@code target} of the {@code n} slots: each slot is in it
   * with probability {@code target / n}, decided by a hash of (seed, slot), so the sample is the
   * same on every run and independent of which slots a model retrieves.
   */
  static SlotUsage sampled(long n, int k, int target, long seed) {
    double rate = Math.min(1.0, (double) target / n);
    long threshold = rate >= 1.0 ? Long.MAX_VALUE : (long) (rate * Long.MAX_VALUE);
    long[] ids = new long[(int) Math.min(n, 2L * target + 1024)];
    int m = 0;
    for (long s = 0; s < n; s++) {
      if ((mix(seed, s) >>> 1) <= threshold) {
        if (m == ids.length) {
          ids = Arrays.copyOf(ids, ids.length * 2);
        }
        ids[m++] = s;
      }
    }
    return new SlotUsage(n, k, Arrays.copyOf(ids, m));
  }

  private static long mix(long seed, long s) {
    long z = s * 0x9E3779B97F4A7C15L + seed * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** One retrieval of {@code slot}. */
  public void add(long slot) {
    if (slot < 0 || slot >= n) {
      throw new IllegalArgumentException("slot " + slot + " outside [0, " + n + ")");
    }
    draws++;
    if (distinct.size() <= k) {
      distinct.add(slot);
    }
    if (sampled == null) {
      counts[(int) slot]++;
      return;
    }
    int i = Arrays.binarySearch(sampled, slot);
    if (i >= 0) {
      counts[i]++;
    }
  }

  /** Counts of every slot (exact) or of the sampled slots, in slot order. */
  long[] counts() {
    return counts;
  }

  boolean exact() {
    return sampled == null;
  }

  long slots() {
    return n;
  }

  long draws() {
    return draws;
  }

  /** Whether every retrieval so far hit one set of at most k slots (exact in both modes). */
  boolean atMostKDistinct() {
    return distinct.size() <= k;
  }

  /** How many distinct slots were retrieved, when at most k (exact); else -1. */
  long distinctUpToK() {
    return distinct.size() <= k ? distinct.size() : -1;
  }

  /** This layer's figures and warnings. */
  public MemoryHealth.Layer summarize(int layer) {
    return UsageFigures.of(layer, this, k);
  }
}
