import dev.msnexport.common.Percentiles;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * Replays the raw samples {@link GateRates} wrote (RAW_DIR) through candidate summaries of latency,
 * to choose what the gates decide on: for each summary, level and gate, how often its point ratio
 * is above the 1.10 limit, and the geometric mean and standard deviation of the log ratio across
 * trials. The regression gate's baseline is, as in GateRates, the candidate of the latest earlier
 * trial at level 0. A third column replays the regression gate normalized by the machine's drift:
 * the candidate's ratio to its baseline divided by the reference session's ratio to the reference
 * of the same earlier trial (both sessions see the same machine, interleaved in one run).
 */
public final class CompareStatistics {
  static final double LIMIT = 1.10;

  public static void main(String[] args) throws IOException {
    List<Path> files = new ArrayList<>();
    try (var s = Files.list(Path.of(args[0]))) {
      s.filter(p -> p.getFileName().toString().endsWith(".bin")).sorted().forEach(files::add);
    }
    Map<String, ToDoubleFunction<long[]>> stats = new LinkedHashMap<>();
    for (double p : new double[] {99, 95, 90, 75, 50}) {
      stats.put(String.format(Locale.ROOT, "p%.0f", p), a -> pct(a, p));
    }
    stats.put("harmonic mean", a -> {
      double s = 0;
      for (long v : a) {
        s += 1.0 / v;
      }
      return a.length / s;
    });
    stats.put("p99 of minima of 5", a -> pct(blockMinima(a, 5), 99));
    stats.put("p90 of minima of 5", a -> pct(blockMinima(a, 5), 90));
    stats.put("p50 of minima of 5", a -> pct(blockMinima(a, 5), 50));

    // statistic -> level -> {ratio gate, regression gate, regression gate normalized by the reference's drift} log ratios
    Map<String, Map<Double, List<double[]>>> out = new LinkedHashMap<>();
    long[] baseline = null;
    long[] baselineRef = null;
    for (Path f : files) {
      double level;
      long[] ref;
      long[] cand;
      try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f)))) {
        level = in.readDouble();
        ref = readLongs(in);
        cand = readLongs(in);
      }
      for (var e : stats.entrySet()) {
        double c = e.getValue().applyAsDouble(cand);
        double ratio = Math.log(c / e.getValue().applyAsDouble(ref));
        double reg = baseline == null ? Double.NaN : Math.log(c / e.getValue().applyAsDouble(baseline));
        double drift = baseline == null ? Double.NaN : Math.log(e.getValue().applyAsDouble(ref) / e.getValue().applyAsDouble(baselineRef));
        out.computeIfAbsent(e.getKey(), k -> new TreeMap<>()).computeIfAbsent(level, k -> new ArrayList<>())
            .add(new double[] {ratio, reg, reg - drift});
      }
      if (level == 0) {
        baseline = cand;
        baselineRef = ref;
      }
    }
    System.out.printf(Locale.ROOT, "%d trials; per level: ratio gate | regression gate | regression gate normalized by the "
        + "reference's drift: above %.2f / trials (geometric mean ratio, sd of log ratio)%n", files.size(), LIMIT);
    for (var e : out.entrySet()) {
      StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-20s", e.getKey()));
      for (var l : e.getValue().entrySet()) {
        b.append(String.format(Locale.ROOT, "  %+3.0f%%: %s | %s | %s", l.getKey() * 100, summary(l.getValue(), 0),
            summary(l.getValue(), 1), summary(l.getValue(), 2)));
      }
      System.out.println(b);
    }
    // bench's confirmation, replayed: a trial's failure counts when the next trial of its level (a later, independent run) fails too
    System.out.printf(Locale.ROOT, "confirmed (this trial and the next of its level both above %.2f), p50 of minima of 5: "
        + "ratio gate | regression gate | regression gate normalized by the reference's drift%n", LIMIT);
    for (var l : out.get("p50 of minima of 5").entrySet()) {
      StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  %+3.0f%%:", l.getKey() * 100));
      for (int gate = 0; gate < 3; gate++) {
        b.append(' ').append(confirmed(l.getValue(), gate)).append(gate < 2 ? " |" : "");
      }
      System.out.println(b);
    }
  }

  /** Consecutive pairs of trials (of one level, in order) with a ratio for {@code gate}, and how many of them are both above the limit. */
  static String confirmed(List<double[]> v, int gate) {
    int pairs = 0;
    int both = 0;
    double[] prev = null;
    for (double[] x : v) {
      if (Double.isNaN(x[gate])) {
        continue;
      }
      if (prev != null) {
        pairs++;
        both += prev[gate] > Math.log(LIMIT) && x[gate] > Math.log(LIMIT) ? 1 : 0;
      }
      prev = x;
    }
    return String.format(Locale.ROOT, "%3d/%3d", both, pairs);
  }

  static String summary(List<double[]> v, int gate) {
    int n = 0;
    int above = 0;
    double s = 0;
    double s2 = 0;
    for (double[] x : v) {
      if (Double.isNaN(x[gate])) {
        continue;
      }
      n++;
      above += x[gate] > Math.log(LIMIT) ? 1 : 0;
      s += x[gate];
      s2 += x[gate] * x[gate];
    }
    double m = s / n;
    return String.format(Locale.ROOT, "%3d/%3d (%.3f, %.3f)", above, n, Math.exp(m), Math.sqrt(Math.max(0, s2 / n - m * m)));
  }

  static double pct(long[] a, double p) {
    long[] s = a.clone();
    Arrays.sort(s);
    return Percentiles.of(s, p);
  }

  /** The minimum of each run of k consecutive samples. */
  static long[] blockMinima(long[] a, int k) {
    long[] m = new long[a.length / k];
    for (int b = 0; b < m.length; b++) {
      m[b] = Arrays.stream(a, b * k, b * k + k).min().getAsLong();
    }
    return m;
  }

  static long[] readLongs(DataInputStream in) throws IOException {
    long[] a = new long[in.readInt()];
    for (int i = 0; i < a.length; i++) {
      a[i] = in.readLong();
    }
    return a;
  }
}
