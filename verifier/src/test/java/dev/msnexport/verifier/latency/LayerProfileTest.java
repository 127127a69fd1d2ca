package dev.msnexport.verifier.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LayerProfileTest {
  private static final LayerProfile P =
      LayerProfile.of(
          "trt",
          64,
          20,
          List.of(
              new LayerProfile.Layer("mix/LayerNorm", 0.5, 20),
              new LayerProfile.Layer("msn/PKMRetrieval", 2.0, 20),
              new LayerProfile.Layer("ffn/MatMul", 1.5, 20),
              new LayerProfile.Layer("heads/Sigmoid", 1.0, 20)));

  @Test
  void sharesAndOrder() {
    assertEquals(5.0, P.total_ms(), 1e-12);
    assertEquals(
        List.of("msn/PKMRetrieval", "ffn/MatMul", "heads/Sigmoid", "mix/LayerNorm"),
        P.byTime().stream().map(LayerProfile.Layer::name).toList());
    assertEquals(0.4, P.share(P.byTime().get(0)), 1e-12);
  }

  @Test
  void tableShowsTheLongestLayersWithRunningShareAndSumsTheRest() {
    List<String> t = P.table(2);
    assertTrue(
        t.get(0).contains("trt batch 64 (20 runs") && t.get(0).contains("4 layers, 5.0000 ms"),
        t.get(0));
    assertEquals("     2.0000 ms   40.0%   40.0%  msn/PKMRetrieval", t.get(1));
    assertEquals("     1.5000 ms   30.0%   70.0%  ffn/MatMul", t.get(2));
    assertTrue(
        t.get(3).contains("1.5000 ms   30.0%") && t.get(3).contains("(2 more layers)"), t.get(3));
    assertEquals(4, t.size());
  }
}
