package dev.msnexport.verifier;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.ExportManifest;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.ModelConfig;
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

  /** Reads the export directory's manifest ({@link ExportManifest#read}). */
  public static ExportedModel open(Path dir) {
    ExportManifest m = ExportManifest.read(dir);
    return new ExportedModel(
        dir,
        m.config(),
        m.profile(),
        m.valuesDtype(),
        m.checkpointPath(dir),
        m.checkpointSha256(),
        m.hasRetrievalOutputs());
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
