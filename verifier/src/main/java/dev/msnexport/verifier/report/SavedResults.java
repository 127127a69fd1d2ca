package dev.msnexport.verifier.report;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.msnexport.common.BadInputException;
import dev.msnexport.common.InputFiles;
import dev.msnexport.profiles.Profiles;
import dev.msnexport.verifier.VerifyReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Reads saved results (a bench or verify report.json) back, for {@code compare}. */
public final class SavedResults {
  private SavedResults() {}

  /**
   * Reports may hold NaN (a cosine of non-finite outputs): read them leniently, never write with
   * this.
   */
  private static final ObjectMapper LENIENT =
      Profiles.JSON.copy().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS.mappedFeature());

  /** The {@code schema} of a saved report.json. */
  public static String schemaOf(Path p) {
    JsonNode n = readTree(p);
    JsonNode s = n.get("schema");
    if (s == null || !s.isTextual()) {
      throw new BadInputException(p + ": field 'schema' is missing: not an msn-export report.json");
    }
    return s.asText();
  }

  private static JsonNode readTree(Path p) {
    try {
      JsonNode n = LENIENT.readTree(readResult(p));
      if (n == null || !n.isObject()) {
        throw new BadInputException(p + ": not a JSON object");
      }
      return n;
    } catch (JacksonException e) {
      throw new BadInputException(
          p + ": malformed JSON: " + e.getOriginalMessage().replace('\n', ' '), e);
    } catch (IOException e) {
      throw new BadInputException(p + " cannot be read: " + e.getMessage(), e);
    }
  }

  private static String readResult(Path p) {
    return InputFiles.readText(p, "result file", InputFiles.MAX_DATA_BYTES);
  }

  /** verify/1 reports lack the keys /2 added: read those as zeros there, and only there. */
  private static final ObjectMapper LENIENT_V1 =
      LENIENT.copy().disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /**
   * A verify report of schema {@code schema}, its comparisons checked (bad input names the file and
   * the field).
   */
  public static VerifyReport readVerify(Path p, String schema) {
    VerifyReport r =
        read(p, VerifyReport.class, schema.equals("msn-export.verify/1") ? LENIENT_V1 : LENIENT);
    String where = p + ": field ";
    if (r.comparisons() == null) {
      throw new BadInputException(
          where + "'comparisons' is missing or null: not a complete verify report");
    }
    for (int i = 0; i < r.comparisons().size(); i++) {
      VerifyReport.Comparison c = r.comparisons().get(i);
      String at = "'comparisons[" + i + "]";
      if (c == null) {
        throw new BadInputException(where + at + "' is null");
      }
      for (String[] f :
          new String[][] {{"candidate", c.candidate()}, {"reference", c.reference()}}) {
        if (f[1] == null) {
          throw new BadInputException(where + at + "." + f[0] + "' is missing or null");
        }
      }
      requireElements(where + at + ".outputs", c.outputs());
      requireElements(where + at + ".retrieval", c.retrieval());
      for (int j = 0; j < c.outputs().size(); j++) {
        if (c.outputs().get(j).name() == null) {
          throw new BadInputException(where + at + ".outputs[" + j + "].name' is missing or null");
        }
      }
    }
    return r;
  }

  /** A list field that is present and holds no null. */
  private static void requireElements(String field, List<?> list) {
    if (list == null) {
      throw new BadInputException(field + "' is missing or null");
    }
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i) == null) {
        throw new BadInputException(field + "[" + i + "]' is null");
      }
    }
  }

  private static <T> T read(Path p, Class<T> type, ObjectMapper mapper) {
    try {
      return mapper.readValue(readResult(p), type);
    } catch (JacksonException e) {
      throw new BadInputException(p + ": " + e.getOriginalMessage().replace('\n', ' '), e);
    } catch (IOException e) {
      throw new BadInputException(p + " cannot be read: " + e.getMessage(), e);
    }
  }
}
