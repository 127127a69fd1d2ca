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
#   trt      scripts/gpu-check.sh $GPU_CHECK_STEPS (default "tests verify") on the distribution's
#            lib/ with the jars of $FINAL/jars first (JUnit GPU tests, CLI build/verify of tiny and small)
#   kernels  scripts/gpu-kernels.sh $KERNEL_ARGS: the CUDA kernels built here by CMake/nvcc, checked
#            against CPU references and timed (needs nvcc and CMake on the GPU machine)
#   layers   the layer profile end to end: EngineGpuTest's profiler test, FusedLayerGpuTest, and
#            bench --layer-profile of paper's fp32 plugin engine at batch 1 and 512
#   tactics  paper's plugin engines built with one optimization profile tuned at each of $OPT_BATCHES
#            (default "1 64 512"; `build --opt-batches N`) in $TACTIC_PRECISIONS (default "fp16 fp32"), plus an int8-table
#            export's fp16 engine, timed side by side by bench (CUDA graph replay) at 1,64,512,2048,
#            with the layer profile: how much TensorRT's kernel choice at opt matters per batch
#   buckets  paper's plugin engine built with `--opt-batches $BUCKET_OPTS` (default 2,64,512: a first
#            bucket 1..2, not a static 1..1) in $BUCKET_PRECISIONS (default "fp32 fp16"), timed side by
#            side at $BUCKET_BATCHES (default 1,64,512)
#   pytorch  bench/pytorch/serve_latency.py on $PYTORCH_PROFILE (default paper): PyTorch serving the
#            same model (eager, CUDA-graph replay and torch.compile reduce-overhead; $PYTORCH_MODES), the peer of bench's figures
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
if [[ " ${steps[*]} " != *" dist "* && " ${steps[*]} " =~ \ (python|junit|bench|fp16)\  ]]; then NEED_EXPORT=1; fi
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
name=$(sed -n 's/^name=//p' "$FINAL/MANIFEST")
if [[ -f $WORK/$name/.unpacked && -d $WORK/jdk ]]; then
  note "distribution $name already unpacked in $WORK (an earlier check on this machine)"
else
  cp "$FINAL"/MANIFEST "$FINAL"/SHA256SUMS "$INBOX"/ && cp -r "$FINAL"/zstd-bin "$INBOX"/ || { note "FAIL  no split metadata in $FINAL"; exit 1; }
  run "join the distribution's parts (SHA-256 of every part and of the tar checked)" "$OUT/setup.log" \
    bash "$FINAL/gpu-dist-split.sh" join "$INBOX" "$WORK" || exit 1
  rm -rf "${WORK:?}/$name" && tar -xf "$WORK/$name.tar" -C "$WORK" && rm -f "$WORK/$name.tar" "$INBOX"/part-*
  touch "$WORK/$name/.unpacked"
  mkdir -p "$WORK/jdk" && LD_LIBRARY_PATH="$INBOX/zstd-bin" "$INBOX/zstd-bin/zstd" -d -q -c "$FINAL/jre.tar.zst" | tar -x -C "$WORK/jdk"
fi
DIST=$WORK/$name
JAVA_HOME=$(ls -d "$WORK"/jdk/*/ | head -1)
export JAVA_HOME PATH=$JAVA_HOME/bin:$PATH
note "java: $(java -version 2>&1 | head -1); distribution $name unpacked ($(du -sh "$DIST" | cut -f1))"
MSN=$DIST/bin/msn-export
S=$WORK/small
# the newer project jars first, then the distribution's: what `bin/msn-export` sets up, by hand
CP=$( (ls "$FINAL"/jars/*.jar; ls "$DIST"/lib/*.jar) | tr '\n' ':')
newer() { env LD_LIBRARY_PATH="$DIST/lib/native" java -Xss16m -Dorg.bytedeco.javacpp.pathsFirst=true -cp "$CP" "$@"; }

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

step_trt() {
  local log=$OUT/trt.log
  run "trt: scripts/gpu-check.sh ${GPU_CHECK_STEPS:-tests verify}" "$log" env OUT="$OUT/gpu-check" MSN_TRT_JARS="$DIST/lib" \
    MSN_PROJECT_JARS="$FINAL/jars" LD_LIBRARY_PATH="$DIST/lib/native" MSN_GPU_WORK="$WORK/gpu-check" \
    JAVA_TOOL_OPTIONS="-Dorg.bytedeco.javacpp.pathsFirst=true" JDK_JAVA_OPTIONS="-Xss16m" bash scripts/gpu-check.sh ${GPU_CHECK_STEPS:-tests verify}
  grep -vE '^(Picked up|----- summary)' "$OUT/gpu-check/summary.txt" 2>/dev/null | head -120 >>"$SUMMARY"
}

step_kernels() {
  local log=$OUT/kernels.log
  run "kernels: scripts/gpu-kernels.sh ${KERNEL_ARGS:-}" "$log" env OUT="$OUT/kernels" bash scripts/gpu-kernels.sh ${KERNEL_ARGS:-}
  grep -E 'FAIL|PASS|checks|GB/s|passed|failed' "$log" | head -80 >>"$SUMMARY"
}

step_layers() {
  local log=$OUT/layers.log P=$WORK/paper
  run "layers: EngineGpuTest#layerProfilerReceivesEveryLayerOfEveryRun, FusedLayerGpuTest" "$log" newer org.junit.platform.console.ConsoleLauncher \
    execute --class-path "$CP" --select-method dev.msnexport.trt.EngineGpuTest#layerProfilerReceivesEveryLayerOfEveryRun \
    --select-class dev.msnexport.trt.FusedLayerGpuTest --details=tree --disable-banner --disable-ansi-colors --fail-if-no-tests
  grep -E '✔|✘|tests (successful|failed)' "$log" | head -20 >>"$SUMMARY"
  paper_export "$log" layers
  run "layers: build paper" "$log" newer dev.msnexport.cli.MsnExport build --model "$P/model" --profile paper
  run "layers: bench paper trt --layer-profile (batch 1, 512)" "$log" newer dev.msnexport.cli.MsnExport bench --model "$P/model" \
    --backends trt --batch 1,512 --iterations 100 --warmup-ms 200 --layer-profile --layer-profile-runs 10 --max-p99-ratio 0 \
    --report-dir "$OUT/paper-layers"
  grep -E '^layer profile|^ +[0-9.]+ ms|^floor|paper.plan|^  trt' "$log" | head -60 >>"$SUMMARY"
}

# paper's checkpoint and export in $WORK/paper (made once per host), for the steps below
paper_export() { # LOG STEP
  local P=$WORK/paper
  [[ -f $P/ck/config.json ]] || run "$2: init paper" "$1" newer dev.msnexport.cli.MsnExport init --profile paper --out "$P/ck"
  [[ -f $P/model/manifest.json ]] || run "$2: export paper" "$1" newer dev.msnexport.cli.MsnExport export --checkpoint "$P/ck" \
    --out "$P/model" --profile paper
}

# paper's plugin engine of PREC with `build --opt-batches LIST` (one N: a single profile min..max tuned at N)
opt_engine() { # LOG STEP PREC LIST PLAN
  run "$2: build paper custom $3 --opt-batches $4" "$1" newer dev.msnexport.cli.MsnExport build --model "$WORK/paper/model" \
    --precision "$3" --opt-batches "$4" --timing-cache "$WORK/timing-paper.cache" --out "$5"
}

step_tactics() {
  local log=$OUT/tactics.log P=$WORK/paper engines=() prec opt
  paper_export "$log" tactics
  for opt in ${OPT_BATCHES:-1 64 512}; do
    for prec in ${TACTIC_PRECISIONS:-fp16 fp32}; do
      opt_engine "$log" tactics "$prec" "$opt" "$P/model/opt$opt.$prec.plan" && engines+=(--engine "$P/model/opt$opt.$prec.plan")
    done
  done
  if [[ -n ${TACTIC_INT8:-1} ]]; then
    run "tactics: export paper --values-dtype int8" "$log" newer dev.msnexport.cli.MsnExport export --checkpoint "$P/ck" --out "$P/int8" \
      --profile paper --values-dtype int8 \
      && run "tactics: build paper int8 tables, fp16" "$log" newer dev.msnexport.cli.MsnExport build --model "$P/int8" --profile paper \
        --precision fp16 --timing-cache "$WORK/timing-paper.cache" \
      && run "tactics: verify paper int8 golden,trt:fp16 (batch 16)" "$log" newer dev.msnexport.cli.MsnExport verify --model "$P/int8" \
        --backends golden,trt:fp16 --batch 16 \
      && engines+=(--engine "$P/int8/engine.custom.fp16.paper.plan")
  fi
  grep -E 'wrote|^verify |quantiz' "$log" | head -20 >>"$SUMMARY"
  ((${#engines[@]})) || return
  run "tactics: bench side by side at 1,64,512,2048 (--layer-profile)" "$log" newer dev.msnexport.cli.MsnExport bench --model "$P/model" \
    "${engines[@]}" --batch 1,64,512,2048 --iterations "${LATENCY_ITERATIONS:-200}" --warmup-ms 300 --rounds 2 --max-p99-ratio 0 \
    --layer-profile --layer-profile-runs 10 --report-dir "$OUT/tactics"
  grep -vE '^(=== |Picked up)' "$log" | grep -E 'floor|engine|opt|int8|layer profile|^ +[0-9.]+ ms|gpu' | head -200 >>"$SUMMARY"
}

step_buckets() {
  local log=$OUT/buckets.log P=$WORK/paper engines=() prec opts=${BUCKET_OPTS:-2,64,512}
  paper_export "$log" buckets
  for prec in ${BUCKET_PRECISIONS:-fp32 fp16}; do
    opt_engine "$log" buckets "$prec" "$opts" "$P/model/buckets.$prec.plan" && engines+=(--engine "$P/model/buckets.$prec.plan")
  done
  grep -E 'wrote|optimization profile|Exception|rror' "$log" | head -20 >>"$SUMMARY"
  ((${#engines[@]})) || return
  run "buckets: bench at ${BUCKET_BATCHES:-1,64,512}" "$log" newer dev.msnexport.cli.MsnExport bench --model "$P/model" "${engines[@]}" \
    --batch "${BUCKET_BATCHES:-1,64,512}" --iterations 100 --warmup-ms 300 --rounds 2 --max-p99-ratio 0 --report-dir "$OUT/buckets"
  grep -vE '^(=== |Picked up|NOTE)' "$log" | grep -E 'batch|floor|profile' | head -60 >>"$SUMMARY"
}

step_pytorch() {
  local log=$OUT/pytorch.log prof=profiles/src/main/resources/profiles/${PYTORCH_PROFILE:-paper}.json
  run "pytorch: serve_latency.py ${PYTORCH_PROFILE:-paper} (${PYTORCH_MODES:-eager,cudagraph,compile})" "$log" python3 -B bench/pytorch/serve_latency.py \
    --profile "$prof" --batches "${PYTORCH_BATCHES:-1,64,512,2048}" --precisions "${PYTORCH_PRECISIONS:-fp32,fp16}" \
    --modes "${PYTORCH_MODES:-eager,cudagraph,compile}" \
    --iters "${PYTORCH_ITERS:-200}" --json "$OUT/pytorch.json"
  grep -E '^\||^#|batch' "$log" | head -40 >>"$SUMMARY"
}

if [[ -n ${NEED_EXPORT:-} ]]; then
  run "init + export small" "$OUT/setup.log" bash -c "'$MSN' init --profile small --out '$S/ck' && '$MSN' export --checkpoint '$S/ck' --out '$S/model' --profile small"
fi
for s in "${steps[@]}"; do "step_$s"; done
note "gpu-dist-check: $failed failed step(s)"
echo "----- summary -----"; cat "$SUMMARY"
exit "$failed"
