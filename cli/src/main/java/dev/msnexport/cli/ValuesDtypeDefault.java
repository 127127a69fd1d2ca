package dev.msnexport.cli;

import dev.msnexport.exporter.checkpoint.Checkpoint;
import dev.msnexport.profiles.ModelConfig;
import dev.msnexport.profiles.Profile;
import dev.msnexport.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The value-table storage type an export uses when {@code --values-dtype} is not given: the
 * profile's {@code values_dtype} (profiles/README.md), so that {@code init} and {@code export} of a
 * profile such as {@code xl} keep its fp16 tables without options.
 */
final class ValuesDtypeDefault {
  private ValuesDtypeDefault() {}

  static Choices.ValuesDtype of(Profile p) {
    return Choices.ValuesDtype.valueOf(p.defaultValuesDtype());
  }

  /**
   * The default of {@code --profile} when given, else of the built-in profile whose model is the
   * checkpoint's config, else fp32.
   */
  static Choices.ValuesDtype of(String profile, Path checkpoint) {
    if (profile != null) {
      return of(Profiles.load(profile));
    }
    Path config = checkpoint.resolve(Checkpoint.CONFIG_FILE);
    if (!Files.isRegularFile(config)) {
      return Choices.ValuesDtype.fp32; // the checkpoint's own checks report what is missing
    }
    ModelConfig c = Profiles.readModelConfig(config);
    return Profiles.builtInFor(c).map(n -> of(Profiles.load(n))).orElse(Choices.ValuesDtype.fp32);
  }
}
