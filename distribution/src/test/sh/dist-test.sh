#!/usr/bin/env bash
# The release tarball as a user meets it: unpacked into an empty directory, run from another empty
# directory, directly and through symlinks; its bash completion sourced and asked for candidates.
#   dist-test.sh TARBALL GPU [CHECKOUT_LAUNCHER]
#     GPU=true for a -Pgpu tarball: also its TensorRT files, and the message of `build` on a machine
#     without a GPU; CHECKOUT_LAUNCHER: the checkout's ./msn-export, also run through a symlink
# Run by Maven's integration-test phase of distribution/ (skipped by -DskipTests).
set -euo pipefail
tarball=$1 gpu=${2:-false} checkout_launcher=${3:-}
fail() { echo "dist-test: FAIL: $*" >&2; exit 1; }
ok() { echo "dist-test: ok: $*"; }
[[ -s $tarball ]] || fail "no tarball at $tarball"
[[ -z $checkout_launcher ]] || checkout_launcher=$(readlink -f "$checkout_launcher")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/unpack" "$tmp/cwd" "$tmp/links"
tar -xzf "$tarball" -C "$tmp/unpack"
top=$(ls "$tmp/unpack")
[[ $(wc -l <<<"$top") == 1 ]] || fail "the tarball has more than one top directory: $top"
home=$tmp/unpack/$top
name=$(basename "$tarball" .tar.gz)
[[ $top == "$name" ]] || fail "top directory $top, expected $name"

# --- contents
for f in bin/msn-export native/libmsn_ort_ops.so share/bash-completion/completions/msn-export \
  share/man/man1/msn-export.1 share/man/man1/msn-export-pipeline.1 share/man/man1/msn-export-verify.1 README.md LICENSE; do
  [[ -s $home/$f ]] || fail "$f is missing"
done
[[ -x $home/bin/msn-export ]] || fail "bin/msn-export is not executable"
if [[ $gpu != true ]]; then
  [[ ! -e $home/lib/native ]] || fail "lib/native (the GPU libraries) in a tarball built without -Pgpu"
  ! compgen -G "$home/lib/*-linux-x86_64.jar" >/dev/null || fail "linux-x86_64 JNI jars in a tarball built without -Pgpu"
fi
for j in picocli onnxruntime jackson-databind cli verifier exporter core profiles onnx-custom-ops trt-plugins trt-runtime; do
  compgen -G "$home/lib/$j-[0-9]*.jar" >/dev/null || fail "lib/ has no $j jar"
done
! compgen -G "$home/lib/picocli-codegen-*.jar" >/dev/null || fail "lib/ holds picocli-codegen (build time only)"
grep -q 'MIT License' "$home/LICENSE" && grep -q 'msn-export contributors' "$home/LICENSE" || fail "LICENSE is not the MIT license of msn-export contributors"
head -20 "$home/share/man/man1/msn-export.1" | grep -q '^\.TH "MSN' || fail "msn-export.1 is not a troff man page"
grep -q 'pipeline' "$home/share/man/man1/msn-export.1" || fail "msn-export.1 does not list the subcommands"
# the plugin library is in the tarball exactly when the trt-plugins jar has it (CUDA built)
unzip -l "$(compgen -G "$home/lib/trt-plugins-[0-9]*.jar")" >"$tmp/trt-plugins.list"
if grep -q 'native/linux-x86_64/libmsn_trt_plugins.so' "$tmp/trt-plugins.list"; then
  [[ -s $home/native/libmsn_trt_plugins.so ]] || fail "native/libmsn_trt_plugins.so is missing"
else
  [[ ! -e $home/native/libmsn_trt_plugins.so ]] || fail "native/libmsn_trt_plugins.so without CUDA?"
  echo "dist-test: note: CUDA plugin library was skipped in this build (no native/libmsn_trt_plugins.so)"
fi
ok "contents"

# --- runs from an empty directory, directly and through a chain of symlinks
cd "$tmp/cwd"
"$home/bin/msn-export" --help >"$tmp/help.txt" || fail "bin/msn-export --help exited $?"
grep -q 'Usage: msn-export' "$tmp/help.txt" || fail "--help printed no usage"
ln -s "$home/bin/msn-export" "$tmp/links/real-link"
ln -s real-link "$tmp/links/msn-export"
"$tmp/links/msn-export" --help >/dev/null || fail "--help through a symlink exited $?"
"$home/bin/msn-export" pipeline --out "$tmp/out" || fail "bin/msn-export pipeline exited $?"
[[ -s $tmp/out/verify.json && -s $tmp/out/model/model.custom.onnx ]] || fail "pipeline wrote no verify.json / model"
"$tmp/links/msn-export" pipeline --out "$tmp/out-link" --backends golden,ort-custom || fail "pipeline through a symlink exited $?"
[[ -s $tmp/out-link/verify.json ]] || fail "pipeline through a symlink wrote no verify.json"
if [[ -n $checkout_launcher ]]; then
  ln -s "$checkout_launcher" "$tmp/links/checkout-msn-export"
  "$tmp/links/checkout-msn-export" --version >"$tmp/version.txt" && grep -q '^msn-export ' "$tmp/version.txt" || fail "the checkout's ./msn-export through a symlink failed"
fi
[[ -z $(ls -A "$tmp/cwd") ]] || fail "the commands wrote into the working directory: $(ls -A "$tmp/cwd")"
ok "--help and pipeline, directly and through symlinks"

# --- bash completion: sourced, then asked as bash asks it (COMP_WORDS / COMP_CWORD)
bash --norc --noprofile -c '
  set -u
  source "$1"
  spec=$(complete -p msn-export) || { echo "no completion registered for msn-export"; exit 1; }
  fn=$(sed -E "s/.*-F ([^ ]+) .*/\1/" <<<"$spec")
  ask() { # expected... -- words...
    local want=() w
    while [[ $1 != -- ]]; do want+=("$1"); shift; done; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
    "$fn" msn-export "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null || true
    for w in "${want[@]}"; do
      printf "%s\n" "${COMPREPLY[@]}" | sed "s/ *$//" | grep -qxF -- "$w" || { echo "completing [$*]: no $w in [${COMPREPLY[*]}]"; exit 1; }
    done
  }
  ask pipeline verify build bench export inspect -- msn-export ""
  ask verify -- msn-export ver
  ask --values-dtype --external-data -- msn-export export --
  ask fp32 fp16 bf16 int8 fp8 -- msn-export export --values-dtype ""
  ask auto always never -- msn-export export --external-data ""
  ask fp32 fp16 -- msn-export build --precision ""
  ask custom reference -- msn-export build --graph ""
  ask golden ort-reference ort-custom trt trt:fp16 -- msn-export verify --backends ""
  ask tiny small paper large -- msn-export pipeline --profile ""
  ask fp16 -- msn-export pipeline --values-dtype fp1
' completion-test "$home/share/bash-completion/completions/msn-export" || fail "bash completion"
ok "bash completion of subcommands, options and option values"

# --- TensorRT: without a GPU, `build` is bad input (exit 4) whose message names the real steps
set +e
"$home/bin/msn-export" build --model "$tmp/out/model" --profile tiny 2>"$tmp/build.err"
code=$?
set -e
cat "$tmp/build.err" >&2
[[ $code == 4 ]] || fail "build without a GPU exited $code, expected 4"
grep -q 'TensorRT is not available on this machine' "$tmp/build.err" || fail "build: no 'TensorRT is not available' message"
grep -q -- '-Pgpu' "$tmp/build.err" || fail "build: the message does not name the -Pgpu distribution"
ok "build without a GPU: exit 4 with the steps to take"

if [[ $gpu == true ]]; then
  for f in libnvinfer.so.10 libnvinfer_builder_resource.so.10.6.0 libnvinfer_plugin.so.10 libnvonnxparser.so.10 libcudart.so.12 \
    libcublas.so.12 libcublasLt.so.12 libnvrtc.so.12 libcudnn.so.9 libcudnn_adv.so.9 libcudnn_cnn.so.9 libcudnn_graph.so.9 \
    libcudnn_ops.so.9; do
    [[ -s $home/lib/native/$f ]] || fail "lib/native/$f is missing"
  done
  for j in tensorrt cuda javacpp; do
    compgen -G "$home/lib/$j-*-linux-x86_64.jar" >/dev/null || fail "lib/ has no $j linux-x86_64 jar"
  done
  ! compgen -G "$home/lib/*-redist.jar" >/dev/null || fail "lib/ holds a whole redist jar"
  # stand-ins: small, and they define what the JNI bindings import
  for f in libcublas.so.12 libnvrtc.so.12 libcudnn.so.9; do
    (($(stat -c %s "$home/lib/native/$f") < 1000000)) || fail "lib/native/$f is not a small stand-in"
  done
  for f in "$home"/lib/native/*; do
    readelf -lW "$f" >"$tmp/phdrs"
    ! grep -Eq 'GNU_STACK.* RWE ' "$tmp/phdrs" || fail "lib/native/${f##*/} asks for an executable stack"
  done
  nm -D --defined-only "$home/lib/native/libcublas.so.12" >"$tmp/cublas.syms"
  grep -q ' cublasCreate_v2@' "$tmp/cublas.syms" || fail "the cuBLAS stand-in lacks cublasCreate_v2"
  # The libraries load from lib/native: the probe gets past loading TensorRT and stops at the GPU.
  # Without a driver (libcuda.so.1) the CUDA bindings cannot load at all, which the message says;
  # an empty stand-in driver library then lets them load, and the probe must stop at the GPU.
  ldconfig -p >"$tmp/ldconfig.txt" 2>/dev/null || true
  if ! grep -q 'libcuda\.so\.1 ' "$tmp/ldconfig.txt"; then
    grep -q 'no NVIDIA driver: libcuda.so.1 is not found' "$tmp/build.err" || fail "build: the message does not say the driver is missing"
    mkdir -p "$tmp/fake-driver"
    echo 'void msn_no_driver(void) {}' >"$tmp/fake-driver/d.c"
    "${CC:-cc}" -shared -fPIC -o "$tmp/fake-driver/libcuda.so.1" -Wl,-soname,libcuda.so.1 "$tmp/fake-driver/d.c"
    set +e
    LD_LIBRARY_PATH=$tmp/fake-driver "$home/bin/msn-export" build --model "$tmp/out/model" --profile tiny 2>"$tmp/build.err"
    code=$?
    set -e
    cat "$tmp/build.err" >&2
    [[ $code == 4 ]] || fail "build with a stand-in driver exited $code, expected 4"
  fi
  ! grep -q 'cannot load the TensorRT libraries\|no NVIDIA driver' "$tmp/build.err" || fail "TensorRT did not load from lib/native"
  grep -q 'GPU' "$tmp/build.err" || fail "build: the message does not say the GPU is missing"
  ! grep -q 'disabled stack guard' "$tmp/build.err" || fail "the JVM warned about an executable-stack library"
  ok "GPU files ($(ls "$home/lib/native" | wc -l) libraries in lib/native, linux-x86_64 jars); TensorRT loads from lib/native, no GPU here"
fi
echo "dist-test: PASS ($name)"
