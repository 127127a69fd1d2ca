#!/usr/bin/env bash
# Runs the JMH benchmarks (benchmarks/ module). Arguments go to JMH, e.g.
#   bench/jmh.sh MsnLayerBenchmark -p n=1024 -rf json -rff out/jmh.json
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q package -DskipTests -pl benchmarks -am
cp="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"
exec java -cp "$cp" org.openjdk.jmh.Main "$@"
