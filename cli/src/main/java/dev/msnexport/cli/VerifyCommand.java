package dev.msnexport.cli;

import dev.msnexport.common.AtomicFiles;
import dev.msnexport.common.BadInputException;
import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.ExportedModel;
import dev.msnexport.verifier.Verifier;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.backend.Backend;
import dev.msnexport.verifier.backend.BackendException;
import dev.msnexport.verifier.backend.GoldenBackend;
import dev.msnexport.verifier.backend.Inputs;
import dev.msnexport.verifier.backend.OrtBackend;
import dev.msnexport.verifier.parity.OutputComparison;
import dev.msnexport.verifier.parity.RetrievalComparison;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Run backends on the same seeded inputs and compare every output and the retrieved slots. Exit 0 when all "
        + "comparisons pass, 1 otherwise.")
final class VerifyCommand implements Callable<Integer> {
  static final String DEFAULT_BACKENDS = "golden,ort-reference,ort-custom";

  @Option(names = "--model", required = true, description = "Export directory (the --out of 'export').")
  Path model;

  @Option(names = "--backends", defaultValue = DEFAULT_BACKENDS, split = ",",
      description = "Backends, the first is the reference: golden, ort-reference, ort-custom (default: ${DEFAULT-VALUE}).")
  List<String> backends;

  @Option(names = "--batch", defaultValue = "8", description = "Batch size of the random inputs (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--profile", description = "Profile for tolerances (default: the one recorded at export, else tiny's defaults).")
  String profile;

  @Option(names = "--checkpoint", description = "Checkpoint for the golden backend (default: the one recorded at export).")
  Path checkpoint;

  @Option(names = "--atol", split = ",", paramLabel = "[OUTPUT:]VALUE", description = "Absolute tolerance, for all outputs or one.")
  List<String> atol = new ArrayList<>();

  @Option(names = "--rtol", split = ",", paramLabel = "[OUTPUT:]VALUE", description = "Relative tolerance, for all outputs or one.")
  List<String> rtol = new ArrayList<>();

  @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads (0: its default).")
  int threads;

  @Option(names = "--report", description = "Write the JSON report (schema msn-export.verify/1) here.")
  Path report;

  @Override
  public Integer call() {
    VerifyReport r = run(model, backends, batch, seed, profile, checkpoint, atol, rtol, threads);
    if (report != null) {
      AtomicFiles.writeString(report, Profiles.toJson(r) + "\n");
    }
    printSummary(r);
    return r.pass() ? ExitCodes.OK : ExitCodes.PARITY_FAILURE;
  }

  static VerifyReport run(Path modelDir, List<String> backendNames, int batch, long seed, String profileArg, Path checkpointArg,
      List<String> atol, List<String> rtol, int threads) {
    ExportedModel m = ExportedModel.open(modelDir);
    String profileName = profileArg != null ? profileArg : m.profile() != null ? m.profile() : "tiny";
    Profile profile = Profiles.load(profileName);
    Profile.Tolerance tol = profile.tolerance(m.valuesDtype());
    Verifier.Tolerances tols = new Verifier.Tolerances(tol, parseTolerances("--atol", atol), parseTolerances("--rtol", rtol));
    if (batch < 1) {
      throw new BadInputException("--batch must be at least 1, got " + batch);
    }
    List<Backend> opened = new ArrayList<>();
    Checkpoint ckpt = null;
    try {
      for (String name : backendNames) {
        switch (name.trim()) {
          case GoldenBackend.NAME -> {
            ckpt = m.openCheckpoint(checkpointArg);
            opened.add(new GoldenBackend(ckpt));
          }
          case OrtBackend.REFERENCE -> opened.add(new OrtBackend(OrtBackend.REFERENCE, m.reference(), false, threads));
          case OrtBackend.CUSTOM -> opened.add(new OrtBackend(OrtBackend.CUSTOM, m.custom(), true, threads));
          default -> throw new BadInputException("--backends: unknown backend '" + name + "' (known: " + DEFAULT_BACKENDS + ")");
        }
      }
      if (opened.size() < 2) {
        throw new BadInputException("--backends needs at least two backends to compare, got " + backendNames);
      }
      return Verifier.run(modelDir.toString(), profile.name(), m.valuesDtype(), opened, Inputs.random(m.config(), batch, seed), seed, tols);
    } catch (BackendException e) {
      throw new BadInputException(e.getMessage(), e);
    } finally {
      for (Backend b : opened) {
        b.close();
      }
      if (ckpt != null) {
        ckpt.close();
      }
    }
  }

  /** "1e-4" applies to every output (key ""), "click:1e-4" to one. */
  static Map<String, Double> parseTolerances(String option, List<String> specs) {
    Map<String, Double> m = new HashMap<>();
    for (String s : specs) {
      int colon = s.lastIndexOf(':');
      String key = colon < 0 ? "" : s.substring(0, colon);
      try {
        double v = Double.parseDouble(s.substring(colon + 1));
        if (!(v >= 0) || Double.isInfinite(v)) {
          throw new NumberFormatException();
        }
        m.put(key, v);
      } catch (NumberFormatException e) {
        throw new BadInputException(option + ": '" + s + "' is not [OUTPUT:]VALUE with a non-negative number");
      }
    }
    return m;
  }

  static void printSummary(VerifyReport r) {
    System.out.printf(Locale.ROOT, "verify %s (profile %s, values %s, batch %d, seed %d): %s%n", r.model(), r.profile(), r.values_dtype(),
        r.batch(), r.seed(), r.pass() ? "PASS" : "FAIL");
    for (VerifyReport.BackendRun b : r.backends()) {
      if (!b.status().equals("ok")) {
        System.out.printf(Locale.ROOT, "  %-14s %s: %s%n", b.name(), b.status().toUpperCase(Locale.ROOT), b.error());
      }
    }
    for (VerifyReport.Comparison c : r.comparisons()) {
      System.out.printf(Locale.ROOT, "  %-14s vs %-14s %s%n", c.candidate(), c.reference(), c.pass() ? "pass" : "FAIL");
      for (OutputComparison o : c.outputs()) {
        System.out.printf(Locale.ROOT, "    %-22s max_abs %.2e  max_rel %.2e  cosine %.9f  %s%n", o.name(), o.max_abs(), o.max_rel(),
            o.cosine(), o.pass() ? "ok" : "FAIL (" + o.failing_elements() + " elements; min atol to pass " + o.min_atol_to_pass() + ")");
      }
      for (RetrievalComparison rc : c.retrieval()) {
        System.out.printf(Locale.ROOT, "    retrieval layer %d       %d/%d queries identical, %d tie, %d mismatched  %s%n", rc.layer(),
            rc.identical_queries(), rc.queries(), rc.tie_queries(), rc.mismatched_queries(),
            rc.pass() ? "ok" : "FAIL: " + rc.first_mismatch());
      }
    }
  }
}
