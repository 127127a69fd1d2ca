package dev.msnexport.exporter.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressTest {
  @TempDir Path tmp;

  private static Progress bar(PrintStream out, long total, long[] now) {
    return new Progress(out, "t", total, () -> now[0]);
  }

  @Test
  void theBarShowsBytesDoneOfTotalAndTheRate() {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    long[] now = {0};
    try (Progress p =
        bar(new PrintStream(sink, true, StandardCharsets.UTF_8), 4_000_000_000L, now)) {
      now[0] = 2_000_000_000L; // 2 s
      p.advance(1_000_000_000L);
    }
    String out = sink.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("1.0/4.0 GB  25% 500 MB/s"), out);
    assertTrue(out.contains("[########......................]"), out);
    assertTrue(out.endsWith(System.lineSeparator()), out);
  }

  @Test
  void quietOrNotATerminalDrawsNothingAndCountsNothing() throws Exception {
    assertTrue(Progress.onStderr("x", 10, true) == Progress.NONE);
    // surefire's standard error is a pipe or a file, never a terminal
    assertTrue(Progress.onStderr("x", 10, false) == Progress.NONE);
    try (FileChannel ch =
        FileChannel.open(tmp.resolve("f"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      assertTrue(CountingChannel.of(ch, Progress.NONE) == ch);
    }
  }

  @Test
  void aCountingChannelReportsEveryByteItWrites() throws Exception {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    long[] now = {0};
    Path f = tmp.resolve("g");
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        Progress p = bar(new PrintStream(sink, true, StandardCharsets.UTF_8), 3000, now)) {
      CountingChannel c = new CountingChannel(ch, p);
      c.write(ByteBuffer.allocate(1000));
      c.write(ByteBuffer.allocate(2000));
      assertEquals(3000, Files.size(f));
    }
    assertTrue(sink.toString(StandardCharsets.UTF_8).contains("0.0/0.0 GB 100%"), sink.toString());
  }
}
