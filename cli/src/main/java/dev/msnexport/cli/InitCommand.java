package dev.msnexport.cli;

import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.exporter.checkpoint.SyntheticCheckpoint;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    description =
        "Write a deterministic synthetic checkpoint (config.json + model.safetensors) for a profile.")
final class InitCommand implements Callable<Integer> {
  @Option(
      names = "--profile",
      required = true,
      description = "Built-in profile name or profile file.")
  String profile;

  @Option(names = "--out", required = true, description = "Checkpoint directory to write.")
  Path out;

  @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    new OutputAliasing()
        .profile("--profile", profile)
        .outputDir("--out", out, Checkpoint.CONFIG_FILE, Checkpoint.WEIGHTS_FILE)
        .check(spec.commandLine());
    Profile p = Profiles.load(profile);
    long t0 = System.nanoTime();
    SyntheticCheckpoint.write(p.model(), out, seed);
    System.out.printf(
        "wrote %s checkpoint to %s (seed %d) in %.1f s%n",
        p.name(), out, seed, (System.nanoTime() - t0) / 1e9);
    return ExitCodes.OK;
  }
}
