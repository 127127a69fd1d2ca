#!/usr/bin/env bash
# CUDA is optional (src/main/native/CMakeLists.txt): configure the native build without a CUDA
# compiler, and with MSN_CUDA_SKIP=ON while one may exist; each time CMake must succeed, print
# the one SKIPPED line, and generate no CUDA target and no test.
#   cuda-optional-test.sh NATIVE_SOURCE_DIR WORK_DIR   (run by Maven's test phase of trt-plugins)
set -euo pipefail
src=$1 work=$2
fail() { echo "cuda-optional-test: FAIL: $*" >&2; exit 1; }
cmake=$(command -v cmake) ctest=$(command -v ctest)
rm -rf "$work" && mkdir -p "$work"

check_skipped() { # build dir, log, expected reason
  grep -q "msn-export: CUDA plugin library libmsn_trt_plugins.so SKIPPED ($3)" "$2" || fail "no SKIPPED line with '$3' in $2"
  [[ $(grep -c 'SKIPPED' "$2") == 1 ]] || fail "more than one SKIPPED line in $2"
  "$cmake" --build "$1" >"$2.build" 2>&1 || fail "building the skipped project failed: $(cat "$2.build")"
  ! compgen -G "$1/*msn_trt_plugins*" >/dev/null || fail "a plugin library was built in $1"
  (cd "$1" && "$ctest" --output-on-failure >"$2.ctest" 2>&1) || fail "ctest failed: $(cat "$2.ctest")"
  grep -q 'No tests were found' "$2.ctest" || fail "ctest found tests in $1: $(cat "$2.ctest")"
}

# 1. -Dmsn.cuda.skip=true, whatever compilers this machine has
"$cmake" -S "$src" -B "$work/skip" -DMSN_CUDA_SKIP=ON >"$work/skip.log" 2>&1 || fail "configure with MSN_CUDA_SKIP=ON failed: $(cat "$work/skip.log")"
check_skipped "$work/skip" "$work/skip.log" "-Dmsn.cuda.skip=true"

# 2. no CUDA compiler: a PATH with the C++ toolchain and cmake but without nvcc, CUDACXX unset
bin=$work/bin
mkdir -p "$bin"
for t in c++ g++ gcc cc ld as ar ranlib make gmake ninja uname sh bash; do
  p=$(command -v "$t" || true)
  [[ -n $p ]] && ln -sf "$p" "$bin/$t"
done
[[ ! -e $bin/nvcc ]] || fail "nvcc leaked into the test PATH"
env -u CUDACXX -u CUDA_PATH -u CUDA_HOME PATH="$bin" "$cmake" -S "$src" -B "$work/none" >"$work/none.log" 2>&1 ||
  fail "configure without a CUDA compiler failed: $(cat "$work/none.log")"
check_skipped "$work/none" "$work/none.log" "no CUDA compiler found (nvcc on PATH or CUDACXX)"
# 3. where this machine has nvcc: the same build folder, configured again, finds it now (nothing
#    cached from the configure without it) and generates the plugin library and its test
if [[ -n ${CUDACXX:-} ]] || command -v nvcc >/dev/null; then
  "$cmake" -S "$src" -B "$work/none" >"$work/again.log" 2>&1 || fail "configure with nvcc failed: $(cat "$work/again.log")"
  ! grep -q 'SKIPPED' "$work/again.log" || fail "CUDA still skipped with nvcc on PATH: $(cat "$work/again.log")"
  (cd "$work/none" && "$ctest" -N >"$work/again.ctest") && grep -q 'msn_plugin_abi_test' "$work/again.ctest" ||
    fail "no ABI test generated with nvcc: $(cat "$work/again.ctest")"
else
  echo "cuda-optional-test: note: no nvcc here, the configure with CUDA is not checked"
fi
echo "cuda-optional-test: PASS (skipped with -Dmsn.cuda.skip=true and without nvcc, one line each, no target, no test)"
