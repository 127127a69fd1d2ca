package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.NativeLibraryExtractor;
import dev.msnexport.common.Sha256;
import dev.msnexport.ops.OpTable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.IPluginRegistry;

/**
 * Our TensorRT plugin library ({@code PKMRetrieval}, {@code SparseGather}; version "1", namespace
 * ""), packaged in the trt-plugins jar at {@value #RESOURCE}. {@link #locate()} finds it (or the
 * file named by {@code -Dmsn.trt.plugins=PATH} / {@code MSN_TRT_PLUGINS}) and its SHA-256 without
 * needing TensorRT, so plan sidecars can be checked anywhere; {@link #load()} extracts it to a
 * private temporary directory and registers it with TensorRT's process-wide plugin registry, once
 * per process.
 */
public final class PluginLibrary {
  public static final String RESOURCE = "native/linux-x86_64/libmsn_trt_plugins.so";
  public static final String FILE_NAME = "libmsn_trt_plugins.so";

  /** The plugin names (= ONNX op types), version and namespace, from the op table. */
  public static final List<String> PLUGINS = OpTable.standard().names();

  public static final String PLUGIN_VERSION = OpTable.standard().pluginVersion();
  public static final String PLUGIN_NAMESPACE = OpTable.standard().pluginNamespace();

  /** Where the library comes from and its SHA-256 (of the bytes TensorRT loads). */
  public record Located(String source, String sha256) {}

  private static final Lazy<Located> LOCATED = new Lazy<>(PluginLibrary::doLocate);
  private static volatile Path loadedPath;

  // Kept for the life of the process: the registry owns the creators, unloading is never needed.
  @SuppressWarnings("unused")
  private static IPluginRegistry.PluginLibraryHandle handle;

  private PluginLibrary() {}

  /** The library's origin and SHA-256; fails with a clear message if the jar lacks it. */
  public static Located locate() {
    return LOCATED.get();
  }

  private static Located doLocate() {
    Path override = overridePath();
    if (override != null) {
      if (!Files.isRegularFile(override)) {
        throw new BadInputException(
            "plugin library "
                + override
                + " (from -Dmsn.trt.plugins / MSN_TRT_PLUGINS) does not exist");
      }
      return new Located(override.toAbsolutePath().toString(), Sha256.of(override));
    }
    try (InputStream in = resource()) {
      if (in == null) {
        throw new BadInputException(
            "the plugin library "
                + RESOURCE
                + " is not on the class path: this build of msn-export skipped "
                + "the CUDA plugin library (no nvcc, or -Dmsn.cuda.skip=true); build with nvcc (CUDA 12 or 13) on PATH or named by CUDACXX, "
                + "or name a built library with -Dmsn.trt.plugins=PATH / MSN_TRT_PLUGINS; engines of the reference graph "
                + "(--graph reference, trt:reference) need no plugin library");
      }
      return new Located("classpath:" + RESOURCE, Sha256.of(in));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  /** True when a plugin library can be found (say, to skip GPU tests of the custom graph). */
  public static boolean isPackaged() {
    Path override = overridePath();
    if (override != null) {
      return Files.isRegularFile(override);
    }
    try (InputStream in = resource()) {
      return in != null;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Registers the library with TensorRT (once per process) and checks that both plugins are there.
   * Returns the SHA-256 of what was loaded.
   */
  public static synchronized Located load() {
    TensorRt.require();
    Located l = locate();
    if (loadedPath != null) {
      return l;
    }
    Path file = materialize(l);
    TrtLogger.get(); // TensorRT logs plugin registration through the same logger
    IPluginRegistry registry = nvinfer.getPluginRegistry();
    IPluginRegistry.PluginLibraryHandle h = registry.loadLibrary(file.toString());
    if (h == null || h.isNull()) {
      throw new TrtException(
          "TensorRT could not load the plugin library "
              + file
              + " ("
              + l.source()
              + ")"
              + TrtLogger.get().describeErrors());
    }
    for (String name : PLUGINS) {
      var creator = registry.getCreator(name, PLUGIN_VERSION, PLUGIN_NAMESPACE);
      if (creator == null || creator.isNull()) {
        throw new TrtException(
            "the plugin library "
                + l.source()
                + " has no plugin '"
                + name
                + "' version "
                + PLUGIN_VERSION
                + " in namespace \""
                + PLUGIN_NAMESPACE
                + "\"");
      }
    }
    handle = h;
    loadedPath = file;
    return l;
  }

  /**
   * The file TensorRT loads: the override itself, or the jar resource extracted to a private
   * temporary directory ({@link NativeLibraryExtractor}), refused unless its SHA-256 is the one
   * {@link #locate()} recorded (the sidecars name that one).
   */
  private static Path materialize(Located l) {
    Path override = overridePath();
    if (override != null) {
      return override.toAbsolutePath();
    }
    try (InputStream in = resource()) {
      return NativeLibraryExtractor.extract(in, FILE_NAME, l.sha256());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + RESOURCE + " to a temporary file", e);
    }
  }

  private static InputStream resource() {
    return PluginLibrary.class.getClassLoader().getResourceAsStream(RESOURCE);
  }

  private static Path overridePath() {
    String p = System.getProperty("msn.trt.plugins");
    if (p == null || p.isBlank()) {
      p = System.getenv("MSN_TRT_PLUGINS");
    }
    return p == null || p.isBlank() ? null : Path.of(p);
  }
}
