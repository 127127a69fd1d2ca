package dev.msnexport.verifier.backend;

import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.names.NameMap;
import dev.msnexport.exporter.safetensors.DType;
import dev.msnexport.profiles.Profile;
import dev.msnexport.trt.Precision;
import dev.msnexport.verifier.ExportedModel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one registry of backends: opens a {@link BackendSpec} for an export and a profile. Verify,
 * bench and pipeline open every backend through it.
 */
public final class Backends {
  private Backends() {}

  /**
   * How to open backends.
   *
   * @param checkpoint the golden backend's checkpoint (null: the export's)
   * @param nameMap maps that checkpoint's tensor names to the contract's (null: they are already)
   * @param threads ONNX Runtime's intra-op threads (0: its default)
   * @param trt how TensorRT specs build or load their engine
   * @param markOutputs intermediate tensors the ONNX Runtime and TensorRT backends also output
   * @param log TensorRT's build progress lines
   */
  public record Options(
      Path checkpoint,
      NameMap nameMap,
      int threads,
      TrtSettings trt,
      List<String> markOutputs,
      PrintStream log) {
    public Options {
      trt = trt == null ? TrtSettings.DEFAULTS : trt;
      markOutputs = markOutputs == null ? List.of() : List.copyOf(markOutputs);
    }

    /** The export's checkpoint with its own names, the runtimes' defaults, no marked outputs. */
    public static Options defaults(PrintStream log) {
      return new Options(null, null, 0, TrtSettings.DEFAULTS, List.of(), log);
    }
  }

  /** Opened backends; closing closes every backend, then the golden model's checkpoint. */
  public record Opened(List<Backend> backends, Checkpoint checkpoint) implements AutoCloseable {
    @Override
    public void close() {
      for (Backend b : backends) {
        b.close();
      }
      if (checkpoint != null) {
        checkpoint.close();
      }
    }
  }

  /**
   * Opens the specs in order, each named by its {@link BackendSpec#format}; on failure closes what
   * it opened. Failures to open (no GPU, no TensorRT, a stale engine) are {@link BackendException}s
   * or bad input.
   */
  public static Opened open(List<BackendSpec> specs, ExportedModel m, Profile p, Options o) {
    List<Backend> opened = new ArrayList<>();
    Checkpoint ckpt = null;
    try {
      for (BackendSpec spec : specs) {
        if (spec.runtime() == BackendSpec.Runtime.GOLDEN) {
          if (ckpt == null) {
            ckpt = m.openCheckpoint(o.checkpoint(), o.nameMap());
          }
          opened.add(
              new GoldenBackend(ckpt, m.retrievalOutputs(), DType.parseValues(m.valuesDtype())));
        } else {
          opened.add(open(spec, m, p, o));
        }
      }
      return new Opened(opened, ckpt);
    } catch (RuntimeException e) {
      new Opened(opened, ckpt).close();
      throw e;
    }
  }

  /**
   * Opens one ONNX Runtime or TensorRT spec (golden needs a checkpoint its caller owns: {@link
   * #open(List, ExportedModel, Profile, Options)}).
   */
  public static Backend open(BackendSpec spec, ExportedModel m, Profile p, Options o) {
    String name = spec.format();
    return switch (spec.runtime()) {
      case GOLDEN ->
          throw new IllegalArgumentException("golden is opened with its checkpoint: open a list");
      case ORT -> {
        boolean custom = spec.graph() == BackendSpec.Graph.CUSTOM;
        yield new OrtBackend(
            name, custom ? m.custom() : m.reference(), custom, o.threads(), o.markOutputs());
      }
      case TRT -> {
        TrtSettings.Resolved r = o.trt().resolve(spec, p);
        yield TrtBackend.open(
            name,
            m,
            p,
            new TrtBackend.Options(
                r.engine(),
                Precision.valueOf(r.precision().name()),
                r.graph().label(),
                o.trt().timingCache(),
                o.markOutputs()),
            o.log());
      }
    };
  }
}
