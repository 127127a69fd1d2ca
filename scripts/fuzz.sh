#!/usr/bin/env bash
# Long coverage-guided fuzzing runs of the input parsers (docs/robustness.md).
#
#   scripts/fuzz.sh [-d DURATION] [TARGET...]
#
# Targets (module): safetensors (exporter), checkpoint-config (exporter), row-quantizer (exporter), profiles (profiles),
# onnx-inspect (cli), golden-verify (cli), golden-files (verifier). Default: every target, 10m each, one after the other, at nice 19.
#
# Each target is its module's `fuzz-TARGET` surefire execution, the one `./mvnw verify` runs in CI
# for ${fuzz.ci.duration} (25s), here with a longer time box (Jazzer's jazzer.max_duration).
# The generated corpus grows in MODULE/target/fuzz/TARGET/.cifuzz-corpus and is reused by the next
# run until `mvn clean`. A finding fails the run and leaves MODULE/target/fuzz/TARGET/crash-*:
# fix the bug, then copy the file into the target's seed corpus
# (MODULE/src/test/resources/<package>/<Class>Inputs/<method>/) so every CI run replays it.
# Logs: Maven's in target/fuzz-logs/TARGET.log, libFuzzer's in MODULE/target/fuzz-logs/TARGET.log; the executions and
# coverage per target: target/fuzz-logs/summary.txt.
# FUZZ_SKIP_BUILD=1 skips the initial install of the modules (when they are installed already).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10m
if [[ ${1:-} == -d ]]; then
  duration=$2
  shift 2
fi
declare -A module=([safetensors]=exporter [checkpoint-config]=exporter [row-quantizer]=exporter [profiles]=profiles [onnx-inspect]=cli [golden-verify]=cli
  [golden-files]=verifier)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(safetensors checkpoint-config row-quantizer profiles onnx-inspect golden-verify golden-files)
fi
modules=()
for t in "${targets[@]}"; do
  if [[ -z ${module[$t]:-} ]]; then
    echo "fuzz.sh: unknown target '$t' (known: ${!module[*]})" >&2
    exit 2
  fi
  modules+=("${module[$t]}")
done

logs=target/fuzz-logs
mkdir -p "$logs"
# The modules under test and what they need, without their tests.
[[ ${FUZZ_SKIP_BUILD:-} == 1 ]] || nice -n 19 ./mvnw -B -q install -DskipTests -Dfuzz.skip=true -pl "$(printf '%s\n' "${modules[@]}" | sort -u | paste -sd,)" -am

status=0
for t in "${targets[@]}"; do
  m=${module[$t]}
  log=$logs/$t.log
  echo "fuzz.sh: $t ($m) for $duration, log $log"
  if ! nice -n 19 ./mvnw -B -pl "$m" test-compile "surefire:test@fuzz-$t" -Dfuzz.ci.duration="$duration" >"$log" 2>&1; then
    status=1
    echo "fuzz.sh: $t FAILED: see $log and $m/target/fuzz/$t/crash-*" >&2
  fi
  fuzzlog=$m/target/fuzz-logs/$t.log # libFuzzer's own output (scripts/fuzz-jvm/bin/java)
  runs=$(grep -aE '^Done [0-9]+ runs' "$fuzzlog" | tail -1 || true)
  cov=$(grep -aE '(DONE|pulse) +cov:' "$fuzzlog" | tail -1 || true)
  printf '%s %s: %s | %s\n' "$(date -u +%FT%TZ)" "$t" "${runs:-no summary}" "${cov:-}" | tee -a "$logs/summary.txt"
done
exit $status
