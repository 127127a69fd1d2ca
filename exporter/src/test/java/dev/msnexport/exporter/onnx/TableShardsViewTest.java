package dev.msnexport.exporter.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.msnexport.exporter.safetensors.DType;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Row shards of a value table: how many rows a shard holds, and that a shard is the right byte
 * range of the one table, external or embedded.
 */
class TableShardsViewTest {
  @Test
  void rowsPerShardIsTheLargestPowerOfTwoThatFits() {
    // xl: 4,194,304 x 768 = 3.2 G elements; 2^31 - 1 / 768 = 2,796,202 rows fit, so 2^21
    assertEquals(2_097_152, TableShards.rowsPerShard(4_194_304, 768, TableShards.MAX_ELEMENTS));
    // a table that fits stays whole, whatever its row count
    assertEquals(65_536, TableShards.rowsPerShard(65_536, 768, TableShards.MAX_ELEMENTS));
    assertEquals(36, TableShards.rowsPerShard(36, 16, 576));
    assertEquals(32, TableShards.rowsPerShard(36, 16, 575));
    // a single row past the limit cannot be sharded by rows
    assertThrows(IllegalArgumentException.class, () -> TableShards.rowsPerShard(4, 100, 99));
  }

  @Test
  void anExternalShardPointsAtItsRowsOfTheSameFile() {
    TensorProto t =
        table("blocks.0.msn.values", DType.F16, 1000, 8)
            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(entry("location", "model.data"))
            .addExternalData(entry("offset", "640"))
            .addExternalData(entry("length", "16000"))
            .build();
    TensorProto v = TableShards.view(t, "blocks.0.msn.values.shard1", 512, 488);
    assertEquals("blocks.0.msn.values.shard1", v.getName());
    assertEquals(488, v.getDims(0));
    assertEquals(8, v.getDims(1));
    Map<String, String> ext =
        v.getExternalDataList().stream()
            .collect(
                Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
    assertEquals(Map.of("location", "model.data", "offset", "8832", "length", "7808"), ext);
  }

  @Test
  void anEmbeddedShardIsASliceOfTheBytes() {
    byte[] bytes = new byte[6 * 4];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) i;
    }
    TensorProto t = table("v", DType.I8, 6, 4).setRawData(ByteString.copyFrom(bytes)).build();
    TensorProto v = TableShards.view(t, "v.shard1", 4, 2);
    assertEquals(2, v.getDims(0));
    assertEquals(ByteString.copyFrom(bytes, 16, 8), v.getRawData());
    assertThrows(IllegalArgumentException.class, () -> TableShards.view(t, "x", 5, 2));
    assertThrows(IllegalArgumentException.class, () -> TableShards.view(t, "x", 0, 0));
  }

  private static TensorProto.Builder table(String name, DType dtype, long rows, long cols) {
    return TensorProto.newBuilder()
        .setName(name)
        .setDataType(dtype.onnxCode())
        .addDims(rows)
        .addDims(cols);
  }

  private static StringStringEntryProto entry(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }
}
