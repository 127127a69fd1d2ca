package dev.msnexport.exporter;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The export directory's {@code manifest.json}, one record both ways: the exporter writes it
 * ({@link #toJson}), everyone else reads it ({@link #read}, checked, with errors naming the file
 * and the field). Keys are stable; a new one is a new component (readers of older manifests get
 * null or its default, and readers ignore keys they do not know).
 *
 * @param tool always {@value #TOOL}
 * @param toolVersion the exporter's version
 * @param profile the profile recorded at export (the built-in one whose model the checkpoint is,
 *     when none was given); null when none
 * @param checkpoint the checkpoint exported from, relative to the export directory when both are on
 *     one file-system root, else absolute ({@link #checkpointPath}); null when not recorded
 * @param checkpointSha256 that checkpoint's SHA-256; null when not recorded
 * @param config the model's config
 * @param valuesDtype the value tables' storage type (fp32, fp16, bf16, int8, fp8); fp32 when absent
 * @param externalData the external data file shared by both graphs; null when the weights are
 *     inside the graphs
 * @param retrievalOutputs whether the graphs also output every MSN layer's slots and weights; false
 *     when absent
 * @param scoringSplitK how many parts the retrieval's scoring was split into; null when absent
 * @param graphs the graph files by graph name (custom, reference)
 * @param fusedMsnLayer whether the custom graph computes each memory layer with one fused {@code
 *     msn.MsnLayer} node ({@code export --fuse-msn-layer}); false when absent
 */
@JsonPropertyOrder({
  "tool",
  "tool_version",
  "profile",
  "checkpoint",
  "checkpoint_sha256",
  "config",
  "values_dtype",
  "external_data",
  "retrieval_outputs",
  "scoring_split_k",
  "fused_msn_layer",
  "graphs"
})
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ExportManifest(
    @JsonProperty("tool") String tool,
    @JsonProperty("tool_version") String toolVersion,
    @JsonProperty("profile") String profile,
    @JsonProperty("checkpoint") String checkpoint,
    @JsonProperty("checkpoint_sha256") String checkpointSha256,
    @JsonProperty("config") ModelConfig config,
    @JsonProperty("values_dtype") String valuesDtype,
    @JsonProperty("external_data") String externalData,
    @JsonProperty("retrieval_outputs") Boolean retrievalOutputs,
    @JsonProperty("scoring_split_k") Integer scoringSplitK,
    @JsonProperty("fused_msn_layer") Boolean fusedMsnLayer,
    @JsonProperty("graphs") Map<String, String> graphs) {
  /** The file name in an export directory. */
  public static final String FILE = "manifest.json";

  public static final String TOOL = "msn-export";

  /** Defaults of the keys older manifests lack; graphs sorted (exports are reproducible). */
  public ExportManifest {
    valuesDtype = valuesDtype == null ? DType.F32.cliName() : valuesDtype;
    retrievalOutputs = retrievalOutputs != null && retrievalOutputs;
    fusedMsnLayer = fusedMsnLayer != null && fusedMsnLayer;
    graphs = graphs == null ? null : new TreeMap<>(graphs);
  }

  /** Whether the graphs also output the retrieved slots and weights. */
  public boolean hasRetrievalOutputs() {
    return retrievalOutputs;
  }

  /** Whether the custom graph holds one fused {@code msn.MsnLayer} node per memory layer. */
  public boolean hasFusedMsnLayer() {
    return fusedMsnLayer;
  }

  /** The JSON text written to {@link #FILE}. */
  public String toJson() {
    return Profiles.toJson(this) + "\n";
  }

  /**
   * Reads and checks the manifest of an export directory: valid JSON, a valid {@code config}, a
   * known {@code values_dtype}; bad input names the file and the field.
   */
  public static ExportManifest read(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new BadInputException(
          "model directory " + dir + " does not exist (expected the --out of 'msn-export export')");
    }
    Path file = dir.resolve(FILE);
    if (!Files.exists(file)) {
      throw new BadInputException(
          "model directory " + dir + " has no " + FILE + ": not an export directory");
    }
    String where = "manifest " + file;
    ExportManifest m =
        Profiles.parse(
            InputFiles.readText(file, "manifest", InputFiles.MAX_CONFIG_BYTES),
            where,
            ExportManifest.class);
    if (m.config() == null) {
      throw new BadInputException(where + ": field 'config' is missing");
    }
    m.config().validate(where);
    try {
      DType.parseValues(m.valuesDtype());
    } catch (IllegalArgumentException e) {
      throw new BadInputException(where + ": field 'values_dtype': " + e.getMessage(), e);
    }
    return m;
  }

  /**
   * The recorded checkpoint as a path: a relative one is resolved against the export directory
   * {@code dir}; an absolute one (older manifests) is taken as it is. Null when not recorded.
   */
  public Path checkpointPath(Path dir) {
    if (checkpoint == null) {
      return null;
    }
    Path p = Path.of(checkpoint);
    return p.isAbsolute() ? p : dir.resolve(p).normalize();
  }
}
