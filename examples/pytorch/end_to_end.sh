#!/usr/bin/env bash
# PyTorch to msn-export and back: train the `small` model in PyTorch, write it as an msn-export
# checkpoint together with PyTorch's own outputs (a golden file), export both ONNX graphs, and
# check every backend against PyTorch's outputs with `msn-export verify --golden`.
#
#   examples/pytorch/end_to_end.sh OUT_DIR [STEP...]
#
# Steps (default: all four, in order):
#   train    python3 train.py: OUT_DIR/trained.pt (STEPS, default 4000; DEVICE, default auto:
#            a GPU when PyTorch sees one, else the CPU)
#   golden   python3 export_checkpoint.py: OUT_DIR/small-trained/ with config.json,
#            model.safetensors (the contract's tensor names) and golden.safetensors (16 inputs of
#            the training task and PyTorch's outputs on them, computed in float64)
#   export   msn-export export: OUT_DIR/model/ (model.custom.onnx, model.reference.onnx, manifest.json)
#   verify   msn-export verify --golden OUT_DIR/small-trained/golden.safetensors: PyTorch's outputs
#            are the reference; the Java float64 model, ONNX Runtime on the reference graph and on
#            the custom-op graph are compared with them (report in OUT_DIR/verify/)
#
# Needs: python3 with the packages of examples/python/requirements.txt (train, golden); a JDK 17
# and a built msn-export (export, verify). MSN_EXPORT names the command (default: this
# repository's ./msn-export launcher when its jar is built, else `msn-export` on the PATH).
# Exit status: that of the first step that fails (verify: 1 when parity fails), else 0.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:?usage: end_to_end.sh OUT_DIR [train] [golden] [export] [verify]}
shift
steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(train golden export verify)
python=${PYTHON:-python3}
if [[ -n ${MSN_EXPORT:-} ]]; then msn=$MSN_EXPORT
elif [[ -f $repo/cli/target/msn-export.jar ]]; then msn=$repo/msn-export
else msn=msn-export
fi
mkdir -p "$out"

for step in "${steps[@]}"; do
  echo "== $step"
  case $step in
    train)
      "$python" "$here/train.py" --out "$out" --steps "${STEPS:-4000}" --max-seconds "${MAX_SECONDS:-240}" \
        --device "${DEVICE:-auto}" ;;
    golden)
      "$python" "$here/export_checkpoint.py" --trained "$out/trained.pt" --out "$out/small-trained" ;;
    export)
      "$msn" inspect "$out/small-trained"
      "$msn" export --checkpoint "$out/small-trained" --out "$out/model" --profile small ;;
    verify)
      "$msn" verify --model "$out/model" --golden "$out/small-trained/golden.safetensors" \
        --backends golden,ort-reference,ort-custom --report-dir "$out/verify" ;;
    *)
      echo "unknown step '$step' (train, golden, export, verify)" >&2
      exit 2 ;;
  esac
done
