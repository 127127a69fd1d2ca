package dev.msnexport.verifier.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Sampled slot-usage figures against exact counts of the same draws. */
class SlotUsageTest {
  private static final long N = 1L << 18;

  /** Skewed use: slot = n * u^3, so low slots are hot and about a third of the table is used. */
  private static long[] draws(long seed, int count) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] d = new long[count];
    for (int i = 0; i < count; i++) {
      double u = r.nextDouble();
      d[i] = (long) (N * u * u * u);
    }
    return d;
  }

  private static MemoryHealth.Layer exactOf(long[] draws) {
    long[] counts = new long[(int) N];
    for (long s : draws) {
      counts[(int) s]++;
    }
    return MemoryHealth.fromCounts(0, counts, 4);
  }

  private static MemoryHealth.Layer sampledOf(long[] draws, long seed) {
    SlotUsage u = SlotUsage.sampled(N, 4, 1 << 13, seed);
    for (long s : draws) {
      u.add(s);
    }
    return u.summarize(0);
  }

  @Test
  void smallTablesAreCountedExactly() {
    long[] d = {3, 3, 5, 9, 9, 9};
    SlotUsage u = SlotUsage.forSlots(16, 2, 0);
    for (long s : d) {
      u.add(s);
    }
    long[] counts = new long[16];
    counts[3] = 2;
    counts[5] = 1;
    counts[9] = 3;
    assertEquals(MemoryHealth.fromCounts(0, counts, 2), u.summarize(0));
    assertEquals("exact", u.summarize(0).method());
    assertEquals(3, u.summarize(0).slotsUsed());
  }

  @Test
  void largeTablesAreSampledWithoutADenseCount() {
    SlotUsage u = SlotUsage.forSlots(4_194_304L, 32, 0);
    assertFalse(u.exact());
    int m = u.counts().length;
    assertTrue(m > 0.9 * SlotUsage.SAMPLE_SLOTS && m < 1.1 * SlotUsage.SAMPLE_SLOTS, "m=" + m);
  }

  @Test
  void sampledFiguresMatchExactCounts() {
    long[] d = draws(1, 200_000);
    MemoryHealth.Layer exact = exactOf(d);
    MemoryHealth.Layer s = sampledOf(d, 7);
    assertEquals("sampled", s.method());
    assertEquals(exact.draws(), s.draws());
    // one sample of slots: within two interval widths (coverage itself: the next test)
    double width = s.fractionUsedHigh() - s.fractionUsedLow();
    assertTrue(width > 0 && width < 0.03, "interval " + width);
    assertEquals(exact.fractionUsed(), s.fractionUsed(), 2 * width);
    assertEquals(exact.slotsUsed(), s.slotsUsed(), 0.05 * exact.slotsUsed());
    assertEquals(exact.entropyNats(), s.entropyNats(), 0.03 * exact.entropyNats());
    assertEquals(exact.top1PercentShare(), s.top1PercentShare(), 0.2 * exact.top1PercentShare());
    assertEquals(exact.uniformFractionUsed(), s.uniformFractionUsed(), 1e-12);
    assertEquals(exact.collapsed(), s.collapsed());
  }

  /** The stated 95% interval covers the exact fraction in about 95% of samples of slots. */
  @Test
  void theIntervalCoversTheExactFractionAtItsStatedRate() {
    long[] d = draws(2, 50_000);
    double exact = exactOf(d).fractionUsed();
    int covered = 0;
    int trials = 60;
    for (int seed = 0; seed < trials; seed++) {
      MemoryHealth.Layer s = sampledOf(d, 100 + seed);
      if (s.fractionUsedLow() <= exact && exact <= s.fractionUsedHigh()) {
        covered++;
      }
    }
    // binomial(60, 0.95): P(covered <= 51) < 1%; a too-narrow interval (say 80%) fails
    assertTrue(covered >= 52, covered + " of " + trials);
  }

  @Test
  void sameKSlotsWarnsEvenWhenTheSampleMissesThem() {
    SlotUsage u = SlotUsage.sampled(N, 4, 1 << 10, 3);
    for (int i = 0; i < 10_000; i++) {
      u.add(11 + (i % 4));
    }
    MemoryHealth.Layer l = u.summarize(2);
    assertTrue(
        l.warnings().stream().anyMatch(w -> w.contains("same 4 slots")), l.warnings().toString());
    assertEquals(4, l.slotsUsed());
  }

  @Test
  void wilsonIntervalOfKnownProportions() {
    double[] ci = UsageFigures.wilson(50, 100);
    assertEquals(0.5, ci[0], 1e-12);
    assertEquals(0.4038, ci[1], 1e-4);
    assertEquals(0.5962, ci[2], 1e-4);
    double[] zero = UsageFigures.wilson(0, 1000);
    assertEquals(0, zero[1], 1e-12);
    assertEquals(0.00383, zero[2], 1e-5);
  }
}
