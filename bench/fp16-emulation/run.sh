#!/usr/bin/env bash
# Build and run the fp16 rounding emulation (CPU only) against the built CLI and its libraries
# (build first: ./mvnw -B -q package -DskipTests).
#   bash bench/fp16-emulation/run.sh small [BATCH] [SEED]
#   bash bench/fp16-emulation/run.sh paper 16 0
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
jar=$root/cli/target/msn-export.jar
[[ -f $jar ]] || { echo "run.sh: $jar is missing; build first: ./mvnw -B -q package -DskipTests" >&2; exit 2; }
CP=$jar:$(ls "$root"/cli/target/lib/*.jar | tr '\n' ':')
build=$(mktemp -d "${TMPDIR:-/tmp}/fp16-emulation.XXXXXX")
trap 'rm -rf "$build"' EXIT
javac -d "$build" -cp "$CP" "$here"/*.java
java -Xmx${HEAP:-12g} -cp "$build:$CP" Fp16Emulation "$@"
