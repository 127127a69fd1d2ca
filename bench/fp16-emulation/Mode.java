/** Which tensors are rounded to fp16 (everything else fp32), or {@code exact}: nothing rounded. */
final class Mode implements Cloneable {
  String name;
  String label;
  boolean exact;
  boolean mix16; // token mixing's transposed copy in fp16
  boolean ffnStore16; // (a)
  Fp16Arithmetic.Acc ffnAcc = Fp16Arithmetic.Acc.F32; // (b) when F16_*
  boolean table16; // (c) value table rows
  boolean v16; // (c) gathered v before the gate
  boolean gelu16; // (d)
  boolean q16; // query projection: input x, W_q, b_q and q in fp16 (fp32 accumulation)
  boolean smm16; // key products: LN(q), K' and the scores a, b in fp16 (fp32 accumulation)
  boolean s16; // only the scores a, b stored in fp16
  boolean c16; // candidate scores c = a_i + b_j rounded to fp16 before top-k and softmax
  boolean ln16; // the outputs of mix_norm and ffn_norm in fp16
  boolean qAcc64; // fp32 question: the query projection's dot products (K = D) accumulated in float64, q rounded once
  boolean scoreAcc64; // fp32 question: the key products' dot products (K = dk) accumulated in float64, a and b rounded once
  int splitK = 1; // fp32 question: query projection and key products as splitK float32 chains over contiguous slices, then summed (export --scoring-split-k)
  java.util.Set<Integer> exactRetrieval = java.util.Set.of(); // layers whose slots and weights are the reference's

  static Mode fp32(String name, String label) {
    Mode m = new Mode();
    m.name = name;
    m.label = label;
    return m;
  }

  Mode with(java.util.function.Consumer<Mode> f) {
    try {
      Mode c = (Mode) clone();
      f.accept(c);
      return c;
    } catch (CloneNotSupportedException e) {
      throw new AssertionError(e);
    }
  }
}
