package dev.msnexport.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.exporter.onnx.OnnxTensors;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.Inputs;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A value table past the shard limit (TensorRT's int32 weight count; here a few rows, so that tiny
 * and small split) becomes row shards in the custom graph: one SparseGather per shard, the shards
 * views of the one table, and the graph still matches the golden model and the reference graph at
 * the fp32 tolerances, embedded or external, float or quantized, shared or per-token memory.
 */
class TableShardsTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0} S={5} {1} limit {2} external {3} per-token {4}: {6} shards")
  @CsvSource({
    "tiny, fp32, 400, NEVER, false, 8, 4",
    "tiny, fp32, 400, ALWAYS, false, 8, 4",
    "tiny, fp16, 700, ALWAYS, false, 8, 2",
    "tiny, int8, 400, ALWAYS, false, 8, 4",
    "tiny, fp8, 400, NEVER, false, 8, 4",
    "tiny, fp32, 1500, ALWAYS, true, 8, 4",
    // 36 rows in shards of 8: the last one holds 4
    "tiny, int8, 200, ALWAYS, false, 6, 5",
    "tiny, fp16, 200, NEVER, false, 6, 5",
    "small, fp16, 100000, ALWAYS, false, 64, 4",
    "small, int8, 100000, NEVER, false, 64, 4"
  })
  void shardedTablesMatchTheGoldenModel(
      String profile,
      String dtype,
      long limit,
      String external,
      boolean perToken,
      int subKeys,
      int shards)
      throws java.io.IOException {
    Profile p = Profiles.load(profile);
    ModelConfig config = ExportedGraphs.variant(p.model(), subKeys, perToken);
    DType as = DType.parseValues(dtype);
    Path ck = tmp.resolve("ck");
    Path out = tmp.resolve("out");
    // an fp16 export of fp16 tables is exact, so the golden model reads the checkpoint as it is
    boolean quantized = as == DType.I8 || as == DType.F8_E4M3;
    SyntheticCheckpoint.write(
        config,
        ck,
        5,
        DType.F32,
        quantized ? DType.F32 : as,
        dev.msnexport.exporter.progress.Progress.NONE);
    try (Checkpoint c = Checkpoint.open(ck)) {
      MsnOnnxExporter.export(
          c,
          out,
          new MsnOnnxExporter.Options(
              as,
              MsnOnnxExporter.ExternalData.valueOf(external),
              true,
              profile,
              MsnOnnxExporter.DEFAULT_SCORING_SPLIT_K,
              false,
              limit));
      ModelProto custom = OnnxTensors.read(out.resolve(MsnOnnxExporter.CUSTOM_FILE));
      int layers = config.msnLayers().size();
      long gathers = ExportedGraphs.count(out.resolve(MsnOnnxExporter.CUSTOM_FILE), "SparseGather");
      assertEquals((long) layers * shards, gathers, "SparseGather nodes");
      List<TensorProto> views =
          custom.getGraph().getInitializerList().stream()
              .filter(t -> t.getName().matches("blocks\\.\\d+\\.msn\\.values\\.shard\\d+"))
              .toList();
      assertEquals(layers * shards, views.size(), "value shards");
      long rows = views.stream().mapToLong(t -> t.getDims(0)).sum();
      assertEquals(layers * config.valueRows(), rows, "rows in all");
      views.forEach(t -> assertTrue(t.getDims(1) * t.getDims(0) <= limit, t.getName()));
      assertTrue(
          custom.getGraph().getInitializerList().stream()
              .noneMatch(t -> t.getName().matches("blocks\\.\\d+\\.msn\\.values")),
          "the whole table is not in the custom graph");

      Map<String, HostTensor> in = Inputs.random(config, 5, 2);
      List<Backend> backends = ExportedGraphs.goldenAndOrt(c, quantized ? as : DType.F32, out);
      try {
        VerifyReport r = ExportedGraphs.atFp32(out, p, as, backends, in);
        assertTrue(r.pass(), () -> Profiles.toJson(r));
      } finally {
        backends.forEach(Backend::close);
      }
    }
  }
}
