#!/usr/bin/env bash
# Probe for the GPU machine (after trt-stage install and env, as scripts/gpu-check.sh): where does
# TensorRT's fp32 engine of `paper` lose accuracy? Variants of the paper profile that differ in one
# op (the memory gate: tanh, identity, sigmoid), each verified against the float64 golden model and
# ONNX Runtime at batch 4. Then paper's fp16 engine against golden (batch 16).
#   bash bench/trt-fp32-probe.sh [GATE...]
#   bash bench/trt-fp32-probe.sh splitk CHECKPOINT_DIR [PROFILE]   export with --scoring-split-k 4 and 1, fp32
#        plugin and reference engines of each, verified against golden and ORT, timed side by side
#   bash bench/trt-fp32-probe.sh levels MODEL_DIR [LEVEL...]   fp32 plugin engines of one export built at
#        several builder optimization levels (default 0 1 3 5), each verified against golden and ORT,
#        then timed side by side (msn-export bench --engine); each log ends with the plan's layer table (msn-export inspect)
set -uo pipefail
OUT=${OUT:-$PWD/probe-out}
WORK=${MSN_GPU_WORK:-/tmp/msn-probe}
mkdir -p "$OUT" "$WORK"
FIRST=${MSN_PROJECT_JARS:-$PWD/.gpu-jars}
CP=$( (ls "$FIRST"/*.jar 2>/dev/null; ls "${MSN_TRT_JARS:?run after trt-stage env}"/*.jar) | tr '\n' ':')
msn() { java ${MSN_JAVA_OPTS:-} -cp "$CP" dev.msnexport.cli.MsnExport "$@"; }
if [[ ${1:-} == splitk ]]; then
  # the scoring products' split (export --scoring-split-k): the same checkpoint exported with split 4
  # (the default) and 1, fp32 plugin and reference engines of each at TensorRT's default optimization
  # level, each verified against golden and ORT at batch 4 (--atol 1e-4), then all timed side by side
  ck=${2:?splitk CHECKPOINT_DIR [PROFILE]}
  prof=${3:-paper}
  engines=()
  for sk in 4 1; do
    m=$WORK/splitk/model-split$sk
    { msn export --checkpoint "$ck" --out "$m" --profile "$prof" --scoring-split-k $sk \
      && msn build --model "$m" --precision fp32 --timing-cache "$WORK/splitk.cache" \
      && msn build --model "$m" --precision fp32 --graph reference --timing-cache "$WORK/splitk.cache" \
      && msn verify --model "$m" --backends golden,ort-reference,trt:reference,trt --batch 4 --atol 1e-4 --timing-cache "$WORK/splitk.cache"; } \
      >"$OUT/probe-split$sk.log" 2>&1
    echo "== scoring split-k $sk (exit $?)"; grep -E "^  (trt|ort).*vs|retrieval\.[01]\.weights" "$OUT/probe-split$sk.log"
    msn inspect "$m/engine.custom.fp32.$prof.plan" --layers >>"$OUT/probe-split$sk.log" 2>&1
    engines+=(--engine "$m/engine.custom.fp32.$prof.plan" --engine "$m/engine.reference.fp32.$prof.plan")
  done
  # each plan lies in its export, and is checked against that export's graph
  msn bench --model "$WORK/splitk/model-split4" "${engines[@]}" --batch 1,64,512,2048 --iterations 200 --warmup-ms 500 \
    --rounds 2 --report-dir "$OUT/latency-splitk" 2>&1 | grep -E "engine\."
  exit 0
fi
if [[ ${1:-} == levels ]]; then
  m=${2:?levels MODEL_DIR}
  shift 2
  levels=("$@")
  ((${#levels[@]})) || levels=(0 1 3 5)
  engines=()
  for l in "${levels[@]}"; do
    { msn build --model "$m" --precision fp32 --optimization-level "$l" --out "$WORK/engine.level$l.plan" \
      && msn verify --model "$m" --backends golden,ort-reference,trt --engine "$WORK/engine.level$l.plan" --batch 4 --atol 1e-4; } \
      >"$OUT/probe-level$l.log" 2>&1
    echo "== optimization level $l (exit $?)"; grep -E "^  trt .*vs|retrieval\.[01]\.weights" "$OUT/probe-level$l.log" | grep -A2 "^  trt"
    msn inspect "$WORK/engine.level$l.plan" --layers >>"$OUT/probe-level$l.log" 2>&1
    engines+=(--engine "$WORK/engine.level$l.plan")
  done
  # their latency side by side (paper's batches)
  msn bench --model "$m" "${engines[@]}" --batch 1,64,512,2048 --iterations 100 --warmup-ms 500 \
    --rounds 2 --report-dir "$OUT/latency-levels" 2>&1 | grep -E "engine\."
  exit 0
fi
gates=("$@")
((${#gates[@]})) || gates=(tanh identity sigmoid)
for gate in "${gates[@]}"; do
  p=$WORK/paper-$gate.json
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['name']='paper-'+sys.argv[3]; d['model']['gate']=sys.argv[3]; json.dump(d,open(sys.argv[2],'w'),indent=1)" \
    profiles/src/main/resources/profiles/paper.json "$p" "$gate"
  { msn init --profile "$p" --out "$WORK/$gate/ck" && msn export --checkpoint "$WORK/$gate/ck" --out "$WORK/$gate/model" --profile "$p" \
    && msn verify --model "$WORK/$gate/model" --profile "$p" --backends golden,ort-reference,trt --batch 4 --atol 1e-4; } \
    >"$OUT/probe-$gate.log" 2>&1
  echo "== gate $gate (exit $?)"; grep -E "vs |retrieval\.[01]\.weights|click" "$OUT/probe-$gate.log"
done
if [[ -d $WORK/tanh/model ]]; then
  msn verify --model "$WORK/tanh/model" --profile "$WORK/paper-tanh.json" --backends golden,ort-reference,trt:fp16 --batch 16 \
    >"$OUT/probe-fp16.log" 2>&1
  echo "== paper fp16 (exit $?)"; grep -E "vs |weights|click|finish|layer" "$OUT/probe-fp16.log"
fi
