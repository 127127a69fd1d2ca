#!/usr/bin/env bash
# Builds and runs the CUDA kernel checks and timings of trt-plugins on a GPU machine: the kernel
# test + timing harness (msn_kernels_test), the plugin ABI test with a GPU enqueue check, and a
# compute-sanitizer memcheck pass over the quick kernel checks. Needs nvcc, CMake and a GPU; no
# TensorRT, no Java.
#
#   scripts/gpu-kernels.sh [harness options]     (e.g. --no-timing, --timing-only, --quick)
#
# Environment:
#   MSN_GPU_BIN_DIR  folder holding msn_kernels_test, msn_plugin_abi_test and libmsn_trt_plugins.so
#                    already built for this GPU (CMake with -DCMAKE_CUDA_ARCHITECTURES=90);
#                    without it they are built here into trt-plugins/target/gpu-build
#   OUT              folder for logs (default: trt-plugins/target/gpu-kernels)
#   MSN_SANITIZE     0 skips the memcheck pass (default 1)
#   MSN_NCU          1 adds an Nsight Compute profile of MsnLayer's product kernels (paper's widths,
#                    N = 32,768 and 16) to $OUT/ncu-msn-layer.txt: throughput, pipe use, warp stalls
# Exit status: 0 when every step passed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/trt-plugins/target/gpu-kernels}
mkdir -p "$out"
status=0

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw \
  --format=csv 2>&1 | tee "$out/nvidia-smi.csv"

bin=${MSN_GPU_BIN_DIR:-}
if [ -n "$bin" ] && ! "$bin/msn_kernels_test" --version >/dev/null 2>&1; then
  echo "prebuilt binaries in $bin do not run here; building instead"
  bin=
fi
if [ -z "$bin" ]; then
  build=$root/trt-plugins/target/gpu-build
  arch=${MSN_CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)}
  cmake -S "$root/trt-plugins/src/main/native" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" >"$out/cmake.log" 2>&1 &&
    cmake --build "$build" -j "$(nproc)" >>"$out/cmake.log" 2>&1 || { tail -30 "$out/cmake.log"; exit 2; }
  bin=$build
fi

if command -v cuobjdump >/dev/null; then
  cuobjdump --dump-resource-usage "$bin/msn_kernels_test" 2>/dev/null |
    grep -E "Function|REG" | paste - - | sed -E 's/ +/ /g' | grep -E "pkm|Gather" >"$out/resource-usage.txt"
fi

echo "== plugin ABI test (with GPU enqueue)"
"$bin/msn_plugin_abi_test" "$bin/libmsn_trt_plugins.so" --gpu 2>"$out/abi-test.stderr" | tee "$out/abi-test.log" || status=1

echo "== kernel checks and timings"
timeout "${MSN_HARNESS_TIMEOUT:-480}" "$bin/msn_kernels_test" --csv "$out/timings.csv" "$@" 2>&1 |
  tee "$out/kernels.log" || status=1

if [ "${MSN_SANITIZE:-1}" != 0 ] && command -v compute-sanitizer >/dev/null; then
  echo "== compute-sanitizer memcheck over the quick checks"
  timeout "${MSN_SANITIZE_TIMEOUT:-300}" compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$bin/msn_kernels_test" --quick >"$out/memcheck.log" 2>&1 || status=1
  grep -E "ERROR SUMMARY|RESULT|FAIL" "$out/memcheck.log" | tail -5
fi
if [ "${MSN_NCU:-0}" = 1 ]; then
  if command -v ncu >/dev/null; then
    echo "== ncu: MsnLayer's product kernels (full set, 4 launches)"
    timeout "${MSN_NCU_TIMEOUT:-300}" ncu --set full -k regex:tf32x3Gemm -c 4 "$bin/msn_kernels_test" --profile --layer-only \
      >"$out/ncu-msn-layer.txt" 2>&1 || status=1
    grep -E "tf32x3Gemm|Duration|Compute \(SM\) Throughput|Memory Throughput|Issue Slots Busy|Achieved Occupancy" \
      "$out/ncu-msn-layer.txt" | head -40
  else
    echo "MSN_NCU=1: ncu is not on PATH here"; status=1
  fi
fi
exit $status
