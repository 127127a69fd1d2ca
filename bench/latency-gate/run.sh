#!/usr/bin/env bash
# Measures how often the latency gates of `msn-export bench` fail at known slowdowns, on this
# machine (CPU only; docs/robustness.md, "The latency gate, measured"). Build first: ./mvnw -B -q package -DskipTests
#   bash bench/latency-gate/run.sh ROUNDS [RAW_DIR]
#   bash bench/latency-gate/run.sh --statistics RAW_DIR   (replays RAW_DIR through other summaries than the median)
# Java system properties go in GATE_OPTS, e.g. GATE_OPTS="-Dweights=3,1,1,2 -Dbatch=64 -DmaxMinutes=55".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cli=$here/../../msn-export
jar=$here/../../cli/target/msn-export.jar
[[ -f $jar ]] || { echo "run.sh: build first (./mvnw -B -q package -DskipTests): no $jar" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/latency-gate.XXXXXX")
trap 'rm -rf "$work"' EXIT
# the jar's manifest puts its lib/ on the class path
javac -d "$work/classes" -cp "$jar" "$here/GateRates.java" "$here/CompareStatistics.java"
if [[ ${1:-} == --statistics ]]; then
  java -cp "$work/classes:$jar" CompareStatistics "$2"
  exit
fi
"$cli" init --profile tiny --out "$work/checkpoint" > /dev/null
"$cli" export --checkpoint "$work/checkpoint" --out "$work/model" > /dev/null
# shellcheck disable=SC2086
java ${GATE_OPTS:-} -cp "$work/classes:$jar" GateRates "$work/model" "$@"
