package dev.msnexport.exporter.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import dev.msnexport.exporter.ExportManifest;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.ops.OpTable;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Path;
import java.util.Map;

/**
 * What an export records about itself: each graph's model header and {@code msn.*} metadata
 * properties, and the manifest beside the graphs ({@link ExportManifest}).
 */
final class ExportMetadata {
  private final Checkpoint ckpt;
  private final MsnOnnxExporter.Options opts;
  private String sha;

  ExportMetadata(Checkpoint ckpt, MsnOnnxExporter.Options opts) {
    this.ckpt = ckpt;
    this.opts = opts;
  }

  /** {@code graph} as the custom or the reference model, with its opsets and metadata. */
  ModelProto model(GraphProto graph, boolean custom) {
    ModelProto.Builder m =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("msn-export")
            .setProducerVersion(MsnOnnxExporter.toolVersion())
            .setDomain("dev.msnexport")
            .setDocString(
                "MSN model, "
                    + (custom ? "custom-op" : "reference (standard ops)")
                    + " graph; see docs/model-contract.md")
            .addOpsetImport(
                OperatorSetIdProto.newBuilder().setDomain("").setVersion(MsnOnnxExporter.OPSET))
            .setGraph(graph);
    if (custom) {
      m.addOpsetImport(
          OperatorSetIdProto.newBuilder()
              .setDomain(MsnOnnxExporter.DOMAIN)
              .setVersion(OpTable.standard().opsetVersion()));
    }
    meta(m, "msn.graph", custom ? "custom" : "reference");
    meta(m, "msn.config", Profiles.toJson(ckpt.config()));
    meta(m, "msn.checkpoint_sha256", checkpointSha());
    meta(m, "msn.tool_version", MsnOnnxExporter.toolVersion());
    meta(m, "msn.values_dtype", opts.valuesDtype().cliName());
    meta(m, "msn.retrieval_outputs", Boolean.toString(opts.retrievalOutputs()));
    meta(m, "msn.scoring_split_k", Integer.toString(opts.scoringSplitK()));
    meta(
        m,
        "msn." + MsnOnnxExporter.FUSED_MSN_LAYER,
        Boolean.toString(custom && opts.fuseMsnLayer()));
    if (opts.profile() != null) {
      meta(m, "msn.profile", opts.profile());
    }
    return m.build();
  }

  private static void meta(ModelProto.Builder m, String k, String v) {
    m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v));
  }

  /**
   * The manifest's JSON for an export to {@code outDir} (its tensors in model.data if external).
   */
  String manifest(boolean external, Path outDir) {
    return new ExportManifest(
            ExportManifest.TOOL,
            MsnOnnxExporter.toolVersion(),
            opts.profile(),
            checkpointPath(ckpt.dir(), outDir),
            checkpointSha(),
            ckpt.config(),
            opts.valuesDtype().cliName(),
            external ? MsnOnnxExporter.DATA_FILE : null,
            opts.retrievalOutputs(),
            opts.scoringSplitK(),
            opts.fuseMsnLayer(),
            Map.of(
                "custom", MsnOnnxExporter.CUSTOM_FILE, "reference", MsnOnnxExporter.REFERENCE_FILE))
        .toJson();
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

  private String checkpointSha() {
    if (sha == null) {
      sha = ckpt.sha256();
    }
    return sha;
  }
}
