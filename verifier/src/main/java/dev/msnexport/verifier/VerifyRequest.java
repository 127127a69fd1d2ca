package dev.msnexport.verifier;

import dev.msnexport.verifier.backend.BackendSpec;
import dev.msnexport.verifier.backend.Backends;
import dev.msnexport.verifier.health.MemoryHealth;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What verify (and pipeline's last step) runs: {@link VerifyRun#run}. Build one with {@link
 * #of(Path, List)} and the {@code with} methods; everything else has verify's defaults.
 *
 * @param model the export directory
 * @param backends the backends, in order (the first is the reference of a report's summary)
 * @param batch the batch of the random inputs (ignored with {@code golden})
 * @param seed the seed of the random inputs
 * @param profile {@code --profile}: a built-in name or a file; null: {@link Defaults#profileName}
 * @param open how to open the backends (checkpoint, name map, threads, TensorRT, marked outputs)
 * @param atol absolute tolerance overrides by output ("" for all)
 * @param rtol relative tolerance overrides by output ("" for all)
 * @param golden a golden file whose inputs replace the random ones and whose outputs are the first
 *     backend; or null
 * @param saveGolden where to save the inputs and the first backend's outputs; or null
 * @param healthSamples random inputs of the checkpoint's memory health (0: skipped)
 * @param healthSeed their seed
 */
public record VerifyRequest(
    Path model,
    List<BackendSpec> backends,
    int batch,
    long seed,
    String profile,
    Backends.Options open,
    Map<String, Double> atol,
    Map<String, Double> rtol,
    Path golden,
    Path saveGolden,
    int healthSamples,
    long healthSeed) {
  public VerifyRequest {
    backends = List.copyOf(backends);
    atol = Map.copyOf(atol);
    rtol = Map.copyOf(rtol);
  }

  /** Verify's defaults for these backends of this export. */
  public static VerifyRequest of(Path model, List<BackendSpec> backends) {
    return new VerifyRequest(
        model,
        backends,
        Defaults.VERIFY_BATCH,
        0,
        null,
        Backends.Options.defaults(System.out),
        Map.of(),
        Map.of(),
        null,
        null,
        MemoryHealth.DEFAULT_SAMPLES,
        MemoryHealth.DEFAULT_SEED);
  }

  public VerifyRequest withInputs(int batch, long seed) {
    return with(
        c -> {
          c.batch = batch;
          c.seed = seed;
        });
  }

  public VerifyRequest withProfile(String profile) {
    return with(c -> c.profile = profile);
  }

  public VerifyRequest withOpen(Backends.Options open) {
    return with(c -> c.open = open);
  }

  public VerifyRequest withTolerances(Map<String, Double> atol, Map<String, Double> rtol) {
    return with(
        c -> {
          c.atol = atol;
          c.rtol = rtol;
        });
  }

  public VerifyRequest withGolden(Path golden, Path saveGolden) {
    return with(
        c -> {
          c.golden = golden;
          c.saveGolden = saveGolden;
        });
  }

  public VerifyRequest withHealth(int samples, long seed) {
    return with(
        c -> {
          c.healthSamples = samples;
          c.healthSeed = seed;
        });
  }

  /** This request with {@code change} applied to a copy of its fields. */
  private VerifyRequest with(Consumer<Fields> change) {
    Fields c = new Fields(this);
    change.accept(c);
    return new VerifyRequest(
        model,
        backends,
        c.batch,
        c.seed,
        c.profile,
        c.open,
        c.atol,
        c.rtol,
        c.golden,
        c.saveGolden,
        c.healthSamples,
        c.healthSeed);
  }

  /** The fields a {@code with} method may change. */
  private static final class Fields {
    int batch;
    long seed;
    String profile;
    Backends.Options open;
    Map<String, Double> atol;
    Map<String, Double> rtol;
    Path golden;
    Path saveGolden;
    int healthSamples;
    long healthSeed;

    Fields(VerifyRequest r) {
      batch = r.batch;
      seed = r.seed;
      profile = r.profile;
      open = r.open;
      atol = r.atol;
      rtol = r.rtol;
      golden = r.golden;
      saveGolden = r.saveGolden;
      healthSamples = r.healthSamples;
      healthSeed = r.healthSeed;
    }
  }
}
