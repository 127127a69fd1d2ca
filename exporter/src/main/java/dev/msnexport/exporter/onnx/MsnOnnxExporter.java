package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.OutputLock;
import dev.msnexport.exporter.ExportManifest;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.progress.Progress;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.exporter.safetensors.TensorView;
import dev.msnexport.ops.OpTable;
import dev.msnexport.profiles.Profiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

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
   * @param tableShardElements the custom graph splits a value table of more elements into row
   *     shards ({@link TableShards}; default TensorRT's limit, {@link TableShards#MAX_ELEMENTS})
   */
  public record Options(
      DType valuesDtype,
      ExternalData externalData,
      boolean retrievalOutputs,
      String profile,
      int scoringSplitK,
      boolean fuseMsnLayer,
      long tableShardElements) {
    public Options(
        DType valuesDtype,
        ExternalData externalData,
        boolean retrievalOutputs,
        String profile,
        int scoringSplitK,
        boolean fuseMsnLayer) {
      this(
          valuesDtype,
          externalData,
          retrievalOutputs,
          profile,
          scoringSplitK,
          fuseMsnLayer,
          TableShards.MAX_ELEMENTS);
    }

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
  private final Options opts;

  private MsnOnnxExporter(Checkpoint ckpt, Options opts) {
    this.ckpt = ckpt;
    // no --profile: record the built-in profile whose model this checkpoint is, if any, so that
    // verify and bench judge it by its own tolerances and batch range rather than a fallback's
    this.opts =
        opts.profile() != null
            ? opts
            : new Options(
                opts.valuesDtype(),
                opts.externalData(),
                opts.retrievalOutputs(),
                Profiles.builtInFor(ckpt.config()).orElse(null),
                opts.scoringSplitK(),
                opts.fuseMsnLayer(),
                opts.tableShardElements());
  }

  public static Result export(Checkpoint ckpt, Path outDir, Options opts) {
    return export(ckpt, outDir, opts, Progress.NONE);
  }

  /** As {@link #export(Checkpoint, Path, Options)}, external-data bytes reported to progress. */
  public static Result export(Checkpoint ckpt, Path outDir, Options opts, Progress progress) {
    ExportChecks.options(opts);
    return new MsnOnnxExporter(ckpt, opts).run(outDir, progress);
  }

  private Result run(Path outDir, Progress progress) {
    long t0 = System.nanoTime();
    AtomicFiles.ensureWritableDirectory(outDir, "output directory");
    long estimated = estimatedBytes(ckpt, opts.valuesDtype());
    boolean external = ExportChecks.external(opts.externalData(), estimated);
    Path customPath = outDir.resolve(CUSTOM_FILE);
    Path refPath = outDir.resolve(REFERENCE_FILE);
    Path dataPath = outDir.resolve(DATA_FILE);
    ExportChecks.refuseOverflow(ckpt, opts.valuesDtype());
    // external: one table; embedded: each graph holds every tensor. The old files stay until the
    // commit.
    AtomicFiles.requireFreeSpace(
        outDir,
        external ? estimated : 2 * estimated,
        "the export of "
            + ckpt.dir()
            + " ("
            + ckpt.config().largestTerm("config of " + ckpt.dir())
            + " as float32)");
    ExportMetadata meta = new ExportMetadata(ckpt, opts);
    try (OutputLock lock = OutputLock.acquire(outDir, "output directory");
        AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
      Path dataTmp = external ? batch.tempFor(dataPath) : null;
      try (TensorStore ts =
          external ? TensorStore.external(dataTmp, DATA_FILE, progress) : TensorStore.embedded()) {
        ModelGraph graphs =
            new ModelGraph(ckpt.config(), opts, new Initializers(ckpt, opts.valuesDtype(), ts));
        ModelProto custom = meta.model(graphs.build(true), true);
        ModelProto reference = meta.model(graphs.build(false), false);
        ts.force();
        writeModel(custom, batch.tempFor(customPath));
        writeModel(reference, batch.tempFor(refPath));
        Files.writeString(
            batch.tempFor(outDir.resolve(MANIFEST_FILE)),
            meta.manifest(external, outDir),
            AtomicFiles.existingTemp());
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
   * K' = LN(keys Theta^T), row-major [S, dk]; LayerNorm per key over dk, eps 1e-5, biased variance
   * (what the export folds into the graphs' key constants).
   */
  public static double[] foldKeys(
      double[] keys, double[] theta, double[] gamma, double[] beta, int s, int dk) {
    return Initializers.foldKeys(keys, theta, gamma, beta, s, dk);
  }
}
