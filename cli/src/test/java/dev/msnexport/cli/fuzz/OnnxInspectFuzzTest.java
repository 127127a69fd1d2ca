package dev.msnexport.cli.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.msnexport.cli.OnnxDescription;
import dev.msnexport.common.BadInputException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing of the ONNX model loader behind {@code msn-export inspect}
 * (docs/robustness.md): the bytes go through {@link OnnxDescription#describe}, the protobuf parse
 * and the whole summary that {@code inspect model.onnx} prints. The only allowed failure is a
 * {@link BadInputException} naming the model.
 */
class OnnxInspectFuzzTest {
  private static final String WHERE = "fuzz-input.onnx";

  @FuzzTest
  @DictionaryEntries({
    "msn",
    "PKMRetrieval",
    "SparseGather",
    "location",
    "length",
    "offset",
    "model.data",
    "ai.onnx"
  })
  void describeOnnx(byte[] data) {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(sink, false, StandardCharsets.UTF_8);
    try {
      OnnxDescription.describe(data, WHERE, out);
    } catch (BadInputException e) {
      assertTrue(e.getMessage().contains(WHERE), "the message names the model: " + e.getMessage());
      return;
    }
    out.flush();
    assertTrue(sink.toString(StandardCharsets.UTF_8).startsWith("onnx " + WHERE + ": ir_version"));
  }
}
