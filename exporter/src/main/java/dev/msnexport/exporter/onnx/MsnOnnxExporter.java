package dev.msnexport.exporter.onnx;

import static dev.msnexport.exporter.onnx.GraphBuilder.attrFloat;
import static dev.msnexport.exporter.onnx.GraphBuilder.attrInt;
import static dev.msnexport.exporter.onnx.GraphBuilder.attrInts;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.OutputLock;
import dev.msnexport.exporter.ExportManifest;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.progress.Progress;
import dev.msnexport.exporter.quant.RowQuantizer;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.SafetensorsWriter;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.ops.OpTable;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a checkpoint into two ONNX graphs of the same model (docs/model-contract.md): {@code
 * model.custom.onnx}, whose retrieval is the custom ops {@code msn::PKMRetrieval} and {@code
 * msn::SparseGather}, and {@code model.reference.onnx}, standard opset-17 ops only. Both take
 * {@code tokens [batch, T, D]} and give one {@code [batch, 1]} probability per task.
 *
 * <p>Export-time folding: the key over-parameterisation and key LayerNorm ({@code K' = LN(keys
 * Theta^T)}) and {@code score_scale} become one constant {@code [dk, S]} per half. Large tensors go
 * to one external data file ({@code model.data}) that both graphs share, streamed from the
 * memory-mapped checkpoint, so a 2 GiB value table is exported with a small heap.
 */
public final class MsnOnnxExporter {
  public static final String CUSTOM_FILE = "model.custom.onnx";
  public static final String REFERENCE_FILE = "model.reference.onnx";
  public static final String DATA_FILE = "model.data";
  public static final String MANIFEST_FILE = ExportManifest.FILE;
  public static final String INPUT = "tokens";

  /** The custom ops' ONNX domain, from the op table (dev.msnexport.ops.OpTable). */
  public static final String DOMAIN = OpTable.standard().domain();

  public static final int OPSET = 17;

  /**
   * Manifest field (and, prefixed with {@code msn.}, model metadata key of the custom graph): true
   * when the custom graph computes each MSN layer with one {@code msn::MsnLayer} node.
   */
  public static final String FUSED_MSN_LAYER = "fused_msn_layer";

  /** Protobuf cannot serialize a message of 2 GiB; stay clear of it. */
  static final long EMBED_LIMIT = (1L << 31) - (64L << 20);

  public enum ExternalData {
    AUTO,
    ALWAYS,
    NEVER
  }

  /**
   * @param valuesDtype storage type of the value tables (fp32, fp16, bf16)
   * @param externalData where tensors go
   * @param retrievalOutputs add {@code retrieval.{l}.slots/weights} outputs per MSN layer
   * @param profile profile name recorded in the metadata (may be null)
   * @param fuseMsnLayer the custom graph computes each MSN layer with one {@code msn::MsnLayer}
   *     node ({@link FusedMsnLayer}) instead of the projection/scoring/retrieval/gather/gate chain
   */
  public record Options(
      DType valuesDtype,
      ExternalData externalData,
      boolean retrievalOutputs,
      String profile,
      int scoringSplitK,
      boolean fuseMsnLayer) {
    public Options(
        DType valuesDtype,
        ExternalData externalData,
        boolean retrievalOutputs,
        String profile,
        int scoringSplitK) {
      this(valuesDtype, externalData, retrievalOutputs, profile, scoringSplitK, false);
    }

    public Options(
        DType valuesDtype, ExternalData externalData, boolean retrievalOutputs, String profile) {
      this(valuesDtype, externalData, retrievalOutputs, profile, DEFAULT_SCORING_SPLIT_K);
    }

    public static Options defaults() {
      return new Options(DType.F32, ExternalData.AUTO, true, null);
    }
  }

  /**
   * Partial sums of the retrieval-scoring products (query projection, K = D; key products, K = dk)
   * when K is at least {@link #SPLIT_K_MIN}: each output is the sum of this many float32 dot
   * products over contiguous quarters of K instead of one dot product over all of K.
   *
   * <p>Why: the candidate scores reach ~100 on the paper profile, and which slots are retrieved and
   * their softmax weights hang on score differences of 1e-6 relative. A float32 dot product
   * accumulated in one sequential chain (a GEMM tile's K loop) over K = 768 then K = 256 moves
   * layer 1's weights by up to 1.5e-4 from float64 (CPU emulation, bench/fp16-emulation, modes fp32
   * / f32-*); four chains bring that to 2e-5..4e-5, about what float64 accumulation gives. Same
   * mathematics, same weights (a Reshape of the one initializer); cost: C partial products written
   * and summed (docs/performance.md).
   */
  public static final int DEFAULT_SCORING_SPLIT_K = 4;

  /**
   * Reductions shorter than this are one product whatever the split (tiny and small: D, dk < 256).
   */
  public static final int SPLIT_K_MIN = 256;

  public record Result(
      Path custom,
      Path reference,
      Path externalData,
      long externalBytes,
      long embeddedBytes,
      long bytesWritten,
      double seconds) {}

  public static String slotsOutput(int layer) {
    return "retrieval." + layer + ".slots";
  }

  public static String weightsOutput(int layer) {
    return "retrieval." + layer + ".weights";
  }

  public static String toolVersion() {
    String v = MsnOnnxExporter.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }

  private final Checkpoint ckpt;
  private final ModelConfig c;
  private final Options opts;

  /** Initializers shared by both graphs, by checkpoint-derived name. */
  private final Map<String, TensorProto> weights = new HashMap<>();

  private TensorStore store;

  private MsnOnnxExporter(Checkpoint ckpt, Options opts) {
    this.ckpt = ckpt;
    this.c = ckpt.config();
    // no --profile: record the built-in profile whose model this checkpoint is, if any, so that
    // verify and bench judge it by its own tolerances and batch range rather than a fallback's
    this.opts =
        opts.profile() != null
            ? opts
            : new Options(
                opts.valuesDtype(),
                opts.externalData(),
                opts.retrievalOutputs(),
                Profiles.builtInFor(c).orElse(null),
                opts.scoringSplitK(),
                opts.fuseMsnLayer());
  }

  public static Result export(Checkpoint ckpt, Path outDir, Options opts) {
    return export(ckpt, outDir, opts, Progress.NONE);
  }

  /** As {@link #export(Checkpoint, Path, Options)}, external-data bytes reported to progress. */
  public static Result export(Checkpoint ckpt, Path outDir, Options opts, Progress progress) {
    if (opts.scoringSplitK() < 1 || opts.scoringSplitK() > 64) {
      throw new BadInputException("--scoring-split-k must be 1..64, got " + opts.scoringSplitK());
    }
    QuantizedValues.checkOptions(opts.valuesDtype(), opts.fuseMsnLayer());
    return new MsnOnnxExporter(ckpt, opts).run(outDir, progress);
  }

  private Result run(Path outDir, Progress progress) {
    long t0 = System.nanoTime();
    AtomicFiles.ensureWritableDirectory(outDir, "output directory");
    boolean external =
        switch (opts.externalData()) {
          case ALWAYS -> true;
          case NEVER -> false;
          case AUTO -> estimatedBytes() > EMBED_LIMIT;
        };
    if (!external && estimatedBytes() > EMBED_LIMIT) {
      throw new BadInputException(
          "the model needs "
              + estimatedBytes() / (1 << 20)
              + " MiB of tensors, more than an ONNX file "
              + "can embed (2 GiB): use --external-data auto or always");
    }
    Path customPath = outDir.resolve(CUSTOM_FILE);
    Path refPath = outDir.resolve(REFERENCE_FILE);
    Path dataPath = outDir.resolve(DATA_FILE);
    refuseOverflow();
    // external: one table; embedded: each graph holds every tensor. The old files stay until the
    // commit.
    AtomicFiles.requireFreeSpace(
        outDir,
        external ? estimatedBytes() : 2 * estimatedBytes(),
        "the export of "
            + ckpt.dir()
            + " ("
            + c.largestTerm("config of " + ckpt.dir())
            + " as float32)");
    try (OutputLock lock = OutputLock.acquire(outDir, "output directory");
        AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
      Path dataTmp = external ? batch.tempFor(dataPath) : null;
      try (TensorStore ts =
          external ? TensorStore.external(dataTmp, DATA_FILE, progress) : TensorStore.embedded()) {
        this.store = ts;
        ModelProto custom = model(true);
        ModelProto reference = model(false);
        ts.force();
        writeModel(custom, batch.tempFor(customPath));
        writeModel(reference, batch.tempFor(refPath));
        String manifest = manifest(external, outDir);
        Files.writeString(
            batch.tempFor(outDir.resolve(MANIFEST_FILE)), manifest, AtomicFiles.existingTemp());
        // Every new file is complete under a temporary name. The commit first checks that every
        // target can be replaced (a directory named model.data fails here, the old export intact),
        // then drops the old manifest and renames the new one last: the renames are atomic one by
        // one, not together, and a run killed (SIGKILL) between two of them leaves no manifest
        // (verify and inspect refuse the directory) rather than a manifest beside another export's
        // graphs. SIGINT/SIGTERM wait for the commit (AtomicFiles).
        batch.commit(outDir.resolve(MANIFEST_FILE));
        if (!external) {
          Files.deleteIfExists(dataPath); // a stale table from an earlier external export
        }
        long written =
            Files.size(customPath) + Files.size(refPath) + (external ? Files.size(dataPath) : 0);
        return new Result(
            customPath,
            refPath,
            external ? dataPath : null,
            ts.externalBytes(),
            ts.embeddedBytes(),
            written,
            (System.nanoTime() - t0) / 1e9);
      }
    } catch (IOException e) {
      throw AtomicFiles.writeFailed(outDir, e);
    }
  }

  /**
   * Refuses, before anything is written, a checkpoint value that the graph's storage type cannot
   * hold (F64 1e300 in a float32 graph, 1e6 in an fp16 value table): it would become infinite.
   */
  private void refuseOverflow() {
    float[] buf = new float[1 << 16];
    for (TensorView t : ckpt.tensors().values()) {
      DType as = t.name().endsWith(".values") ? opts.valuesDtype() : DType.F32;
      if (t.dtype() == as
          || t.dtype().size() == 2 && as != DType.F16
          || RowQuantizer.isQuantized(as)) {
        // the same type, fp16/bf16 into a wider range, or a quantized table (its float32 scale
        // spans every finite float32): every finite value stays finite
        continue;
      }
      for (long i = 0; i < t.numel(); i += buf.length) {
        int n = (int) Math.min(buf.length, t.numel() - i);
        t.readFloats(i, buf, 0, n);
        for (int j = 0; j < n; j++) {
          if (!Float.isFinite(stored(buf[j], as))) {
            throw new BadInputException(
                "checkpoint "
                    + ckpt.weightsFile()
                    + ": tensor '"
                    + t.name()
                    + "' holds "
                    + t.getDouble(i + j)
                    + " at flat index "
                    + (i + j)
                    + ", which overflows "
                    + as.cliName()
                    + " (the type the export stores it in)");
          }
        }
      }
    }
  }

  /** {@code v} as the storage type keeps it. */
  private static float stored(float v, DType as) {
    return switch (as) {
      case F16 -> DType.halfToFloat(DType.floatToHalf(v));
      case BF16 -> DType.bf16ToFloat(DType.floatToBf16(v));
      default -> v;
    };
  }

  private long estimatedBytes() {
    return estimatedBytes(ckpt, opts.valuesDtype());
  }

  /** The tensor bytes an export of {@code ckpt} writes (value tables in {@code valuesDtype}). */
  public static long estimatedBytes(Checkpoint ckpt, DType valuesDtype) {
    long total = 0;
    for (TensorView t : ckpt.tensors().values()) {
      total += t.numel() * (t.name().endsWith(".values") ? valuesDtype.size() : 4);
    }
    return total;
  }

  private static void writeModel(ModelProto m, Path tmp) throws IOException {
    try (OutputStream out =
        new BufferedOutputStream(Files.newOutputStream(tmp, AtomicFiles.existingTemp()), 1 << 20)) {
      m.writeTo(out);
    }
  }

  /**
   * The checkpoint as the manifest records it: relative to the export directory when both are on
   * one file-system root (an export moved together with its checkpoint still finds it), else
   * absolute. Readers resolve it against the manifest's directory.
   */
  static String checkpointPath(Path checkpoint, Path outDir) {
    Path ck = checkpoint.toAbsolutePath().normalize();
    Path out = outDir.toAbsolutePath().normalize();
    if (ck.getRoot() != null && ck.getRoot().equals(out.getRoot())) {
      String rel = out.relativize(ck).toString();
      return rel.isEmpty() ? "." : rel;
    }
    return ck.toString();
  }

  private String manifest(boolean external, Path outDir) {
    return new ExportManifest(
            ExportManifest.TOOL,
            toolVersion(),
            opts.profile(),
            checkpointPath(ckpt.dir(), outDir),
            checkpointSha(),
            c,
            opts.valuesDtype().cliName(),
            external ? DATA_FILE : null,
            opts.retrievalOutputs(),
            opts.scoringSplitK(),
            opts.fuseMsnLayer(),
            Map.of("custom", CUSTOM_FILE, "reference", REFERENCE_FILE))
        .toJson();
  }

  private String sha;

  private String checkpointSha() {
    if (sha == null) {
      sha = ckpt.sha256();
    }
    return sha;
  }

  // ---- the model ----------------------------------------------------------------------------

  private ModelProto model(boolean custom) {
    GraphBuilder g = new GraphBuilder(custom ? "msn_custom" : "msn_reference");
    String batch = "batch";
    g.input(INPUT, TensorProto.DataType.FLOAT_VALUE, batch, c.T(), c.D());
    String x = INPUT;
    List<String[]> extraOutputs = new ArrayList<>();
    for (int l = 0; l < c.L(); l++) {
      String b = "blocks." + l + ".";
      g.scope("blocks." + l + ".mix");
      String mixed = g.op("Reshape", List.of(x, g.int64s(-1, c.T(), c.T(), c.tokenChunk())));
      mixed = g.op("Transpose", List.of(mixed), attrInts("perm", 0, 2, 1, 3));
      mixed = g.op("Reshape", List.of(mixed, g.int64s(-1, c.T(), c.D())));
      x = layerNorm(g, g.op("Add", List.of(x, mixed)), b + "mix_norm");
      if (c.isMsnLayer(l) && custom && opts.fuseMsnLayer()) {
        g.scope("blocks." + l + ".msn");
        String[] fused = fusedLayer(g, l, x);
        x = fused[0];
        if (opts.retrievalOutputs()) {
          g.renameOutput(fused[1], slotsOutput(l));
          g.renameOutput(fused[2], weightsOutput(l));
          extraOutputs.add(new String[] {slotsOutput(l), weightsOutput(l)});
        }
      } else if (c.isMsnLayer(l)) {
        g.scope("blocks." + l + ".msn");
        String[] retrieved = custom ? retrievalCustom(g, l, x) : retrievalReference(g, l, x);
        String v = retrieved[0];
        if (opts.retrievalOutputs()) {
          g.renameOutput(retrieved[1], slotsOutput(l));
          g.renameOutput(retrieved[2], weightsOutput(l));
          extraOutputs.add(new String[] {slotsOutput(l), weightsOutput(l)});
        }
        String act =
            switch (c.gate()) {
              case "tanh" -> g.op("Tanh", List.of(v));
              case "sigmoid" -> g.op("Sigmoid", List.of(v));
              default -> v;
            };
        x = g.op("Mul", List.of(x, act));
      }
      g.scope("blocks." + l + ".ffn");
      String xt = g.op("Transpose", List.of(x), attrInts("perm", 1, 0, 2)); // [T, B, D]
      String h = g.op("MatMul", List.of(xt, weight(g, b + "ffn.w1", true)));
      h = g.op("Add", List.of(h, weight3(g, b + "ffn.b1")));
      h = gelu(g, h);
      String y = g.op("MatMul", List.of(h, weight(g, b + "ffn.w2", true)));
      y = g.op("Add", List.of(y, weight3(g, b + "ffn.b2")));
      y = g.op("Transpose", List.of(y), attrInts("perm", 1, 0, 2));
      x = layerNorm(g, g.op("Add", List.of(x, y)), b + "ffn_norm");
    }
    g.scope("heads");
    String pooled = g.op("ReduceMean", List.of(x), attrInts("axes", 1), attrInt("keepdims", 0));
    for (String task : c.tasks()) {
      String p = "heads." + task + ".";
      g.scope("heads." + task);
      String h =
          g.op(
              "Add",
              List.of(
                  g.op("MatMul", List.of(pooled, weight(g, p + "w1", true))),
                  weight(g, p + "b1", false)));
      h = gelu(g, h);
      String o =
          g.op(
              "Add",
              List.of(
                  g.op("MatMul", List.of(h, weight(g, p + "w2", true))),
                  weight(g, p + "b2", false)));
      o = g.op("Sigmoid", List.of(o));
      g.renameOutput(o, task);
      g.output(task, TensorProto.DataType.FLOAT_VALUE, batch, 1);
    }
    for (String[] names : extraOutputs) {
      g.output(names[0], TensorProto.DataType.INT64_VALUE, batch, c.T(), c.k());
      g.output(names[1], TensorProto.DataType.FLOAT_VALUE, batch, c.T(), c.k());
    }
    ModelProto.Builder m =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("msn-export")
            .setProducerVersion(toolVersion())
            .setDomain("dev.msnexport")
            .setDocString(
                "MSN model, "
                    + (custom ? "custom-op" : "reference (standard ops)")
                    + " graph; see docs/model-contract.md")
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
            .setGraph(g.build());
    if (custom) {
      m.addOpsetImport(
          OperatorSetIdProto.newBuilder()
              .setDomain(DOMAIN)
              .setVersion(OpTable.standard().opsetVersion()));
    }
    meta(m, "msn.graph", custom ? "custom" : "reference");
    meta(m, "msn.config", Profiles.toJson(c));
    meta(m, "msn.checkpoint_sha256", checkpointSha());
    meta(m, "msn.tool_version", toolVersion());
    meta(m, "msn.values_dtype", opts.valuesDtype().cliName());
    meta(m, "msn.retrieval_outputs", Boolean.toString(opts.retrievalOutputs()));
    meta(m, "msn.scoring_split_k", Integer.toString(opts.scoringSplitK()));
    meta(m, "msn." + FUSED_MSN_LAYER, Boolean.toString(custom && opts.fuseMsnLayer()));
    if (opts.profile() != null) {
      meta(m, "msn.profile", opts.profile());
    }
    return m.build();
  }

  private static void meta(ModelProto.Builder m, String k, String v) {
    m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v));
  }

  /** q = LN halves of (x W_q^T + b_q); scores a, b = [B, T, S] against the folded keys. */
  private String[] scores(GraphBuilder g, int l, String x) {
    String p = "blocks." + l + ".msn.";
    String q =
        g.op(
            "Add",
            List.of(
                splitKMatMul(g, x, weight(g, p + "query.weight", true), c.D(), 2 * c.dk()),
                weight(g, p + "query.bias", false)));
    String qRow = g.op("Slice", List.of(q, g.int64s(0), g.int64s(c.dk()), g.int64s(2)));
    String qCol = g.op("Slice", List.of(q, g.int64s(c.dk()), g.int64s(2L * c.dk()), g.int64s(2)));
    qRow = layerNorm(g, qRow, p + "query_norm_row");
    qCol = layerNorm(g, qCol, p + "query_norm_col");
    String a = splitKMatMul(g, qRow, foldedKeys(g, l, "row", false), c.dk(), c.S());
    String b = splitKMatMul(g, qCol, foldedKeys(g, l, "col", false), c.dk(), c.S());
    return new String[] {a, b};
  }

  /**
   * How many partial sums a scoring product over {@code k} terms gets: the option's, or the largest
   * divisor of k below it.
   */
  public static int splitK(int k, int requested) {
    if (k < SPLIT_K_MIN) {
      return 1;
    }
    int s = Math.min(requested, k);
    while (k % s != 0) {
      s--;
    }
    return s;
  }

  /**
   * {@code x [B, T, K] @ w [K, N]} as {@code [B, T, N]}: one MatMul, or (see {@link
   * #DEFAULT_SCORING_SPLIT_K}) C partial products over contiguous K/C slices, summed: x as [B*T, C,
   * K/C], transposed to [C, B*T, K/C], times w viewed as [C, K/C, N], ReduceSum over C.
   */
  private String splitKMatMul(GraphBuilder g, String x, String w, int k, int n) {
    int parts = splitK(k, opts.scoringSplitK());
    if (parts == 1) {
      return g.op("MatMul", List.of(x, w));
    }
    String xs = g.op("Reshape", List.of(x, g.int64s(-1, parts, k / parts)));
    xs = g.op("Transpose", List.of(xs), attrInts("perm", 1, 0, 2));
    String ws = g.op("Reshape", List.of(w, g.int64s(parts, k / parts, n)));
    String partial = g.op("MatMul", List.of(xs, ws));
    String sum = g.op("ReduceSum", List.of(partial, g.int64s(0)), attrInt("keepdims", 0));
    return g.op("Reshape", List.of(sum, g.int64s(-1, c.T(), n)));
  }

  private RetrievalGraph.Shape retrievalShape() {
    return new RetrievalGraph.Shape(
        c.S(), c.k(), c.T(), c.slots(), c.perTokenMemory(), opts.valuesDtype());
  }

  /** Returns {v [B,T,D] float, slots [B,T,k] int64, weights [B,T,k]}. */
  private String[] retrievalReference(GraphBuilder g, int l, String x) {
    String[] ab = scores(g, l, x);
    String[] table = values(g, l, false);
    return RetrievalGraph.reference(
        g, ab[0], ab[1], table[0], table[1], retrievalShape(), opts.retrievalOutputs());
  }

  private String[] retrievalCustom(GraphBuilder g, int l, String x) {
    String[] ab = scores(g, l, x);
    String flat = g.int64s(-1, c.S());
    String a = g.op("Reshape", List.of(ab[0], flat));
    String b = g.op("Reshape", List.of(ab[1], flat));
    String[] table = values(g, l, true);
    String[] r = RetrievalGraph.custom(g, a, b, table[0], table[1], retrievalShape());
    String v = g.op("Reshape", List.of(r[0], g.int64s(-1, c.T(), c.D())));
    if (!opts.retrievalOutputs()) {
      return new String[] {v, null, null};
    }
    String slotsOut = g.op("Reshape", List.of(r[1], g.int64s(-1, c.T(), c.k())));
    String wOut = g.op("Reshape", List.of(r[2], g.int64s(-1, c.T(), c.k())));
    return new String[] {v, slotsOut, wOut};
  }

  /** One msn::MsnLayer node: returns {x * act(v) [B,T,D], slots [B,T,k], weights [B,T,k]}. */
  private String[] fusedLayer(GraphBuilder g, int l, String x) {
    String p = "blocks." + l + ".msn.";
    FusedMsnLayer.Inputs in =
        new FusedMsnLayer.Inputs(
            weight(g, p + "query.weight", false),
            weight(g, p + "query.bias", false),
            weight(g, p + "query_norm_row.weight", false),
            weight(g, p + "query_norm_row.bias", false),
            weight(g, p + "query_norm_col.weight", false),
            weight(g, p + "query_norm_col.bias", false),
            foldedKeys(g, l, "row", true),
            foldedKeys(g, l, "col", true),
            values(g, l, true)[0]);
    return FusedMsnLayer.emit(g, x, in, c);
  }

  private String layerNorm(GraphBuilder g, String x, String prefix) {
    return g.op(
        "LayerNormalization",
        List.of(x, weight(g, prefix + ".weight", false), weight(g, prefix + ".bias", false)),
        attrInt("axis", -1),
        attrFloat("epsilon", 1e-5f));
  }

  /** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
  private static String gelu(GraphBuilder g, String x) {
    String e = g.op("Erf", List.of(g.op("Mul", List.of(x, g.scalar((float) (1 / Math.sqrt(2)))))));
    return g.op(
        "Mul",
        List.of(g.op("Mul", List.of(x, g.scalar(0.5f))), g.op("Add", List.of(e, g.scalar(1f)))));
  }

  // ---- initializers (shared by both graphs) --------------------------------------------------

  /** A checkpoint weight as float32, optionally with its last two axes swapped (for x W^T). */
  private String weight(GraphBuilder g, String name, boolean transposeLast2) {
    String key = transposeLast2 ? name + ".T" : name;
    TensorProto t =
        weights.computeIfAbsent(
            key,
            k -> {
              TensorView v = ckpt.tensor(name);
              long[] dims = v.shape();
              float[] data = v.toFloatArray();
              if (transposeLast2) {
                int r = (int) dims[dims.length - 2];
                int cc = (int) dims[dims.length - 1];
                int batches = data.length / (r * cc);
                float[] tr = new float[data.length];
                for (int bi = 0; bi < batches; bi++) {
                  int base = bi * r * cc;
                  for (int i = 0; i < r; i++) {
                    for (int j = 0; j < cc; j++) {
                      tr[base + j * r + i] = data[base + i * cc + j];
                    }
                  }
                }
                data = tr;
                dims[dims.length - 2] = cc;
                dims[dims.length - 1] = r;
              }
              return store.addFloats(k, dims, data, DType.F32);
            });
    g.initializer(t);
    return t.getName();
  }

  /** A per-token bias [T, X] as [T, 1, X], to broadcast over the batch in [T, B, X]. */
  private String weight3(GraphBuilder g, String name) {
    String key = name + ".bcast";
    TensorProto t =
        weights.computeIfAbsent(
            key,
            k -> {
              TensorView v = ckpt.tensor(name);
              return store.addFloats(
                  k, new long[] {v.dim(0), 1, v.dim(1)}, v.toFloatArray(), DType.F32);
            });
    g.initializer(t);
    return t.getName();
  }

  /**
   * score_scale * LN(keys Theta^T)^T as [dk, S] (or, {@code keyMajor}, as [S, dk] for MsnLayer),
   * computed in double: the exporter folds what is constant at inference time.
   */
  private String foldedKeys(GraphBuilder g, int l, String half, boolean keyMajor) {
    String p = "blocks." + l + ".msn.";
    String key = p + "folded_keys_" + half + (keyMajor ? "_sdk" : "");
    TensorProto t =
        weights.computeIfAbsent(
            key,
            k -> {
              double[] folded =
                  foldKeys(
                      ckpt.tensor(p + "keys_" + half).toDoubleArray(),
                      ckpt.tensor(p + "theta_" + half).toDoubleArray(),
                      ckpt.tensor(p + "key_norm_" + half + ".weight").toDoubleArray(),
                      ckpt.tensor(p + "key_norm_" + half + ".bias").toDoubleArray(),
                      c.S(),
                      c.dk());
              float[] kt = new float[c.dk() * c.S()];
              for (int s = 0; s < c.S(); s++) {
                for (int d = 0; d < c.dk(); d++) {
                  int at = keyMajor ? s * c.dk() + d : d * c.S() + s;
                  kt[at] = (float) (c.scoreScale() * folded[s * c.dk() + d]);
                  if (!Float.isFinite(kt[at])) {
                    throw new BadInputException(
                        "checkpoint "
                            + ckpt.weightsFile()
                            + ": the folded keys of '"
                            + p
                            + "keys_"
                            + half
                            + "' (score_scale "
                            + c.scoreScale()
                            + " x LN(keys theta^T)) overflow float32 at key "
                            + s
                            + ", index "
                            + d);
                  }
                }
              }
              long[] dims = keyMajor ? new long[] {c.S(), c.dk()} : new long[] {c.dk(), c.S()};
              return store.addFloats(k, dims, kt, DType.F32);
            });
    g.initializer(t);
    return t.getName();
  }

  /**
   * K' = LN(keys Theta^T), row-major [S, dk]; LayerNorm per key over dk, eps 1e-5, biased variance.
   */
  public static double[] foldKeys(
      double[] keys, double[] theta, double[] gamma, double[] beta, int s, int dk) {
    double[] out = new double[s * dk];
    double[] row = new double[dk];
    for (int i = 0; i < s; i++) {
      for (int o = 0; o < dk; o++) {
        double acc = 0;
        for (int j = 0; j < dk; j++) {
          acc += keys[i * dk + j] * theta[o * dk + j];
        }
        row[o] = acc;
      }
      double mean = 0;
      for (double v : row) {
        mean += v;
      }
      mean /= dk;
      double var = 0;
      for (double v : row) {
        var += (v - mean) * (v - mean);
      }
      var /= dk;
      double inv = 1 / Math.sqrt(var + 1e-5);
      for (int o = 0; o < dk; o++) {
        out[i * dk + o] = (row[o] - mean) * inv * gamma[o] + beta[o];
      }
    }
    return out;
  }

  /**
   * The value table, in the requested storage type, streamed from the checkpoint: {table, scales}
   * (scales null unless quantized; a quantized table as the custom or the reference graph reads
   * it).
   */
  private String[] values(GraphBuilder g, int l, boolean custom) {
    String name = "blocks." + l + ".msn.values";
    if (RowQuantizer.isQuantized(opts.valuesDtype())) {
      TensorProto[] q =
          QuantizedValues.of(weights, store, ckpt, name, c.valueRows(), c.D(), opts.valuesDtype());
      g.initializer(custom ? q[0] : QuantizedTable.referenceView(q[0]));
      g.initializer(q[1]);
      return new String[] {q[0].getName(), q[1].getName()};
    }
    TensorProto t =
        weights.computeIfAbsent(
            name,
            k -> {
              TensorView v = ckpt.tensor(name);
              long rows = c.valueRows();
              long[] dims = {rows, c.D()};
              DType as = opts.valuesDtype();
              long bytes = rows * c.D() * as.size();
              SafetensorsWriter.Source src;
              if (v.dtype() == as) {
                src = v::transferTo;
              } else {
                src =
                    out -> {
                      int chunk = 1 << 16;
                      float[] buf = new float[chunk];
                      for (long i = 0; i < v.numel(); i += chunk) {
                        int n = (int) Math.min(chunk, v.numel() - i);
                        v.readFloats(i, buf, 0, n);
                        SafetensorsWriter.writeConverted(out, as, buf, 0, n);
                      }
                    };
              }
              return store.add(k, as, dims, src, bytes);
            });
    g.initializer(t);
    return new String[] {t.getName(), null};
  }

  static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
