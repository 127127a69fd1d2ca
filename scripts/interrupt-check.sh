#!/usr/bin/env bash
# Interrupts msn-export with SIGINT or SIGTERM at random moments and checks what is left behind.
#
# Each of RUNS rounds (default 20) signals three commands, each at a random moment of its run
# (uniform over the time the same command took uninterrupted) with SIGINT or SIGTERM at random:
#   1. init --profile large (2 GiB of weights) over the checkpoint of an earlier round,
#   2. export of a second checkpoint over an existing export (--out holds an earlier export),
#   3. verify --mark-outputs ... on that export (writes a marked copy of the graph beside it).
# After each round: no temporary file (*.tmp) and no lock file is left anywhere under the work
# directory, and the export loads and verifies (`verify` exit 0): the earlier export, or the new
# one when the signal came after its commit, never a mix.
#
# Usage: scripts/interrupt-check.sh [RUNS]     (build first: ./mvnw -B package -DskipTests)
# The work directory is under /tmp (MSN_INTERRUPT_DIR to choose another) and is deleted at the end.
set -uo pipefail
set -m # job control: each command in its own process group

runs=${1:-20}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cli=$here/msn-export
work=$(mktemp -d "${MSN_INTERRUPT_DIR:-/tmp}/msn-interrupt.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" # a JVM crash report (hs_err_pid*.log) lands here, not in the caller's directory
log=$work/log
mark=blocks.0.msn/LayerNormalization_1:0,blocks.0.ffn/MatMul_1:0

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# seconds (with fractions) since the epoch
now() { date +%s.%N; }

# run_timed NAME CMD...: runs a command to completion, prints its duration
run_timed() {
  local t0 t1
  t0=$(now)
  "$@" >>"$log" 2>&1 || fail "uninterrupted run failed: $* (log $log)"
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

# interrupt MAX_SECONDS CMD...: starts CMD, sends SIGINT or SIGTERM after a random delay in
# [0.1, MAX_SECONDS], waits; prints "SIGNAL DELAY EXIT" (EXIT 0: it finished before the signal)
interrupt() {
  local max=$1
  shift
  local sig delay pid rc
  sig=$([[ $((RANDOM % 2)) == 0 ]] && echo INT || echo TERM)
  delay=$(awk -v m="$max" -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.1 + (m - 0.1) * r / 32767 }')
  # as from a terminal: SIGINT and SIGTERM at their defaults (a script started in the background, as
  # CI does, inherits SIGINT ignored, and a JVM keeps an ignored SIGINT ignored)
  env --default-signal=INT,TERM "$@" >"$work/command.log" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -s "$sig" "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  cat "$work/command.log" >>"$log"
  case $rc in
    0 | 130 | 143) ;; # finished, or ended by SIGINT / SIGTERM
    *) { echo "unexpected exit $rc of: $*; its last lines:"; tail -n 15 "$work/command.log"; } >&2 ;;
  esac
  echo "SIG$sig ${delay}s exit=$rc"
}

leftovers() {
  find "$work" \( -name '*.tmp' -o -name '.msn-export.lock' \) -print
}

echo "work directory $work"
"$cli" init --profile small --out "$work/ck0" --seed 0 >>"$log" 2>&1 || fail "init small (log $log)"
"$cli" init --profile small --out "$work/ck1" --seed 1 >>"$log" 2>&1 || fail "init small (log $log)"
"$cli" export --checkpoint "$work/ck0" --out "$work/model" --profile small >>"$log" 2>&1 || fail "first export (log $log)"
t_init=$(run_timed "$cli" init --profile large --out "$work/large")
t_export=$(run_timed "$cli" export --checkpoint "$work/ck1" --out "$work/model2" --profile small)
t_verify=$(run_timed "$cli" verify --model "$work/model" --mark-outputs "$mark" --report "$work/report.json")
echo "uninterrupted: init large ${t_init}s, export small ${t_export}s, verify --mark-outputs ${t_verify}s"

interrupted=0
for ((i = 1; i <= runs; i++)); do
  next=$((i % 2)) # alternate the checkpoint exported over the export of the other one
  a=$(interrupt "$t_init" "$cli" init --profile large --out "$work/large" --seed "$i")
  b=$(interrupt "$t_export" "$cli" export --checkpoint "$work/ck$next" --out "$work/model" --profile small)
  c=$(interrupt "$t_verify" "$cli" verify --model "$work/model" --mark-outputs "$mark" --report "$work/report.json")
  for r in "$a" "$b" "$c"; do
    [[ $r == *exit=0 ]] || interrupted=$((interrupted + 1))
  done
  left=$(leftovers)
  [[ -z $left ]] || fail "round $i left: $left"
  "$cli" verify --model "$work/model" >>"$log" 2>&1 || fail "round $i: the export no longer verifies (log $log)"
  echo "round $i: init [$a] export [$b] verify [$c]; no temp or lock file left; verify of the export: exit 0"
done
echo "PASS: $runs rounds, $interrupted of $((3 * runs)) commands interrupted before they finished, nothing left behind"
