import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.golden.GoldenModel;
import dev.msnexport.verifier.golden.MathFunctions;
import dev.msnexport.verifier.golden.TopK;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/** The driver of {@link Fp16Emulation}: checks, the modes, and the report. */
final class Fp16EmulationRun extends Fp16Arithmetic {
  public static void main(String[] args) throws Exception {
    String profileName = args.length > 0 ? args[0] : "small";
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    long seed = args.length > 2 ? Long.parseLong(args[2]) : 0;
    checkF16();
    Profile prof = Profiles.load(profileName);
    ModelConfig cfg = prof.model();
    Path ck = Files.createTempDirectory("fp16emu-ck");
    SyntheticCheckpoint.write(cfg, ck, 0);
    int T = cfg.T();
    int D = cfg.D();
    // the verifier's inputs (Inputs.random): SplittableRandom(seed), N(0, 1) cast to float
    float[] tokens = new float[batch * T * D];
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = (float) rnd.nextGaussian();
    }
    try (Checkpoint c = Checkpoint.open(ck)) {
      Fp16Emulation emu = new Fp16Emulation(c);
      long t0 = System.nanoTime();
      Mode exactMode = Mode.fp32("exact", "float64 (reference)").with(x -> x.exact = true);
      Map<Integer, Layer> exact = emu.forward(tokens, batch, exactMode);
      // the reference must be GoldenModel
      GoldenModel.Result g = new GoldenModel(c).forward(tokens, batch);
      double worst = 0;
      for (var e : g.retrieval().entrySet()) {
        Layer mine = exact.get(e.getKey());
        var lr = e.getValue();
        for (int i = 0; i < mine.row().length; i++) {
          worst = Math.max(worst, Math.abs(mine.row()[i] - lr.rowScores()[i]));
          worst = Math.max(worst, Math.abs(mine.col()[i] - lr.colScores()[i]));
        }
        if (!Arrays.equals(mine.slots(), lr.slots())) {
          throw new IllegalStateException("layer " + e.getKey() + ": slots differ from GoldenModel");
        }
      }
      System.out.printf(Locale.ROOT, "reference vs GoldenModel: max |score diff| %.3g, slots identical (%.1f s)%n", worst,
          (System.nanoTime() - t0) / 1e9);
      if (worst > 1e-9) {
        throw new IllegalStateException("reference does not match GoldenModel");
      }
      int k = cfg.k();
      int S = cfg.S();
      double maxC = 0;
      Map<Integer, Double> layerMaxC = new LinkedHashMap<>();
      for (var e : exact.entrySet()) {
        Layer L = e.getValue();
        double lm = 0;
        for (int q = 0; q < L.slots().length / k; q++) {
          for (int mm = 0; mm < k; mm++) {
            long s = L.slots()[q * k + mm];
            lm = Math.max(lm, Math.abs(L.row()[q * S + (int) (s / S)] + L.col()[q * S + (int) (s % S)]));
          }
        }
        layerMaxC.put(e.getKey(), lm);
        maxC = Math.max(maxC, lm);
      }
      System.out.printf(Locale.ROOT, "profile %s, batch %d, input seed %d, checkpoint seed 0: max|c| over top-k = %.2f %s; unit = u*max|c| = %.4g%n",
          profileName, batch, seed, maxC, layerMaxC, U * maxC);

      List<Mode> modes = new ArrayList<>();
      Mode fp32 = Mode.fp32("fp32", "float32 everywhere (baseline)");
      java.util.function.BiFunction<String, String, Mode> base = (n, lab) -> fp32.with(x -> { x.name = n; x.label = lab; });
      Mode engine = base.apply("engine-fp32acc", "described engine: mix16 + (a) + (c) + (d), fp32 accumulation")
          .with(x -> { x.mix16 = true; x.ffnStore16 = true; x.table16 = true; x.v16 = true; x.gelu16 = true; });
      java.util.function.BiFunction<Mode, String[], Mode> rename = (mm, nl) -> mm.with(x -> { x.name = nl[0]; x.label = nl[1]; });
      modes.add(fp32);
      modes.add(base.apply("mix16", "token mixing fp16").with(x -> x.mix16 = true));
      modes.add(base.apply("a", "(a) FFN storage fp16, fp32 accumulation").with(x -> x.ffnStore16 = true));
      modes.add(base.apply("b-seq", "(b) FFN fp16 storage + fp16 accumulation, sequential").with(x -> { x.ffnStore16 = true; x.ffnAcc = Acc.F16_SEQ; }));
      modes.add(base.apply("b-blk32", "(b) FFN fp16 storage + fp16 accumulation, 32-term blocks").with(x -> { x.ffnStore16 = true; x.ffnAcc = Acc.F16_BLK32; }));
      modes.add(base.apply("c-table", "(c) value table fp16 (v fp32)").with(x -> x.table16 = true));
      modes.add(base.apply("c", "(c) value table fp16 + v fp16 before gate").with(x -> { x.table16 = true; x.v16 = true; }));
      modes.add(base.apply("d", "(d) GELU fp16 (op by op)").with(x -> x.gelu16 = true));
      modes.add(engine);
      modes.add(rename.apply(engine, new String[] {"engine-fp16seq", "described engine with (b-seq)"}).with(x -> x.ffnAcc = Acc.F16_SEQ));
      modes.add(rename.apply(engine, new String[] {"engine-fp16blk", "described engine with (b-blk32)"}).with(x -> x.ffnAcc = Acc.F16_BLK32));
      // beyond the brief: fp16 inside the scoring path, which the described engine keeps fp32
      modes.add(base.apply("ln16", "LayerNorm outputs (mix_norm, ffn_norm) fp16").with(x -> x.ln16 = true));
      modes.add(base.apply("q16", "query projection fp16 (x, W_q, b_q, q; fp32 acc)").with(x -> x.q16 = true));
      modes.add(base.apply("s16", "scores a, b stored fp16").with(x -> x.s16 = true));
      modes.add(base.apply("smm16", "key products fp16 (LN(q), K', a, b; fp32 acc)").with(x -> x.smm16 = true));
      modes.add(base.apply("c16", "candidate scores c fp16 (top-k, softmax input)").with(x -> x.c16 = true));
      modes.add(rename.apply(engine, new String[] {"engine+s16", "described engine + scores a, b fp16"}).with(x -> x.s16 = true));
      modes.add(rename.apply(engine, new String[] {"engine+smm16", "described engine + key products fp16"}).with(x -> x.smm16 = true));
      modes.add(rename.apply(engine, new String[] {"engine+q16+smm16", "described engine + query projection and key products fp16"})
          .with(x -> { x.q16 = true; x.smm16 = true; }));
      // the fp32 engine's question (no fp16): which float32 accumulation moves layer 1's softmax weights
      modes.add(base.apply("f32-qacc64", "none (fp32); query projection sums in float64").with(x -> x.qAcc64 = true));
      modes.add(base.apply("f32-sacc64", "none (fp32); key product sums in float64").with(x -> x.scoreAcc64 = true));
      modes.add(base.apply("f32-qsacc64", "none (fp32); both in float64").with(x -> { x.qAcc64 = true; x.scoreAcc64 = true; }));
      modes.add(base.apply("f32-ffnacc64", "none (fp32); FFN sums in float64").with(x -> x.ffnAcc = Acc.F64));
      modes.add(base.apply("f32-split2", "none (fp32); query projection and key products split in 2 chains").with(x -> x.splitK = 2));
      modes.add(base.apply("f32-split4", "none (fp32); query projection and key products split in 4 chains").with(x -> x.splitK = 4));
      // attribution: the same modes with layer 0's slots and softmax weights taken from the reference
      modes.add(base.apply("mix16+L0-exact", "token mixing fp16, layer-0 retrieval exact").with(x -> { x.mix16 = true; x.exactRetrieval = java.util.Set.of(0); }));
      modes.add(rename.apply(engine, new String[] {"engine+L0-exact", "described engine, layer-0 retrieval exact"}).with(x -> x.exactRetrieval = java.util.Set.of(0)));
      modes.add(rename.apply(engine, new String[] {"engine-fp16seq+L0-exact", "engine with (b-seq), layer-0 retrieval exact"})
          .with(x -> { x.ffnAcc = Acc.F16_SEQ; x.exactRetrieval = java.util.Set.of(0); }));
      modes.add(rename.apply(engine, new String[] {"engine+s16+L0-exact", "engine + scores fp16, layer-0 retrieval exact"})
          .with(x -> { x.s16 = true; x.exactRetrieval = java.util.Set.of(0); }));

      StringBuilder md = new StringBuilder();
      md.append(String.format(Locale.ROOT, "| profile | mode | what is fp16 | L0 max | L0 p99 | L1 max | L1 p99 | L1 top-k slots changed "
          + "| L0 weights max abs err | L1 weights max abs err |%n"));
      for (Mode m : modes) {
        long t1 = System.nanoTime();
        Map<Integer, Layer> got = emu.forward(tokens, batch, m, exact);
        StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %s | %s | %s |", profileName, m.name, m.label));
        String changed = "";
        StringBuilder weightErrors = new StringBuilder();
        for (var e : exact.entrySet()) {
          Layer ex = e.getValue();
          Layer em = got.get(e.getKey());
          int queries = ex.slots().length / k;
          double[] per = new double[queries];
          int slotChanges = 0;
          for (int q = 0; q < queries; q++) {
            double worstQ = 0;
            for (int mm = 0; mm < k; mm++) {
              long s = ex.slots()[q * k + mm];
              int i = (int) (s / S);
              int j = (int) (s % S);
              double cex = ex.row()[q * S + i] + ex.col()[q * S + j];
              double cem = m.exact ? em.row()[q * S + i] + em.col()[q * S + j] : f32(em.row()[q * S + i] + em.col()[q * S + j]);
              worstQ = Math.max(worstQ, Math.abs(cem - cex));
            }
            per[q] = worstQ / (U * maxC);
            long[] a = Arrays.copyOfRange(ex.slots(), q * k, q * k + k);
            long[] b = Arrays.copyOfRange(em.slots(), q * k, q * k + k);
            Arrays.sort(a);
            Arrays.sort(b);
            if (!Arrays.equals(a, b)) {
              slotChanges++;
            }
          }
          double werr = 0; // softmax weights, where both runs took the same slot at the same position
          for (int i = 0; i < ex.weights().length; i++) {
            if (ex.slots()[i] == em.slots()[i]) {
              werr = Math.max(werr, Math.abs(ex.weights()[i] - em.weights()[i]));
            }
          }
          weightErrors.append(String.format(Locale.ROOT, " %.2e |", werr));
          Arrays.sort(per);
          double max = per[queries - 1];
          double p99 = per[(int) Math.ceil(0.99 * queries) - 1];
          row.append(String.format(Locale.ROOT, " %.3f | %.3f |", max, p99));
          changed = slotChanges + "/" + queries;
        }
        row.append(" ").append(changed).append(" |").append(weightErrors);
        System.out.println(row + String.format(Locale.ROOT, "  (%.1f s)", (System.nanoTime() - t1) / 1e9));
        md.append(row).append('\n');
      }
      System.out.println();
      System.out.print(md);
    }
  }
}
