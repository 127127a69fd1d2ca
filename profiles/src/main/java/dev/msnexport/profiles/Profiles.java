package dev.msnexport.profiles;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.msnexport.common.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** Finds profiles by built-in name or file path and reads model configs; one strict JSON mapper. */
public final class Profiles {
  /** Built-in profiles, shipped as resources {@code profiles/<name>.json}. */
  public static final List<String> BUILT_IN = List.of("tiny", "small", "paper", "large", "xl");

  /** Strict: unknown fields are errors (a typo in a profile must not pass silently). */
  public static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .build();

  private Profiles() {}

  /** The first built-in profile whose model config is exactly {@code model}, if any. */
  public static java.util.Optional<String> builtInFor(ModelConfig model) {
    return BUILT_IN.stream().filter(n -> load(n).model().equals(model)).findFirst();
  }

  /** A built-in profile name, or a path to a profile JSON file. */
  public static Profile load(String nameOrPath) {
    if (nameOrPath == null || nameOrPath.isBlank()) {
      throw new BadInputException(
          "no profile given (built-in: " + String.join(", ", BUILT_IN) + ")");
    }
    Path path = Path.of(nameOrPath);
    if (Files.isRegularFile(path) || (Files.exists(path) && !BUILT_IN.contains(nameOrPath))) {
      return read(path); // a FIFO or a directory is refused there, naming it
    }
    if (BUILT_IN.contains(nameOrPath)) {
      String resource = "/profiles/" + nameOrPath + ".json";
      try (InputStream in = Profiles.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException(
              "built-in profile resource " + resource + " is missing from the jar");
        }
        return parse(
                new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
                "built-in profile '" + nameOrPath + "'",
                Profile.class)
            .validate("built-in profile '" + nameOrPath + "'");
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    throw new BadInputException(
        "unknown profile '"
            + nameOrPath
            + "': not a built-in profile ("
            + String.join(", ", BUILT_IN)
            + ") and no such file");
  }

  public static Profile read(Path file) {
    return parse(readText(file, "profile"), "profile file " + file, Profile.class)
        .validate("profile file " + file);
  }

  /** Reads and validates a checkpoint's {@code config.json}. */
  public static ModelConfig readModelConfig(Path file) {
    return parse(readText(file, "config"), "config file " + file, ModelConfig.class)
        .validate("config file " + file);
  }

  public static ModelConfig parseModelConfig(String json, String where) {
    return parse(json, where, ModelConfig.class).validate(where);
  }

  public static String toJson(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String readText(Path file, String what) {
    return dev.msnexport.common.InputFiles.readText(
        file, what + " file", dev.msnexport.common.InputFiles.MAX_CONFIG_BYTES);
  }

  /** Parses JSON into {@code type}, turning Jackson's errors into messages that name the field. */
  public static <T> T parse(String json, String where, Class<T> type) {
    try {
      T value = JSON.readValue(json, type);
      if (value == null) {
        throw new BadInputException(where + ": empty JSON document");
      }
      return value;
    } catch (JsonMappingException e) {
      String field =
          e.getPath().stream()
              .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
              .collect(Collectors.joining("."));
      String msg = e.getOriginalMessage();
      int cut = msg.indexOf(" (class ");
      if (cut > 0) {
        msg = msg.substring(0, cut);
      }
      throw new BadInputException(
          where
              + (field.isEmpty() ? "" : ": field '" + field + "'")
              + ": "
              + msg.replace('\n', ' '),
          e);
    } catch (JacksonException e) {
      throw new BadInputException(
          where + ": malformed JSON: " + e.getOriginalMessage().replace('\n', ' '), e);
    }
  }
}
