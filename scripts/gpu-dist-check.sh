#!/usr/bin/env bash
# Maintainers' GPU check of a -Pgpu distribution, run the way a user with only an NVIDIA driver
# and a JDK 17 would run it (CONTRIBUTING.md, "GPU checks"). On the GPU machine, after the parts
# of `scripts/gpu-dist-split.sh split` were copied into $INBOX, one call each:
#
#   bash scripts/gpu-dist-check.sh receive PART...   copy parts into $INBOX (/tmp/msn-inbox)
#   bash scripts/gpu-dist-check.sh check [STEP...]   join, unpack, run the steps (default: all, in this order)
#
# Steps, most important first (each writes its log to $OUT as it goes):
#   dist     bin/msn-export of the unpacked distribution, nothing else set: --help through a symlink,
#            init + export + build + verify --backends ort-reference,trt on small
#   python   examples/python/run_custom_ops.py: onnxruntime Python + the distribution's
#            native/libmsn_ort_ops.so on small's custom-op graph vs the reference graph (1e-5)
#   junit    EngineGpuTest (or $JUNIT_METHODS) with the jars of $FINAL/jars first on the class path
#            (code newer than the distribution's) and the distribution's lib/ and lib/native after
#   bench    msn-export bench of small (trt, trt:reference; floors, --layer-profile) with the same jars
#   fp16     verify small golden,ort-reference,trt:fp16 (per-pair tolerances) with the same jars
#
# $FINAL (default .gpu-carry/final) holds the split's MANIFEST, SHA256SUMS, zstd-bin/ and
# gpu-dist-split.sh, the JDK as jre.tar.zst, jars/ and python/ (examples/python's scripts).
set -uo pipefail
INBOX=${MSN_INBOX:-/tmp/msn-inbox}
FINAL=${MSN_FINAL:-$PWD/.gpu-carry/final}
WORK=${MSN_GPU_WORK:-/tmp/msn-dist-check}
OUT=${OUT:-$PWD/gpu-dist-out}

if [[ ${1:-} == receive ]]; then
  shift
  mkdir -p "$INBOX" && cp "$@" "$INBOX"/ && echo "received $# part(s); $(ls "$INBOX" | wc -l) in $INBOX"
  exit
fi
[[ ${1:-} == check ]] || { sed -n '2,20p' "$0"; exit 2; }
shift
steps=("$@")
((${#steps[@]})) || steps=(dist python junit bench fp16)
# later steps need small's export: make it here when the dist step is not run
if [[ " ${steps[*]} " != *" dist "* ]]; then NEED_EXPORT=1; fi
mkdir -p "$OUT" "$WORK"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
failed=0
note() { echo "$*" | tee -a "$SUMMARY"; }
run() { # NAME LOG CMD...
  local name=$1 log=$2 t0=$SECONDS; shift 2
  echo "=== $name: $*" >>"$log"
  if "$@" >>"$log" 2>&1; then note "PASS  $name ($((SECONDS - t0)) s)"; return 0; fi
  note "FAIL  $name ($((SECONDS - t0)) s; see $(basename "$log"))"; failed=$((failed + 1)); return 1
}

note "gpu-dist-check $(date -u +%FT%TZ): $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null)"
cp "$FINAL"/MANIFEST "$FINAL"/SHA256SUMS "$INBOX"/ && cp -r "$FINAL"/zstd-bin "$INBOX"/ || { note "FAIL  no split metadata in $FINAL"; exit 1; }
run "join the distribution's parts (SHA-256 of every part and of the tar checked)" "$OUT/setup.log" \
  bash "$FINAL/gpu-dist-split.sh" join "$INBOX" "$WORK" || exit 1
name=$(sed -n 's/^name=//p' "$INBOX/MANIFEST")
rm -rf "${WORK:?}/$name" && tar -xf "$WORK/$name.tar" -C "$WORK" && rm -f "$WORK/$name.tar" "$INBOX"/part-*
DIST=$WORK/$name
mkdir -p "$WORK/jdk" && LD_LIBRARY_PATH="$INBOX/zstd-bin" "$INBOX/zstd-bin/zstd" -d -q -c "$FINAL/jre.tar.zst" | tar -x -C "$WORK/jdk"
JAVA_HOME=$(ls -d "$WORK"/jdk/*/ | head -1)
export JAVA_HOME PATH=$JAVA_HOME/bin:$PATH
note "java: $(java -version 2>&1 | head -1); distribution $name unpacked ($(du -sh "$DIST" | cut -f1))"
MSN=$DIST/bin/msn-export
S=$WORK/small
# the newer project jars first, then the distribution's: what `bin/msn-export` sets up, by hand
CP=$( (ls "$FINAL"/jars/*.jar; ls "$DIST"/lib/*.jar) | tr '\n' ':')
newer() { env LD_LIBRARY_PATH="$DIST/lib/native" java -Dorg.bytedeco.javacpp.pathsFirst=true -cp "$CP" "$@"; }

step_dist() {
  local log=$OUT/dist.log
  ln -sf "$MSN" "$WORK/msn-export-link"
  run "dist: msn-export --help through a symlink" "$log" "$WORK/msn-export-link" --help
  run "dist: init small" "$log" "$MSN" init --profile small --out "$S/ck"
  run "dist: export small" "$log" "$MSN" export --checkpoint "$S/ck" --out "$S/model" --profile small
  run "dist: build small (fp32 plugin engine)" "$log" "$MSN" build --model "$S/model" --profile small
  run "dist: verify small --backends ort-reference,trt" "$log" "$MSN" verify --model "$S/model" --backends ort-reference,trt --batch 64
  grep -E '^verify |^  (trt|ort)|^    (click|finish|retrieval)' "$log" | awk '!seen[$0]++' | head -24 >>"$SUMMARY"
}

step_python() {
  local log=$OUT/python.log
  run "python: onnxruntime $(python3 -c 'import onnxruntime; print(onnxruntime.__version__)' 2>/dev/null) + libmsn_ort_ops.so vs reference graph" \
    "$log" python3 -B "$FINAL/python/run_custom_ops.py" --model "$S/model" --library "$DIST/native/libmsn_ort_ops.so" --batch 16 --atol 1e-5
  tail -12 "$log" >>"$SUMMARY"
}

step_junit() {
  local log=$OUT/junit.log sel=()
  for m in ${JUNIT_METHODS:-layerProfilerReceivesEveryLayerOfEveryRun preparedRunsReplayACudaGraphWithDeviceTime}; do
    sel+=(--select-method "dev.msnexport.trt.EngineGpuTest#$m")
  done
  run "junit: EngineGpuTest ${JUNIT_METHODS:-(layer profiler, CUDA graph replay)}" "$log" newer org.junit.platform.console.ConsoleLauncher \
    execute --class-path "$CP" "${sel[@]}" --details=tree --disable-banner --disable-ansi-colors --fail-if-no-tests
  grep -E 'profiled layers|tests (successful|failed|skipped|aborted)|✘|Exception' "$log" | head -12 >>"$SUMMARY"
  # a test that never started (an assumption aborted the class) is no pass
  if ! grep -qE '^\[ +[1-9][0-9]* tests successful' "$log" || ! grep -qE '^\[ +0 tests failed' "$log"; then
    note "FAIL  junit: no test ran to success"; failed=$((failed + 1))
  fi
}

step_bench() {
  local log=$OUT/bench.log
  run "bench: small trt,trt:reference at 1,64,512 with floors and --layer-profile" "$log" newer dev.msnexport.cli.MsnExport bench \
    --model "$S/model" --backends trt,trt:reference --batch 1,64,512 --iterations 300 --warmup-ms 200 --max-p99-ratio 0 \
    --layer-profile --layer-profile-runs 10 --report-dir "$OUT/bench-small"
  grep -E '^  (trt|ceilings)|^floor|^  backend|^layer profile|^ +[0-9.]+ ms' "$log" | head -60 >>"$SUMMARY"
}

step_fp16() {
  local log=$OUT/fp16.log
  run "fp16: verify small golden,ort-reference,trt:fp16" "$log" newer dev.msnexport.cli.MsnExport verify --model "$S/model" \
    --backends golden,ort-reference,trt:fp16 --batch 64
  grep -E '^verify |^  (trt|ort)|tolerances|^    (click|finish)' "$log" | awk '!seen[$0]++' | head -20 >>"$SUMMARY"
}

if [[ -n ${NEED_EXPORT:-} ]]; then
  run "init + export small" "$OUT/setup.log" bash -c "'$MSN' init --profile small --out '$S/ck' && '$MSN' export --checkpoint '$S/ck' --out '$S/model' --profile small"
fi
for s in "${steps[@]}"; do "step_$s"; done
note "gpu-dist-check: $failed failed step(s)"
echo "----- summary -----"; cat "$SUMMARY"
exit "$failed"
