package dev.msnexport.verifier.latency;

import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.onnx.MsnOnnxExporter;
import dev.msnexport.profiles.Profile;
import dev.msnexport.trt.EngineBuilder;
import dev.msnexport.trt.Precision;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.TrtBackend;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Engine plans that {@code bench --engine PLAN} times beside (or instead of) its backends, built
 * earlier by {@code build} (any precision, graph or builder setting): each loaded through its
 * sidecar, checked against the graph of the export that holds the plan (a plan inside another
 * export directory is checked against that export's graph, so engines of two exports can be timed
 * side by side), else against {@code --model}'s. Each is named by its file name, or {@code
 * folder/file} when two plans share a file name.
 */
public final class PlanEngines implements AutoCloseable {
  private final List<Backend> backends;

  private PlanEngines(List<Backend> backends) {
    this.backends = backends;
  }

  /** The opened engines, in the order given. */
  public List<Backend> backends() {
    return backends;
  }

  /**
   * Loads every plan (none: an empty set); on failure closes what it opened.
   *
   * @param model the export of {@code --model}
   */
  public static PlanEngines open(
      ExportedModel model, Profile profile, List<Path> plans, PrintStream log) {
    List<Backend> opened = new ArrayList<>();
    List<String> names = labels(plans);
    try {
      for (int i = 0; i < plans.size(); i++) {
        Path plan = plans.get(i);
        if (!Files.isRegularFile(plan)) {
          throw new BadInputException("--engine " + plan + ": no such plan file");
        }
        Path dir = exportDirOf(plan, model.dir());
        ExportedModel export = dir.equals(model.dir()) ? model : ExportedModel.open(dir);
        opened.add(
            TrtBackend.open(
                names.get(i),
                export,
                profile,
                new TrtBackend.Options(plan, Precision.FP32, EngineBuilder.CUSTOM, null),
                log));
      }
      return new PlanEngines(List.copyOf(opened));
    } catch (RuntimeException e) {
      new PlanEngines(opened).close();
      throw e;
    }
  }

  /** The export directory a plan is checked against: its own folder when that is an export. */
  static Path exportDirOf(Path plan, Path modelDir) {
    Path parent = plan.toAbsolutePath().getParent();
    return parent != null && Files.isRegularFile(parent.resolve(MsnOnnxExporter.MANIFEST_FILE))
        ? parent
        : modelDir;
  }

  /**
   * Backend names of the plans: file names, or {@code folder/file} for all when two share a file
   * name; a plan given twice is a usage error.
   */
  public static List<String> labels(List<Path> plans) {
    Set<Path> seen = new HashSet<>();
    Set<String> files = new HashSet<>();
    boolean clash = false;
    for (Path p : plans) {
      if (!seen.add(p.toAbsolutePath().normalize())) {
        throw new IllegalArgumentException("--engine " + p + " is given twice");
      }
      clash |= !files.add(p.getFileName().toString());
    }
    List<String> out = new ArrayList<>();
    for (Path p : plans) {
      Path parent = p.toAbsolutePath().getParent();
      out.add(
          clash && parent != null && parent.getFileName() != null
              ? parent.getFileName() + "/" + p.getFileName()
              : p.getFileName().toString());
    }
    return out;
  }

  @Override
  public void close() {
    for (int i = backends.size() - 1; i >= 0; i--) {
      backends.get(i).close();
    }
  }
}
