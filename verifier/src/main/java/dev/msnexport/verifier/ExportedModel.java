package dev.msnexport.verifier;

import com.fasterxml.jackson.databind.JsonNode;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An export directory as {@code msn-export export} leaves it: both graphs and {@code manifest.json}
 * (config, checkpoint path and SHA-256, values dtype, profile).
 */
public record ExportedModel(
    Path dir,
    ModelConfig config,
    String profile,
    String valuesDtype,
    Path checkpoint,
    String checkpointSha256,
    boolean retrievalOutputs) {

  public Path custom() {
    return dir.resolve(MsnOnnxExporter.CUSTOM_FILE);
  }

  public Path reference() {
    return dir.resolve(MsnOnnxExporter.REFERENCE_FILE);
  }

  public static ExportedModel open(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new BadInputException(
          "model directory " + dir + " does not exist (expected the --out of 'msn-export export')");
    }
    Path manifest = dir.resolve(MsnOnnxExporter.MANIFEST_FILE);
    if (!Files.exists(manifest)) {
      throw new BadInputException(
          "model directory "
              + dir
              + " has no "
              + MsnOnnxExporter.MANIFEST_FILE
              + ": not an export directory");
    }
    JsonNode root;
    try {
      root =
          Profiles.JSON.readTree(
              InputFiles.readText(manifest, "manifest", InputFiles.MAX_CONFIG_BYTES));
    } catch (IOException e) {
      throw new BadInputException(
          "manifest " + manifest + " is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject() || !root.has("config")) {
      throw new BadInputException("manifest " + manifest + ": field 'config' is missing");
    }
    ModelConfig config =
        Profiles.parseModelConfig(root.get("config").toString(), "manifest " + manifest);
    String ckpt = text(root, "checkpoint");
    String valuesDtype = root.path("values_dtype").asText("fp32");
    try {
      dev.msnexport.exporter.safetensors.DType.parseValues(valuesDtype);
    } catch (IllegalArgumentException e) {
      throw new BadInputException(
          "manifest "
              + manifest
              + ": field 'values_dtype' is '"
              + valuesDtype
              + "', expected fp32, fp16, bf16, int8 or fp8");
    }
    return new ExportedModel(
        dir,
        config,
        text(root, "profile"),
        valuesDtype,
        ckpt == null ? null : checkpointPath(dir, ckpt),
        text(root, "checkpoint_sha256"),
        root.path("retrieval_outputs").asBoolean(false));
  }

  /**
   * The manifest's checkpoint: a relative path (written since manifests record it so) is resolved
   * against the export directory; an absolute one (older manifests) is taken as it is.
   */
  static Path checkpointPath(Path dir, String recorded) {
    Path p = Path.of(recorded);
    return p.isAbsolute() ? p : dir.resolve(p).normalize();
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  /**
   * Opens the checkpoint the model was exported from (or {@code override}), its tensor names mapped
   * by {@code names} (null: the contract's already), and checks its SHA-256.
   */
  public Checkpoint openCheckpoint(Path override, NameMap names) {
    Path p = override != null ? override : checkpoint;
    if (p == null) {
      throw new BadInputException(
          "the manifest of " + dir + " names no checkpoint: pass --checkpoint");
    }
    Checkpoint c = Checkpoint.open(p, names);
    if (checkpointSha256 != null) {
      String sha = c.sha256();
      if (!sha.equals(checkpointSha256)) {
        c.close();
        throw new BadInputException(
            "checkpoint "
                + p
                + " has SHA-256 "
                + sha
                + " but "
                + dir
                + " was exported from "
                + checkpointSha256);
      }
    }
    return c;
  }
}
