package dev.msnexport.parity;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

/**
 * A parity tolerance: an element passes when {@code |a - b| <= atol + rtol * |b|}; retrieval scores
 * within {@code tie_epsilon} of the k-th score are ties (docs/model-contract.md).
 */
@JsonPropertyOrder({"atol", "rtol", "tie_epsilon"})
public record Tolerance(
    @JsonProperty(value = "atol", required = true) double atol,
    @JsonProperty(value = "rtol", required = true) double rtol,
    @JsonProperty("tie_epsilon") @JsonSetter(nulls = Nulls.AS_EMPTY) double tieEpsilon) {}
