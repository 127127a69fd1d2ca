package dev.msnexport.trt;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JacksonException;
import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import dev.msnexport.common.Sha256;
import dev.msnexport.profiles.BatchBuckets;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The sidecar {@code PLAN.json} written next to every engine plan by {@code msn-export build}: what
 * the plan was built from (ONNX file and plugin library, by SHA-256), for which TensorRT and GPU,
 * with which precision, graph, batch range and batch buckets (optimization profiles). A plan is
 * only loaded when its sidecar matches what the caller is about to run ({@link #check}); TensorRT
 * itself would happily run a stale plan against a changed model or plugin library.
 */
@JsonPropertyOrder({
  "schema",
  "tool_version",
  "created",
  "tensorrt_version",
  "gpu",
  "precision",
  "graph",
  "profile",
  "batch",
  "buckets",
  "input",
  "onnx",
  "plugin_library",
  "plan_sha256",
  "plan_bytes",
  "build_seconds"
})
@JsonInclude(JsonInclude.Include.ALWAYS)
public record EngineMetadata(
    @JsonProperty(value = "schema", required = true) String schema,
    @JsonProperty("tool_version") String toolVersion,
    @JsonProperty("created") String created,
    @JsonProperty(value = "tensorrt_version", required = true) String tensorRtVersion,
    @JsonProperty(value = "gpu", required = true) GpuInfo gpu,
    @JsonProperty(value = "precision", required = true) String precision,
    @JsonProperty(value = "graph", required = true) String graph,
    @JsonProperty("profile") String profile,
    @JsonProperty(value = "batch", required = true) Profile.BatchShapes batch,
    @JsonProperty("buckets") List<Profile.BatchShapes> buckets,
    @JsonProperty(value = "input", required = true) InputInfo input,
    @JsonProperty(value = "onnx", required = true) OnnxInfo onnx,
    @JsonProperty("plugin_library") PluginInfo pluginLibrary,
    @JsonProperty(value = "plan_sha256", required = true) String planSha256,
    @JsonProperty("plan_bytes") long planBytes,
    @JsonProperty("build_seconds") double buildSeconds) {

  /**
   * {@code buckets}: the plan's optimization profiles in index order, one {min, opt, max} each
   * ({@link BatchBuckets}); a sidecar without them (written before buckets existed) describes one
   * profile, its {@code batch}.
   */
  @JsonCreator
  public EngineMetadata {
    buckets =
        buckets == null || buckets.isEmpty()
            ? (batch == null ? List.of() : batch.buckets())
            : List.copyOf(buckets);
  }

  /** As the canonical constructor, with the buckets of {@code batch}. */
  public EngineMetadata(
      String schema,
      String toolVersion,
      String created,
      String tensorRtVersion,
      GpuInfo gpu,
      String precision,
      String graph,
      String profile,
      Profile.BatchShapes batch,
      InputInfo input,
      OnnxInfo onnx,
      PluginInfo pluginLibrary,
      String planSha256,
      long planBytes,
      double buildSeconds) {
    this(
        schema,
        toolVersion,
        created,
        tensorRtVersion,
        gpu,
        precision,
        graph,
        profile,
        batch,
        null,
        input,
        onnx,
        pluginLibrary,
        planSha256,
        planBytes,
        buildSeconds);
  }

  public static final String SCHEMA = "msn-export.engine/1";
  public static final String SUFFIX = ".json";

  /**
   * The exporter's external data file, shared by both graphs ({@code MsnOnnxExporter.DATA_FILE}).
   */
  static final String EXTERNAL_DATA_FILE = "model.data";

  @JsonPropertyOrder({"name", "compute_capability"})
  public record GpuInfo(
      @JsonProperty("name") String name,
      @JsonProperty("compute_capability") String computeCapability) {}

  /** The batched input and its shape with -1 for the batch. */
  @JsonPropertyOrder({"name", "shape"})
  public record InputInfo(
      @JsonProperty("name") String name, @JsonProperty("shape") List<Long> shape) {}

  /** The ONNX file by name and SHA-256, and the external data file beside it when there is one. */
  @JsonPropertyOrder({"file", "sha256", "external_data_sha256"})
  public record OnnxInfo(
      @JsonProperty("file") String file,
      @JsonProperty("sha256") String sha256,
      @JsonProperty("external_data_sha256") String externalDataSha256) {}

  /** The plugin library the plan's plugin layers were built with (custom graph only). */
  @JsonPropertyOrder({"source", "sha256"})
  public record PluginInfo(
      @JsonProperty("source") String source, @JsonProperty("sha256") String sha256) {}

  /** What a caller is about to run; null fields are not checked. */
  public record Expectation(
      Path onnx, String pluginSha256, String tensorRtVersion, String computeCapability) {
    public static Expectation none() {
      return new Expectation(null, null, null, null);
    }
  }

  public static Path sidecarOf(Path plan) {
    return plan.resolveSibling(plan.getFileName() + SUFFIX);
  }

  /**
   * Digest of an ONNX file and of its external data file ({@value #EXTERNAL_DATA_FILE} beside it),
   * if any.
   */
  public static OnnxInfo digestOnnx(Path onnx) {
    if (!Files.isRegularFile(onnx)) {
      throw new BadInputException("ONNX model " + onnx + " does not exist");
    }
    Path data = onnx.resolveSibling(EXTERNAL_DATA_FILE);
    return new OnnxInfo(
        onnx.getFileName().toString(),
        Sha256.of(onnx),
        Files.isRegularFile(data) ? Sha256.of(data) : null);
  }

  /** Reads the sidecar of {@code plan}; a plan without one is refused. */
  public static EngineMetadata read(Path plan) {
    InputFiles.requireRegularFile(plan, "engine plan");
    Path side = sidecarOf(plan);
    if (!Files.exists(side)) {
      throw new BadInputException(
          "engine plan "
              + plan
              + " has no sidecar "
              + side.getFileName()
              + " (written by 'msn-export build'): "
              + "refusing to load a plan whose model, plugin library and TensorRT version are unknown; rebuild it with msn-export build");
    }
    EngineMetadata m;
    try {
      m =
          Profiles.JSON.readValue(
              InputFiles.readText(side, "engine sidecar", InputFiles.MAX_CONFIG_BYTES),
              EngineMetadata.class);
    } catch (JacksonException e) {
      throw new BadInputException(
          "engine sidecar " + side + " is not valid: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new BadInputException("cannot read engine sidecar " + side + ": " + e.getMessage(), e);
    }
    if (m == null || !SCHEMA.equals(m.schema())) {
      throw new BadInputException(
          "engine sidecar "
              + side
              + " has schema "
              + (m == null ? null : m.schema())
              + ", expected "
              + SCHEMA);
    }
    if (!"custom".equals(m.graph()) && !"reference".equals(m.graph())) {
      throw new BadInputException(
          "engine sidecar "
              + side
              + ": field 'graph' is '"
              + m.graph()
              + "', expected custom or reference");
    }
    Precision.parse(m.precision());
    for (Profile.BatchShapes b : m.buckets()) {
      if (b == null || b.min() < 1 || b.opt() < b.min() || b.max() < b.opt()) {
        throw new BadInputException(
            "engine sidecar "
                + side
                + ": field 'buckets' holds "
                + b
                + ", expected 1 <= min <= opt <= max");
      }
    }
    return m;
  }

  public void write(Path plan) {
    AtomicFiles.writeString(sidecarOf(plan), toJson());
  }

  public String toJson() {
    return Profiles.toJson(this) + "\n";
  }

  public boolean usesPlugins() {
    return "custom".equals(graph);
  }

  /**
   * Refuses (BadInputException, exit 4) a plan whose sidecar does not match {@code e}, naming what
   * differs. {@code planSha256} is the digest of the plan bytes about to be deserialized.
   */
  public void check(Path plan, String planSha256, Expectation e) {
    String what = "engine " + plan;
    if (planSha256 != null && !planSha256.equals(this.planSha256)) {
      throw new BadInputException(
          what
              + " has SHA-256 "
              + planSha256
              + " but its sidecar "
              + sidecarOf(plan).getFileName()
              + " describes a plan with "
              + this.planSha256
              + ": the plan or the sidecar was replaced; rebuild with msn-export build");
    }
    checkOnnx(what, e.onnx());
    checkBuildPlace(what, e);
  }

  /**
   * The index of the bucket (optimization profile) that runs {@code batch}: the one with the
   * smallest max that holds it ({@link BatchBuckets#indexFor}); a batch outside every bucket is
   * refused (BadInputException, exit 4), naming the buckets.
   */
  public int bucketFor(Path plan, long batch) {
    int i = BatchBuckets.indexFor(buckets, batch);
    if (i < 0) {
      throw new BadInputException(
          "engine "
              + plan.getFileName()
              + ": batch "
              + batch
              + " is outside its optimization profiles, batch min..max (opt) "
              + BatchBuckets.describe(buckets)
              + " (rebuild with a profile whose batch covers it)");
    }
    return i;
  }

  /** The ONNX file (and its external data) the plan was built from, unless {@code file} is null. */
  private void checkOnnx(String what, Path file) {
    if (file != null) {
      OnnxInfo now = digestOnnx(file);
      if (!now.sha256().equals(onnx.sha256())) {
        throw new BadInputException(
            what
                + " was built from "
                + onnx.file()
                + " with SHA-256 "
                + onnx.sha256()
                + ", but "
                + file
                + " has SHA-256 "
                + now.sha256()
                + ": the model changed since the build; rebuild with msn-export build");
      }
      if (!java.util.Objects.equals(now.externalDataSha256(), onnx.externalDataSha256())) {
        throw new BadInputException(
            what
                + " was built with external data "
                + EXTERNAL_DATA_FILE
                + " SHA-256 "
                + onnx.externalDataSha256()
                + ", but beside "
                + file
                + " it is "
                + now.externalDataSha256()
                + ": the weights changed since the build; rebuild with msn-export build");
      }
    }
  }

  /** The plugin library, TensorRT version and compute capability the plan was built with. */
  private void checkBuildPlace(String what, Expectation e) {
    if (usesPlugins() && e.pluginSha256() != null) {
      String built = pluginLibrary == null ? null : pluginLibrary.sha256();
      if (!e.pluginSha256().equals(built)) {
        throw new BadInputException(
            what
                + " was built with plugin library SHA-256 "
                + built
                + ", but this msn-export's plugin "
                + "library has SHA-256 "
                + e.pluginSha256()
                + ": plugin layers would run code they were not built with; rebuild with "
                + "msn-export build");
      }
    }
    if (e.tensorRtVersion() != null && !e.tensorRtVersion().equals(tensorRtVersion)) {
      throw new BadInputException(
          what
              + " was built with TensorRT "
              + tensorRtVersion
              + ", this process has TensorRT "
              + e.tensorRtVersion()
              + ": plans are not portable across TensorRT versions; rebuild with msn-export build");
    }
    if (e.computeCapability() != null && !e.computeCapability().equals(gpu.computeCapability())) {
      throw new BadInputException(
          what
              + " was built for compute capability "
              + gpu.computeCapability()
              + " ("
              + gpu.name()
              + "), this GPU has "
              + e.computeCapability()
              + ": rebuild on this GPU with msn-export build");
    }
  }
}
