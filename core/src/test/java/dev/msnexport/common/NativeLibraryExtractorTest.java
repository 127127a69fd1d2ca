package dev.msnexport.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryExtractorTest {
  @TempDir Path tmp;

  static byte[] library(int seed) {
    byte[] b = new byte[300_000]; // more than one copy buffer
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  static List<Path> entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  @Test
  void extractsTheBytesUnderTheGivenNameInAPrivateDirectory() throws IOException {
    byte[] lib = library(1);
    Path file =
        NativeLibraryExtractor.extract(
            new ByteArrayInputStream(lib), "libx.so", Sha256.of(lib), tmp);
    assertEquals("libx.so", file.getFileName().toString());
    assertArrayEquals(lib, Files.readAllBytes(file));
    assertEquals(
        List.of(file), entries(file.getParent()), "only the library: no partial file left");
    assertEquals(tmp, file.getParent().getParent());
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      assertEquals(
          "rwx------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    }
  }

  @Test
  void withoutAnExpectedHashAnyBytesAreAccepted() throws IOException {
    Path file =
        NativeLibraryExtractor.extract(
            new ByteArrayInputStream(new byte[] {1, 2, 3}), "liby.so", null, tmp);
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(file));
  }

  @Test
  void eachExtractionHasItsOwnDirectory() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Path>> futures = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        int seed = i;
        futures.add(
            pool.submit(
                () ->
                    NativeLibraryExtractor.extract(
                        new ByteArrayInputStream(library(seed)), "libz.so", null, tmp)));
      }
      Set<Path> dirs = new HashSet<>();
      for (int i = 0; i < futures.size(); i++) {
        Path file = futures.get(i).get();
        assertTrue(dirs.add(file.getParent()), "directory shared: " + file);
        assertArrayEquals(
            library(i), Files.readAllBytes(file), "extraction " + i + " was overwritten");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aWrongHashLeavesNothingBehind() throws IOException {
    byte[] lib = library(2);
    String other = Sha256.of(library(3));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                NativeLibraryExtractor.extract(
                    new ByteArrayInputStream(lib), "libw.so", other, tmp));
    assertTrue(
        e.getMessage().contains("libw.so has SHA-256 " + Sha256.of(lib) + ", expected " + other),
        e.getMessage());
    assertEquals(List.of(), entries(tmp));
  }

  @Test
  void aFailedReadLeavesNothingBehind() throws IOException {
    InputStream broken =
        new InputStream() {
          int n;

          @Override
          public int read() throws IOException {
            if (n++ > 1000) {
              throw new IOException("disk gone");
            }
            return 7;
          }
        };
    IOException e =
        assertThrows(
            IOException.class, () -> NativeLibraryExtractor.extract(broken, "libv.so", null, tmp));
    assertEquals("disk gone", e.getMessage());
    assertEquals(List.of(), entries(tmp));
  }

  @Test
  void theNameMustBeAPlainFileName() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            NativeLibraryExtractor.extract(
                new ByteArrayInputStream(new byte[0]), "../libu.so", null, tmp));
  }

  @Test
  void theDefaultDirectoryIsTheJvmsTemporaryDirectory() throws IOException {
    Path file =
        NativeLibraryExtractor.extract(new ByteArrayInputStream(new byte[] {9}), "libt.so", null);
    try {
      assertEquals(
          Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize(),
          file.getParent().getParent().toAbsolutePath().normalize());
      assertNotEquals(-1, file.getParent().getFileName().toString().indexOf("msn-native-"));
    } finally {
      Files.delete(file);
      Files.delete(file.getParent());
    }
  }
}
