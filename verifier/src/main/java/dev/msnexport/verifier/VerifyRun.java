package dev.msnexport.verifier;

import dev.msnexport.common.BadInputException;
import dev.msnexport.common.HostTensor;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.profiles.Profile;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.BackendSpec;
import dev.msnexport.verifier.backend.Backends;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.TrtBackend;
import dev.msnexport.verifier.health.MemoryHealth;
import dev.msnexport.verifier.io.GoldenFile;
import dev.msnexport.verifier.io.GoldenFileBackend;
import dev.msnexport.verifier.io.PolygraphyJson;
import dev.msnexport.verifier.quant.QuantizationStep;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a {@link VerifyRequest}: opens the export, its profile and the backends ({@link Backends}),
 * feeds them the same inputs (seeded random ones, or a golden file's), compares every pair ({@link
 * Verifier}) and adds the checkpoint's memory health and, for an int8/fp8 export, the quantization
 * check ({@link QuantizationStep}). Warnings go to {@code warn}, progress lines to the request's
 * log.
 */
public final class VerifyRun {
  private VerifyRun() {}

  public static VerifyReport run(VerifyRequest q, Consumer<String> warn) {
    ExportedModel m = ExportedModel.open(q.model());
    Profile profile = Defaults.profile(q.profile(), m, warn);
    List<String> marks = List.copyOf(new LinkedHashSet<>(q.open().markOutputs()));
    Backends.Options open =
        new Backends.Options(
            q.open().checkpoint(),
            q.open().nameMap(),
            q.open().threads(),
            q.open().trt(),
            marks,
            q.open().log());
    MarkOutputsCheck.check(m, q.backends(), marks, open.trt(), profile);
    Verifier.PairTolerances tols = tolerances(q, m, profile);
    if (q.batch() < 1) {
      throw new BadInputException("--batch must be at least 1, got " + q.batch());
    }
    GoldenFile g = q.golden() == null ? null : checkedGolden(q, m, marks, warn);
    Map<String, HostTensor> inputs =
        g != null ? g.inputs() : Inputs.random(m.config(), q.batch(), q.seed());
    requireWithinProfile(Inputs.tokens(inputs, m.config()).shape()[0], profile, q);
    try (Backends.Opened opened = Backends.open(q.backends(), m, profile, open)) {
      List<Backend> all = new ArrayList<>();
      if (g != null) {
        all.add(new GoldenFileBackend(g));
      }
      all.addAll(opened.backends());
      if (all.size() < 2) {
        throw new BadInputException(
            "--backends needs at least two backends to compare (or one and --golden), got "
                + q.backends());
      }
      Map<String, Map<String, HostTensor>> outputs = new LinkedHashMap<>();
      VerifyReport r =
          Verifier.run(
              new Verifier.Subject(
                  q.model().toString(), profile.name(), m.valuesDtype(), all, inputs, q.seed()),
              tols,
              outputs,
              marks);
      if (open.log() != null) { // which batch bucket (optimization profile) each engine ran
        for (Backend b : opened.backends()) {
          if (b instanceof TrtBackend t) {
            open.log().println(t.name() + ": " + t.lastBucket());
          }
        }
      }
      if (q.saveGolden() != null) {
        saveGolden(q, inputs, outputs, g, m.checkpointSha256());
      }
      return r.withMemoryHealth(memoryHealth(m, opened.checkpoint(), q, warn))
          .withQuantization(
              QuantizationStep.run(
                  m,
                  opened.backends(),
                  opened.checkpoint(),
                  q.open().checkpoint(),
                  q.open().nameMap(),
                  inputs));
    } catch (BackendException e) {
      throw new BadInputException(e.getMessage(), e);
    }
  }

  private static Verifier.PairTolerances tolerances(VerifyRequest q, ExportedModel m, Profile p) {
    Map<String, String> precisions = new HashMap<>();
    for (BackendSpec b : q.backends()) {
      precisions.put(b.format(), q.open().trt().toleranceKey(b, m, p));
    }
    return Verifier.PairTolerances.byLowerPrecision(
        p,
        new Verifier.Tolerances(p.tolerance(m.valuesDtype()), q.atol(), q.rtol()),
        precisions,
        m.valuesDtype());
  }

  /** The golden file, its outputs checked against the export (and warned of another checkpoint). */
  private static GoldenFile checkedGolden(
      VerifyRequest q, ExportedModel m, List<String> marks, Consumer<String> warn) {
    GoldenFile g = GoldenFile.read(q.golden());
    long goldenBatch;
    try {
      goldenBatch = Inputs.tokens(g.inputs(), m.config()).shape()[0];
    } catch (BadInputException e) {
      throw new BadInputException("golden file " + q.golden() + ": " + e.getMessage(), e);
    }
    g =
        new GoldenFile(
            g.inputs(),
            OutputSet.checkGolden(
                q.golden(),
                g,
                m.config(),
                OutputSet.of(m.config(), m.retrievalOutputs(), goldenBatch),
                marks,
                warn),
            g.producer(),
            g.modelSha256());
    if (g.modelSha256() != null
        && m.checkpointSha256() != null
        && !g.modelSha256().equals(m.checkpointSha256())) {
      warn.accept(
          q.golden()
              + " was saved for checkpoint "
              + g.modelSha256()
              + ", "
              + q.model()
              + " was exported from "
              + m.checkpointSha256());
    }
    return g;
  }

  /**
   * The same answer for every backend: a trt engine cannot take a batch above the profile's, so no
   * backend is asked (docs/robustness.md).
   */
  private static void requireWithinProfile(long inputBatch, Profile profile, VerifyRequest q) {
    if (inputBatch > profile.batch().max()) {
      throw new BadInputException(
          (q.golden() != null ? "golden file " + q.golden() + " holds batch " : "--batch ")
              + inputBatch
              + ", more than batch.max "
              + profile.batch().max()
              + " of profile '"
              + profile.name()
              + "'");
    }
  }

  /**
   * The memory health of the model's checkpoint: the one the golden backend opened, else the
   * export's (or the request's) opened for it. Null when skipped, or, with a warning, when that
   * checkpoint cannot be opened (verify itself does not need it without golden).
   */
  private static MemoryHealth.Report memoryHealth(
      ExportedModel m, Checkpoint opened, VerifyRequest q, Consumer<String> warn) {
    if (q.healthSamples() <= 0) {
      return null;
    }
    if (opened != null) {
      return MemoryHealth.computeUnlessSkipped(opened, q.healthSamples(), q.healthSeed());
    }
    try (Checkpoint c = m.openCheckpoint(q.open().checkpoint(), q.open().nameMap())) {
      return MemoryHealth.computeUnlessSkipped(c, q.healthSamples(), q.healthSeed());
    } catch (BadInputException e) {
      warn.accept("no memory health: " + e.getMessage());
      return null;
    }
  }

  /**
   * Saves the inputs and the first backend's outputs (a replayed golden file keeps its producer).
   */
  private static void saveGolden(
      VerifyRequest q,
      Map<String, HostTensor> inputs,
      Map<String, Map<String, HostTensor>> outputs,
      GoldenFile loaded,
      String checkpointSha256) {
    if (outputs.isEmpty()) {
      throw new BadInputException(
          "--save-golden " + q.saveGolden() + ": no backend ran, nothing to save");
    }
    Map.Entry<String, Map<String, HostTensor>> first = outputs.entrySet().iterator().next();
    boolean replayed = first.getKey().equals(GoldenFileBackend.NAME) && loaded != null;
    String producer = replayed ? loaded.producer() : first.getKey();
    String sha = replayed && loaded.modelSha256() != null ? loaded.modelSha256() : checkpointSha256;
    new GoldenFile(inputs, first.getValue(), producer, sha).write(q.saveGolden());
    q.open()
        .log()
        .println(
            "golden: inputs and "
                + producer
                + " outputs saved to "
                + q.saveGolden()
                + (GoldenFile.isPolygraphyJson(q.saveGolden())
                    ? " and " + PolygraphyJson.inputsPathFor(q.saveGolden())
                    : ""));
  }
}
