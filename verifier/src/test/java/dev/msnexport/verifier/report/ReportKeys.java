package dev.msnexport.verifier.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The JSON reports' keys in the order they are written, pinned in {@code report-keys.properties}
 * (beside this class): the tests compare what the writers produce with it.
 */
public final class ReportKeys {
  private static final Properties PINNED = load();

  private ReportKeys() {}

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = ReportKeys.class.getResourceAsStream("report-keys.properties")) {
      if (in == null) {
        throw new IllegalStateException("report-keys.properties is missing from the test tree");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }

  /** The pinned keys of one object kind, e.g. {@code bench.settings}, then {@code extra}. */
  public static List<String> pinned(String kind, String... extra) {
    String line = PINNED.getProperty(kind);
    if (line == null) {
      throw new IllegalArgumentException("no pinned keys for '" + kind + "'");
    }
    List<String> keys = new ArrayList<>(Arrays.asList(line.trim().split("\\s+")));
    keys.addAll(Arrays.asList(extra));
    return keys;
  }

  /** The keys of a JSON object, in the order written. */
  public static List<String> of(JsonNode n) {
    List<String> k = new ArrayList<>();
    n.fieldNames().forEachRemaining(k::add);
    return k;
  }
}
