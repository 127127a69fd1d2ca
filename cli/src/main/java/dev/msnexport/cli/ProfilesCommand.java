package dev.msnexport.cli;

import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(
    name = "profiles",
    mixinStandardHelpOptions = true,
    description =
        "List the built-in deployment profiles, or print one (a name or a profile file) as JSON.")
final class ProfilesCommand implements Callable<Integer> {
  @Parameters(arity = "0..1", paramLabel = "PROFILE", description = "Print this profile in full.")
  String profile;

  @Override
  public Integer call() {
    if (profile != null) {
      System.out.println(Profiles.toJson(Profiles.load(profile)));
      return ExitCodes.OK;
    }
    System.out.printf(
        "%-7s %5s %5s %3s %6s %4s %12s %14s  %s%n",
        "name", "T", "D", "L", "S", "k", "slots/layer", "batch min/opt/max", "description");
    for (String name : Profiles.BUILT_IN) {
      Profile p = Profiles.load(name);
      ModelConfig m = p.model();
      System.out.printf(
          "%-7s %5d %5d %3d %6d %4d %12d %14s  %s%n",
          name,
          m.T(),
          m.D(),
          m.L(),
          m.S(),
          m.k(),
          m.slots(),
          p.batch().min() + "/" + p.batch().opt() + "/" + p.batch().max(),
          p.description());
    }
    return ExitCodes.OK;
  }
}
