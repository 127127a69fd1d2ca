package dev.msnexport.exporter.progress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A file channel that reports every byte written to a {@link Progress}. Bulk copies from another
 * file ({@code TensorView.transferTo}) write to {@link #target()} directly, in pieces of {@link
 * #PIECE} bytes, and report each piece with {@link #counted}: the kernel's file-to-file copy stays
 * in use and the bar still moves.
 */
public final class CountingChannel implements WritableByteChannel {
  /** Bulk copies report after each piece of this many bytes. */
  public static final long PIECE = 64L << 20;

  private final FileChannel target;
  private final Progress progress;

  public CountingChannel(FileChannel target, Progress progress) {
    this.target = target;
    this.progress = progress;
  }

  /** {@code ch} counted into {@code progress}, or {@code ch} itself when nothing is drawn. */
  public static WritableByteChannel of(FileChannel ch, Progress progress) {
    return progress == Progress.NONE ? ch : new CountingChannel(ch, progress);
  }

  public FileChannel target() {
    return target;
  }

  /** Reports {@code bytes} written to {@link #target()} by the caller. */
  public void counted(long bytes) {
    progress.advance(bytes);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    int n = target.write(src);
    progress.advance(n);
    return n;
  }

  @Override
  public boolean isOpen() {
    return target.isOpen();
  }

  @Override
  public void close() throws IOException {
    target.close();
  }
}
