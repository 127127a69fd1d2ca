#!/usr/bin/env bash
# Runs every Python example and fails on any mismatch: for a machine with a JDK 17, the packages
# of requirements.txt and a built msn-export (or an unpacked release: set MSN_EXPORT and MSN_ORT_OPS).
#
#   examples/python/check.sh [STEP...]        (from anywhere; default: compile custom-ops pytorch)
#
# Steps:
#   compile     every Python file of examples/python and examples/pytorch compiles (py_compile),
#               and the shell scripts parse (bash -n); needs nothing else
#   custom-ops  msn-export init + export of the `small` profile, then run_custom_ops.py: onnxruntime
#               (Python) on model.custom.onnx with libmsn_ort_ops.so against model.reference.onnx,
#               max abs difference per output at most 1e-5, no slot differing
#   pytorch     examples/pytorch/end_to_end.sh: train in PyTorch (STEPS, default 600; DEVICE, default
#               auto), write the checkpoint and PyTorch's golden outputs, msn-export export, and
#               msn-export verify --golden golden.safetensors (golden, ort-reference, ort-custom)
#
# Environment: WORK (default: a new temporary folder, kept and named at the end), PYTHON
# (python3), MSN_EXPORT (the msn-export command; default this repository's ./msn-export),
# MSN_ORT_OPS (the op library; default: run_custom_ops.py's search), MSN_MODEL (custom-ops: an
# existing export folder to use instead of exporting `small`).
# Prints PASS/FAIL per step; exit status: the number of failed steps.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}
export PYTHON=$python
if [[ -n ${MSN_EXPORT:-} ]]; then msn=$MSN_EXPORT
elif [[ -f $repo/cli/target/msn-export.jar ]]; then msn=$repo/msn-export
else msn=msn-export
fi
export MSN_EXPORT=$msn
work=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/msn-python-check.XXXXXX")}
mkdir -p "$work"
steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(compile custom-ops pytorch)
failed=0
summary=()

step_compile() {
  local f ok=0
  for f in "$here"/*.py "$repo"/examples/pytorch/*.py; do
    # compile into the work folder: no __pycache__ left in the source tree
    "$python" -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
      "$f" "$work/pyc/$(basename "$f")c" || ok=1
  done
  for f in "$here"/*.sh "$repo"/examples/pytorch/*.sh; do
    bash -n "$f" || ok=1
  done
  return $ok
}

step_custom_ops() {
  local model=${MSN_MODEL:-$work/small/model}
  if [[ -z ${MSN_MODEL:-} ]]; then
    "$msn" init --profile small --out "$work/small/ck" && \
      "$msn" export --checkpoint "$work/small/ck" --out "$model" --profile small || return 1
  fi
  "$python" -B "$here/run_custom_ops.py" --model "$model" --batch 16 --atol 1e-5
}

step_pytorch() {
  STEPS=${STEPS:-600} PYTHONDONTWRITEBYTECODE=1 bash "$repo/examples/pytorch/end_to_end.sh" "$work/pytorch"
}

for step in "${steps[@]}"; do
  case $step in
    compile | custom-ops | pytorch) ;;
    *) echo "unknown step '$step' (compile, custom-ops, pytorch)" >&2; exit 2 ;;
  esac
  echo "=== $step"
  t0=$SECONDS
  if "step_${step//-/_}"; then summary+=("PASS  $step ($((SECONDS - t0)) s)")
  else summary+=("FAIL  $step ($((SECONDS - t0)) s)"); failed=$((failed + 1)); fi
done
echo "=== summary (work folder: $work)"
printf '%s\n' "${summary[@]}"
exit $failed
