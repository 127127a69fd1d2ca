package dev.msnexport.trt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The native layer profiler without a GPU: reports reach it through the interface TensorRT calls
 * (virtual dispatch on the handle TensorRT would get) and sum per layer in first-report order.
 */
class LayerProfilerTest {
  @Test
  void sumsReportsPerLayerInFirstReportOrder() {
    assumeTrue(LayerProfiler.isPackaged(), "built without the JDK's jni.h");
    try (LayerProfiler p = new LayerProfiler()) {
      for (int run = 0; run < 3; run++) {
        p.report("blocks.0.msn/PKMRetrieval_1", 0.25f);
        p.report("blocks.0.ffn/MatMul_1", 1.5f);
        p.report("heads.click/Sigmoid_1", 0.125f);
      }
      List<LayerProfiler.Layer> l = p.layers();
      assertEquals(
          List.of("blocks.0.msn/PKMRetrieval_1", "blocks.0.ffn/MatMul_1", "heads.click/Sigmoid_1"),
          l.stream().map(LayerProfiler.Layer::name).toList());
      assertEquals(0.75, l.get(0).totalMs(), 1e-6);
      assertEquals(3, l.get(1).calls());
      assertEquals(1.5, l.get(1).meanMs(), 1e-6);
      assertEquals(0, p.dropped());
      p.reset();
      assertTrue(p.layers().isEmpty());
    }
  }

  @Test
  void tensorRtReceivesTheNativeObjectsAddress() {
    assumeTrue(LayerProfiler.isPackaged(), "built without the JDK's jni.h");
    try (LayerProfiler p = new LayerProfiler()) {
      assertNotEquals(0L, p.address());
      // what asTensorRt() wraps (constructing the IProfiler wrapper itself loads TensorRT)
      assertEquals(p.address(), LayerProfiler.pointerTo(p.address()).address());
    }
  }

  @Test
  void closedProfilerRefusesUse() {
    assumeTrue(LayerProfiler.isPackaged(), "built without the JDK's jni.h");
    LayerProfiler p = new LayerProfiler();
    p.close();
    p.close(); // idempotent
    assertThrows(IllegalStateException.class, p::layers);
  }
}
