package dev.msnexport.verifier;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The keys a saved result (verify's and bench's report.json) starts with, in this order. The
 * records that implement it give no order of their own: their other keys follow in the order of
 * their components (Jackson writes a record's creator properties in that order).
 */
@JsonPropertyOrder({"schema", "tool_version", "model", "profile", "values_dtype"})
public interface ResultHeader {
  String schema();

  String tool_version();

  String model();

  String profile();

  String values_dtype();
}
