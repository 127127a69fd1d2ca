#!/usr/bin/env bash
# The GPU check of the TensorRT half (engine builder, runner, `trt` backend), for a machine with
# an NVIDIA GPU and Java 17, with TensorRT 10.6 and the project's jars in MSN_TRT_JARS
# (CONTRIBUTING.md, "Getting TensorRT onto the class path"): either an unpacked -Pgpu
# distribution's lib/ folder,
#
#   MSN_TRT_JARS=/path/to/msn-export-<version>/lib bash scripts/gpu-check.sh [STEP...]
#
# or, on the maintainers' staged GPU host (trt-stage, CONTRIBUTING.md):
#
#   bash .device-stage/trt-stage install && eval "$(bash .device-stage/trt-stage env)" \
#     && bash scripts/gpu-check.sh [STEP...]
#
# Steps (default: tests verify paper; also paper-parity, paper-perf, xl):
#   tests   JUnit tests of trt-runtime (dev.msnexport.trt.*): engines for tiny and small, fp32 and
#           fp16, custom and reference graph, against ONNX Runtime's reference graph; sidecar
#           refusal; timing with and without CUDA graphs; and the verifier's bad-input matrix
#           (BadInputMatrixTest), whose trt rows need the GPU
#   verify  the CLI end to end on tiny and small: export, msn-export build, msn-export verify
#           --backends ort-reference,trt (and golden,ort-reference,trt:fp16, trt:reference), refusal of a plan built
#           for another model (exit 4)
#   paper-parity  paper's plugin engine and reference-graph engine against the float64 golden model,
#           ONNX Runtime and each other at --atol 1e-4 (batch 4)
#   paper-perf  paper's plugin, fused (export --fuse-msn-layer; PAPER_FUSED=0 skips them) and reference
#           engines, fp32 and fp16, side by side in one bench (floors, layer profiles), the fused ones
#           verified first; PAPER_QUANT="int8 fp8" adds those exports' fp16 engines, verified against
#           the golden model on the dequantized tables; PAPER_REUSE=1 takes the plans an earlier call on
#           the same machine built (and verified) instead of building them again, PAPER_BENCH=0 builds and
#           verifies only: one call builds, the next times them beside PyTorch (a call's time is limited);
#           PAPER_GRAPHS=custom leaves out the reference-graph engines
#   paper   the paper profile: build the plugin engine and TensorRT's compile of the reference
#           graph (fp32), verify, then both side by side at batch 1, 64, 512, 2048 (p50/p99 GPU
#           time, plain launches and CUDA graph replay)
#   xl      issue 16's 4M-slot profile, made here: init (all cores), export (fp16 tables), the fp16
#           plugin engine, verify against the golden model (batch 2), bench at batch 1, 64, 512 with
#           the floor model and the layer profile; each step's wall time and the peak disk use (about 40 GB: checkpoint,
#           export and plan together; needs 45 GB free); about 8 minutes on 16 cores. XL_STAGES (default
#           "make build verify bench") runs some of them, the rest in a later call on the same machine
#
# Needs on the class path (MSN_TRT_JARS, from trt-stage env): the staged JavaCPP/TensorRT/CUDA
# jars plus the extras given to `trt-stage prepare --extra DIR`: the cli's runtime dependencies
# (onnxruntime may be cut down to linux-x64), msn-export.jar, msn-trt-plugins-tests.jar (the
# trt-runtime test classes), msn-verifier-tests.jar (BadInputMatrixTest) and
# junit-platform-console-standalone. Logs and results go to $OUT
# (default ./gpu-check-out); models and engines to
# $MSN_GPU_WORK (default /tmp/msn-gpu-check); at the end every log but the summary is packed into
# gpu-check-logs.tgz. Knobs: PAPER_PRECISIONS (default "fp32"), LATENCY_ITERATIONS (default 200),
# MSN_JAVA_OPTS (JVM options for msn-export, e.g. -Dmsn.trt.precisionConstraints=prefer). Exit status: the number of failed steps.
# The project's own jars can also travel apart from the staged parts, so that a code change
# needs no new staging: jars in $MSN_PROJECT_JARS (default: ./.gpu-jars, name it in `carry`) come
# first on the class path.
#
# For the staged host, assemble those extras first on a machine with Maven Central, then stage
# (trt-stage is the maintainers' staging tool, outside this repository; CONTRIBUTING.md):
#   scripts/gpu-check.sh --prepare-extras /tmp/msn-extra
#   trt-stage prepare --extra /tmp/msn-extra
# and after a code change (build first), only:
#   scripts/gpu-check.sh --project-jars .gpu-jars     (.gpu-jars/ is ignored through .git/info/exclude)
set -uo pipefail

project_jars() { # DIR: the project's jars, the cli and the trt-runtime test classes
  local dir=$1
  mkdir -p "$dir" || return 1
  for m in core profiles exporter onnx-custom-ops trt-plugins trt-runtime verifier; do
    cp "$m"/target/"$m"-*-SNAPSHOT.jar "$dir"/ || return 1
  done
  cp cli/target/msn-export.jar "$dir"/ || return 1
  ./mvnw -B -q -o -pl trt-runtime,verifier -am -Dexec.skip=true -Dfuzz.skip=true test-compile || return 1
  (cd trt-runtime/target/test-classes && jar cf "$dir/msn-trt-plugins-tests.jar" .) || return 1
  # the verifier's bad-input matrix (its trt rows run only where there is a GPU) and its helpers; no fixtures needed
  (cd verifier/target/test-classes && jar cf "$dir/msn-verifier-tests.jar" dev/msnexport/verifier/robustness) || return 1
  unzip -l "$dir"/trt-plugins-*.jar | grep libmsn_trt_plugins.so >/dev/null || { echo "trt-plugins jar lacks the plugin library" >&2; return 1; }
}

if [[ ${1:-} == --project-jars ]]; then
  dir=$(realpath -m "${2:?--project-jars DIR}")
  cd "$(dirname "$0")/.." || exit 2
  rm -rf "$dir" && project_jars "$dir" && du -sh "$dir" && ls "$dir"
  exit
fi

if [[ ${1:-} == --prepare-extras ]]; then
  dir=$(realpath -m "${2:?--prepare-extras DIR}")
  cd "$(dirname "$0")/.." || exit 2
  rm -rf "$dir" && mkdir -p "$dir" || exit 2
  ./mvnw -B -q -o -pl cli dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir" || exit 2
  # staged already by trt-stage (same versions)
  rm -f "$dir"/tensorrt-*.jar "$dir"/javacpp-*.jar "$dir"/cuda-*.jar
  # ONNX Runtime for linux-x64 only: 11 MB instead of 54 MB
  python3 - "$dir"/onnxruntime-*.jar <<'PY' || exit 2
import os, sys, zipfile
src = sys.argv[1]
tmp = src + ".tmp"
with zipfile.ZipFile(src) as zi, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zo:
    for info in zi.infolist():
        n = info.filename
        if n.startswith("ai/onnxruntime/native/") and not n.endswith("/") and not n.startswith("ai/onnxruntime/native/linux-x64/"):
            continue
        zo.writestr(info, zi.read(n))
os.replace(tmp, src)
PY
  project_jars "$dir" || exit 2
  ./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 -DoutputDirectory="$dir" || exit 2
  du -sh "$dir" && ls "$dir"
  exit 0
fi

OUT=${OUT:-$PWD/gpu-check-out}
WORK=${MSN_GPU_WORK:-/tmp/msn-gpu-check}
JARS=${MSN_TRT_JARS:?"set MSN_TRT_JARS to a folder of jars with TensorRT 10.6, CUDA 12 and JavaCPP (an unpacked -Pgpu distribution's lib/, or the staged jars: CONTRIBUTING.md)"}
PAPER_PRECISIONS=${PAPER_PRECISIONS:-fp32}
LATENCY_ITERATIONS=${LATENCY_ITERATIONS:-200}
mkdir -p "$OUT" "$WORK"
FIRST=${MSN_PROJECT_JARS:-$PWD/.gpu-jars}
CP=$( (ls "$FIRST"/*.jar 2>/dev/null; ls "$JARS"/*.jar) | tr '\n' ':')
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
failed=0

note() { echo "$*" | tee -a "$SUMMARY"; }
# MSN_JAVA_OPTS: extra JVM options for every msn-export call, e.g. -Dmsn.trt.precisionConstraints=prefer
msn() { java -Xss16m ${MSN_JAVA_OPTS:-} -cp "$CP" dev.msnexport.cli.MsnExport "$@"; }
# inspect_plans LOG PLAN...: TensorRT's layer table of each plan into LOG, its summary (fp16: whether the
# float32-pinned scoring path touches fp16) into the summary
inspect_plans() {
  local log=$1 plan tmp; shift
  tmp=$(mktemp)
  for plan in "$@"; do
    [[ -f $plan ]] || continue
    if msn inspect "$plan" --layers >"$tmp" 2>&1; then
      grep -E '^engine |engine layers|scoring path|^    \[' "$tmp" >>"$SUMMARY"
    else note "FAIL  inspect $plan (see $(basename "$log"))"; failed=$((failed + 1)); fi
    { echo "=== inspect $plan"; cat "$tmp"; } >>"$log"
  done
  rm -f "$tmp"
}
# run NAME LOG CMD...: runs, logs, records pass/fail in the summary
run() {
  local name=$1 log=$2; shift 2
  local t0=$SECONDS
  echo "=== $name: $*" >>"$log"
  if "$@" >>"$log" 2>&1; then note "PASS  $name ($((SECONDS - t0)) s)"; return 0; fi
  note "FAIL  $name ($((SECONDS - t0)) s; see $(basename "$log"))"; failed=$((failed + 1)); return 1
}
# expect_exit CODE TEXT NAME LOG CMD...: passes when the command exits with CODE and prints TEXT
expect_exit() {
  local code=$1 text=$2 name=$3 log=$4; shift 4
  echo "=== $name (expect exit $code and '$text'): $*" >>"$log"
  local o rc
  o=$("$@" 2>&1)
  rc=$?
  echo "$o" >>"$log"
  if [[ $rc == "$code" && $o == *"$text"* ]]; then note "PASS  $name (exit $rc)"
  else note "FAIL  $name (exit $rc, expected $code and '$text')"; failed=$((failed + 1)); fi
}

export_model() { # PROFILE -> $WORK/PROFILE/model
  local p=$1 log=$2
  [[ -f $WORK/$p/model/manifest.json ]] && return 0
  run "init+export $p" "$log" bash -c "java -cp '$CP' dev.msnexport.cli.MsnExport init --profile $p --out '$WORK/$p/ck' && \
    java -cp '$CP' dev.msnexport.cli.MsnExport export --checkpoint '$WORK/$p/ck' --out '$WORK/$p/model' --profile $p"
}

# reused PLAN: with PAPER_REUSE=1, a plan that an earlier paper-perf call on this machine built (and, where it
# verifies them, verified: the .ok marker) is used again instead of being built and verified anew
reused() {
  [[ ${PAPER_REUSE:-0} == 1 && -f $1 && -f $1.ok ]] || return 1
  note "reuse $1 (built and checked by an earlier call here)"
}

step_tests() {
  local log=$OUT/tests.log classes=()
  for c in EngineGpuTest BucketedEngineGpuTest FusedLayerGpuTest QuantizedEngineGpuTest EngineMetadataTest EngineBucketsTest HalfTest TimingTest \
    TensorRtUnavailableTest; do
    classes+=(--select-class "dev.msnexport.trt.$c")
  done
  classes+=(--select-class dev.msnexport.verifier.robustness.BadInputMatrixTest)
  # Classes are selected by name: the jlink'ed runtime has no zip file system to scan jars with.
  run "junit dev.msnexport.trt (GPU engines vs ONNX Runtime)" "$log" java -Xss16m -cp "$CP" org.junit.platform.console.ConsoleLauncher execute \
    --class-path "$CP" "${classes[@]}" --details=tree --disable-banner --disable-ansi-colors --reports-dir "$WORK/junit" \
    --fail-if-no-tests
  cp "$WORK/junit/TEST-junit-jupiter.xml" "$OUT/junit.xml" 2>/dev/null
  # the per-output lines come from trt-runtime's EngineParity; EngineParityTest holds them to this pattern
  grep -E '^\s+(tiny|small) .*(max abs err|queries identical)|: ok \(gpu|cuda graph|tests (successful|failed|skipped)' "$log" \
    | sed 's/^ *//' >>"$SUMMARY"
}

step_verify() {
  local log=$OUT/verify.log
  for p in tiny small; do
    export_model $p "$log" || continue
    local m=$WORK/$p/model
    run "build $p custom fp32" "$log" msn build --model "$m" --timing-cache "$WORK/timing.cache"
    run "verify $p ort-reference,trt" "$log" msn verify --model "$m" --backends ort-reference,trt --batch 64
    run "verify $p golden,ort-reference,trt:fp16" "$log" msn verify --model "$m" --backends golden,ort-reference,trt:fp16 --batch 64 \
      --timing-cache "$WORK/timing.cache"
    run "verify $p ort-reference,trt:reference" "$log" msn verify --model "$m" --backends ort-reference,trt:reference --batch 64 \
      --timing-cache "$WORK/timing.cache"
  done
  inspect_plans "$OUT/layers.log" "$WORK"/{tiny,small}/model/engine.custom.fp16.*.plan
  # intermediate tensors as extra outputs (a marked engine is built apart and not kept)
  run "verify tiny ort-custom,trt --mark-outputs (block 0 output, block 1 query LN)" "$log" msn verify --model "$WORK/tiny/model" \
    --backends ort-custom,trt --batch 8 --mark-outputs blocks.0.ffn/LayerNormalization_1:0,blocks.1.msn/LayerNormalization_1:0
  expect_exit 4 "the model changed since the build" "verify tiny --engine <small's plan> is refused" "$log" msn verify --model "$WORK/tiny/model" \
    --backends ort-reference,trt --engine "$WORK/small/model/engine.custom.fp32.small.plan"
  grep -E '^verify |^  (trt|ort)|^    (click|finish|retrieval)|error:|[Mm]arked|max_abs at' "$log" | awk '!seen[$0]++' >>"$SUMMARY"
}

step_paper_parity() { # both TensorRT engines of paper against ONNX Runtime and each other, at the issue's 1e-4
  local log=$OUT/paper-parity.log m=$WORK/paper/model
  export_model paper "$log" || return
  run "verify paper golden,ort-reference,trt:reference,trt --atol 1e-4 (batch 4)" "$log" msn verify --model "$m" \
    --backends golden,ort-reference,trt:reference,trt --batch 4 --atol 1e-4 --timing-cache "$WORK/timing-paper.cache"
  grep -E '^verify |^  (trt|ort)|^    (click|finish|retrieval)' "$log" >>"$SUMMARY"
}

step_paper() {
  local log=$OUT/paper.log m=$WORK/paper/model engines=() prec
  export_model paper "$log" || return
  for prec in $PAPER_PRECISIONS; do
    for g in custom reference; do
      run "build paper $g $prec" "$log" msn build --model "$m" --graph $g --precision "$prec" --timing-cache "$WORK/timing-paper.cache" \
        --progress-seconds 15 && engines+=(--engine "$m/engine.$g.$prec.paper.plan")
    done
  done
  cp "$m/engine.custom.fp32.paper.plan.json" "$OUT/paper-engine.plan.json" 2>/dev/null
  run "verify paper ort-reference,trt (batch 4)" "$log" msn verify --model "$m" --backends ort-reference,trt --batch 4
  if [[ " $PAPER_PRECISIONS " == *" fp16 "* ]]; then
    run "verify paper golden,ort-reference,trt:fp16 (batch 16)" "$log" msn verify --model "$m" --backends golden,ort-reference,trt:fp16 \
      --batch 16
  fi
  grep -E '^verify |^  (trt|ort)|^    (click|finish|retrieval)' "$log" >>"$SUMMARY"
  inspect_plans "$OUT/layers.log" "$m"/engine.custom.*.paper.plan
  ((${#engines[@]})) || return
  run "latency paper (plain launches)" "$log" msn bench --model "$m" "${engines[@]}" --batch 1,64,512,2048 \
    --iterations "$LATENCY_ITERATIONS" --warmup-ms 500 --rounds 2 --no-cuda-graph --report-dir "$OUT/latency"
  run "latency paper (CUDA graph replay)" "$log" msn bench --model "$m" "${engines[@]}" --batch 1,64,512,2048 \
    --iterations "$LATENCY_ITERATIONS" --warmup-ms 500 --rounds 2 --report-dir "$OUT/latency-graph"
  grep -E '^ *(engine\.|[a-z0-9-]+/engine\.)|gpu' "$log" >>"$SUMMARY"
}

# paper-perf: issue 14's side-by-side run: paper's plugin engine, its fused-MsnLayer engine and TensorRT's
# compile of the reference graph, fp32 and fp16, timed together by bench (CUDA graph replay, GPU time by
# CUDA events) at batch 1, 64, 512, 2048, with the floor model and the per-layer profile; the fused
# engines verified against ONNX Runtime first.
step_paper_perf() {
  local log=$OUT/paper-perf.log m=$WORK/paper/model f=$WORK/paper-fused/fused engines=() prec g
  export_model paper "$log" || return
  if [[ ${PAPER_FUSED:-1} == 1 && ! -f $f/manifest.json ]]; then
    run "export paper --fuse-msn-layer" "$log" msn export --checkpoint "$WORK/paper/ck" --out "$f" --profile paper --fuse-msn-layer
  fi
  for prec in ${PAPER_PRECISIONS:-fp32 fp16}; do
    for g in ${PAPER_GRAPHS:-custom reference}; do
      reused "$m/engine.$g.$prec.paper.plan" && { engines+=(--engine "$m/engine.$g.$prec.paper.plan"); continue; }
      run "build paper $g $prec" "$log" msn build --model "$m" --graph $g --precision "$prec" --timing-cache "$WORK/timing-paper.cache" \
        --progress-seconds 30 && touch "$m/engine.$g.$prec.paper.plan.ok" && engines+=(--engine "$m/engine.$g.$prec.paper.plan")
    done
    [[ ${PAPER_FUSED:-1} == 1 ]] || continue
    reused "$f/engine.custom.$prec.paper.plan" && { engines+=(--engine "$f/engine.custom.$prec.paper.plan"); continue; }
    run "build paper fused $prec" "$log" msn build --model "$f" --precision "$prec" --timing-cache "$WORK/timing-paper.cache" \
      --progress-seconds 30 && engines+=(--engine "$f/engine.custom.$prec.paper.plan")
    run "verify paper fused ort-reference,trt:$prec (batch 16)" "$log" msn verify --model "$f" --backends ort-reference,trt:$prec --batch 16 \
      && touch "$f/engine.custom.$prec.paper.plan.ok"
  done
  # quantized value tables (issue 16): each export's fp16 plugin engine, verified against the golden model on the
  # dequantized tables, then timed beside the others
  local q
  for q in ${PAPER_QUANT:-}; do
    [[ -f $WORK/paper-$q/manifest.json ]] || run "export paper --values-dtype $q" "$log" msn export --checkpoint "$WORK/paper/ck" \
      --out "$WORK/paper-$q" --profile paper --values-dtype "$q" || continue
    reused "$WORK/paper-$q/engine.custom.fp16.paper.plan" && { engines+=(--engine "$WORK/paper-$q/engine.custom.fp16.paper.plan"); continue; }
    run "build paper $q tables, fp16" "$log" msn build --model "$WORK/paper-$q" --precision fp16 --timing-cache "$WORK/timing-paper.cache" \
      --progress-seconds 30 || continue
    run "verify paper $q golden,trt:fp32,trt:fp16 (batch 16)" "$log" msn verify --model "$WORK/paper-$q" --backends golden,trt:fp32,trt:fp16 --batch 16 \
      && touch "$WORK/paper-$q/engine.custom.fp16.paper.plan.ok" && engines+=(--engine "$WORK/paper-$q/engine.custom.fp16.paper.plan")
  done
  grep -E '^verify |^  (trt|ort)|^    (click|finish|retrieval)' "$log" | awk '!seen[$0]++' >>"$SUMMARY"
  ((${#engines[@]})) && [[ ${PAPER_BENCH:-1} == 1 ]] || return
  run "bench paper: plugin, fused and reference engines side by side (CUDA graph replay, --layer-profile)" "$log" \
    msn bench --model "$m" "${engines[@]}" --batch 1,64,512,2048 --iterations "$LATENCY_ITERATIONS" --warmup-ms 500 --rounds 2 \
    --layer-profile --layer-profile-runs 10 --report-dir "$OUT/paper-perf"
  grep -vE '^(=== |Picked up)' "$log" | grep -E 'floor|ceiling|engine\.|layer profile|optimization profile|^ +[0-9.]+ ms|%|gpu' | head -150 >>"$SUMMARY"
}

# xl: issue 16's profile (2 MSN layers of 4,194,304 slots, fp16 tables of 6.4 GB each) on one GPU, from a
# checkpoint made here (the 64 GB disk holds checkpoint 13 GB + export 13 GB + fp16 plan about 13 GB at once,
# not twice). init draws on every core; verify runs golden,trt:fp16 only: the golden model from the checkpoint
# and the engine, as the CPU verify of xl ran golden,ort-custom (docs/performance.md: ONNX Runtime's graphs
# are not run at this scale). The checkpoint goes once verify is done, the rest at the end (XL_KEEP=1 keeps
# it). Disk use of $WORK/xl is sampled every 2 s; its peak goes to the summary with each step's wall time.
# XL_PROFILE (default xl) and XL_NEED_GB (default 45) run the same step on another built-in profile, e.g. small
# for a dry run of the script.
step_xl() {
  local p=${XL_PROFILE:-xl} need_gb=${XL_NEED_GB:-45} stages=" ${XL_STAGES:-make build verify bench} "
  local log=$OUT/xl.log d=$WORK/xl t0=$SECONDS avail sampler peak_kb=0 ok=0 paper_plan
  local ck=$WORK/xl/ck m=$WORK/xl/model plan=$WORK/xl/model/engine.custom.fp16.$p.plan
  if [[ $stages == *" make "* ]]; then
    rm -rf "$d" "$d.du" && mkdir -p "$d" || { note "FAIL  xl: cannot create $d"; failed=$((failed + 1)); return; }
    avail=$(df -Pk "$d" | awk 'NR == 2 {print int($4 / 1048576)}')
    if ((avail < need_gb)); then
      note "FAIL  xl: ${avail} GB free under $d, needs about $need_gb GB (checkpoint + export + plan)"
      failed=$((failed + 1)); return
    fi
  elif [[ ! -d $d ]]; then
    note "FAIL  xl: no $d (run XL_STAGES with make first, on this machine)"; failed=$((failed + 1)); return
  fi
  (while :; do du -sk "$d" 2>/dev/null | cut -f1 >>"$d.du"; sleep 2; done) &
  sampler=$!
  if [[ $stages == *" make "* ]]; then
    run "init $p (seed 0, $(nproc) threads)" "$log" msn init --profile "$p" --out "$ck" --seed 0 &&
      run "export $p (the profile's value tables)" "$log" msn export --checkpoint "$ck" --out "$m" --profile "$p" || ok=1
  fi
  if ((ok == 0)) && [[ $stages == *" build "* ]]; then
    run "build $p custom fp16" "$log" msn build --model "$m" --precision fp16 --timing-cache "$WORK/timing-xl.cache" \
      --progress-seconds 30 || ok=1
  fi
  if ((ok == 0)) && [[ $stages == *" verify "* ]]; then
    run "verify $p golden,trt:fp16 (batch 2)" "$log" msn verify --model "$m" --backends golden,trt:fp16 --batch 2 || ok=1
    du -sk "$d" 2>/dev/null | cut -f1 >>"$d.du" # checkpoint + export + plan: the peak, whatever the sampling
    rm -rf "$ck"                                 # bench needs the export and the plan only
  fi
  if ((ok == 0)) && [[ $stages == *" bench "* ]]; then
    # paper's fp16 plugin engine beside it when paper-perf built one on this machine: same inputs, 64x fewer slots
    paper_plan=$WORK/paper/model/engine.custom.fp16.paper.plan
    local beside=() what="bench $p fp16 engine, batch 1, 64, 512 (floor model)"
    [[ -f $paper_plan ]] && beside=(--engine "$paper_plan") && what="bench $p fp16 engine beside paper's, batch 1, 64, 512 (floor model)"
    run "$what" "$log" msn bench --model "$m" --engine "$plan" \
      "${beside[@]}" --batch 1,64,512 --iterations "$LATENCY_ITERATIONS" --warmup-ms 500 --rounds 2 --max-p99-ratio 0 \
      --layer-profile --layer-profile-runs 10 --report-dir "$OUT/xl-bench"
  fi
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
  du -sk "$d" 2>/dev/null | cut -f1 >>"$d.du"
  peak_kb=$(sort -n "$d.du" 2>/dev/null | tail -1)
  grep -E '^wrote |^exported|^build: wrote|^verify |^  (trt|golden)|^    (click|finish|retrieval)' "$log" | awk '!seen[$0]++' >>"$SUMMARY"
  grep -vE '^(=== |Picked up)' "$log" | grep -E 'floor|ceiling|engine\.|layer profile|^ +[0-9.]+ ms|%|gpu' | head -160 >>"$SUMMARY"
  note "xl ($p, stages${stages% }): $((SECONDS - t0)) s; peak disk use of $d so far $(awk -v k="${peak_kb:-0}" 'BEGIN {printf "%.1f GB", k * 1024 / 1e9}')"
  # the folder goes once bench has run (or a stage failed), unless XL_KEEP=1
  if [[ ${XL_KEEP:-0} != 1 ]] && { [[ $stages == *" bench "* ]] || ((ok != 0)); }; then rm -rf "$d" "$d.du"; fi
}

note "gpu-check $(date -u +%FT%TZ): $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null)"
note "plugin library SHA-256: $(python3 -c 'import glob, hashlib, zipfile; z = zipfile.ZipFile((glob.glob("'"$FIRST"'/trt-plugins-*.jar") + glob.glob("'"$JARS"'/trt-plugins-*.jar"))[0]); \
print(hashlib.sha256(z.read("native/linux-x86_64/libmsn_trt_plugins.so")).hexdigest())' 2>&1 | tail -1)"
[[ -d $FIRST ]] && note "project jars first on the class path: $FIRST"
steps=("$@")
((${#steps[@]})) || steps=(tests verify paper)
for s in "${steps[@]}"; do
  case $s in
    tests) step_tests ;;
    verify) step_verify ;;
    paper) step_paper ;;
    paper-parity) step_paper_parity ;;
    paper-perf) step_paper_perf ;;
    xl) step_xl ;;
    *) note "unknown step $s"; failed=$((failed + 1)) ;;
  esac
done
note "gpu-check: $failed failed step(s)"
# the device tool brings back at most 8 files: the summary, and every log in one archive
(cd "$OUT" && ls | grep -v -e '^summary.txt$' -e '^gpu-check-logs.tgz$' | tar czf gpu-check-logs.tgz -T - --remove-files) 2>/dev/null
echo "----- summary -----"
cat "$SUMMARY"
exit "$failed"
