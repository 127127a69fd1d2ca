#!/usr/bin/env bash
# -Pgpu build step (distribution/pom.xml): WORK/gpu-native gets the native libraries TensorRT needs on
# a machine with only an NVIDIA driver, which the launcher puts on LD_LIBRARY_PATH (lib/native):
#  - libnvinfer*, libnvonnxparser (TensorRT 10.6) and libcudart.so.12, unpacked by Maven from the
#    JavaCPP redist jars into WORK/redist (only these five files, not the 3 GB of the whole jars);
#  - small stand-ins for cuBLAS, cuBLASLt, NVRTC and cuDNN. JavaCPP's TensorRT classes load the JNI
#    bindings of those libraries too (WORK/jni, from the cuda linux-x86_64 jar), and the real ones
#    are ~700 MB although TensorRT 10 never calls them unless their tactic sources are enabled
#    (msn-export never enables them). Each stand-in defines exactly the symbols the bindings import
#    and aborts with a message naming the function if one is ever called.
#   gpu-native.sh WORK
set -euo pipefail
work=$1
out=$work/gpu-native
trt=$work/redist/org/bytedeco/tensorrt/linux-x86_64
cuda=$work/redist/org/bytedeco/cuda/linux-x86_64
jni=$work/jni/org/bytedeco/cuda/linux-x86_64
rm -rf "$out" && mkdir -p "$out"
for f in "$trt/libnvinfer.so.10" "$trt/libnvinfer_builder_resource.so.10.6.0" "$trt/libnvinfer_plugin.so.10" \
  "$trt/libnvonnxparser.so.10" "$cuda/libcudart.so.12"; do
  [[ -s $f ]] || { echo "gpu-native: $f is missing (not unpacked from its redist jar)" >&2; exit 1; }
  cp "$f" "$out/"
done

# libnvinfer_builder_resource.so.10.6.0 asks for an executable stack (ELF PT_GNU_STACK with PF_X),
# which it does not need: the JVM warns when loading it ("might have disabled stack guard") and
# glibc 2.41 and newer refuse to dlopen it. Clear the flag, as `execstack -c` would.
clear_execstack() { # ELF64 little-endian file
  local f=$1 phoff phentsize phnum i off flags
  [[ $(od -An -tx1 -N6 "$f" | tr -d ' \n') == 7f454c460201 ]] || { echo "gpu-native: $f is not an ELF64 LE file" >&2; exit 1; }
  phoff=$(od -An -tu8 -j32 -N8 "$f" | tr -d ' ')
  phentsize=$(od -An -tu2 -j54 -N2 "$f" | tr -d ' ')
  phnum=$(od -An -tu2 -j56 -N2 "$f" | tr -d ' ')
  for ((i = 0; i < phnum; i++)); do
    off=$((phoff + i * phentsize))
    if [[ $(od -An -tx4 -j$off -N4 "$f" | tr -d ' ') == 6474e551 ]]; then # PT_GNU_STACK
      flags=$(od -An -tu1 -j$((off + 4)) -N1 "$f" | tr -d ' ')
      if ((flags & 1)); then
        printf "\\x$(printf %02x $((flags & ~1)))" | dd of="$f" bs=1 seek=$((off + 4)) conv=notrunc status=none
        echo "gpu-native: $(basename "$f"): executable-stack flag cleared"
      fi
    fi
  done
}
for f in "$out"/*; do clear_execstack "$f"; done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# JNI binding : library it imports from (the cuDNN 9 sub-libraries, and libcudnn.so.9 itself, which
# the bindings only need to exist)
for pair in libjnicublas.so:libcublas.so.12 libjnicublas.so:libcublasLt.so.12 libjninvrtc.so:libnvrtc.so.12 \
  libjnicudnn.so:libcudnn_adv.so.9 libjnicudnn.so:libcudnn_cnn.so.9 libjnicudnn.so:libcudnn_graph.so.9 \
  libjnicudnn.so:libcudnn_ops.so.9 -:libcudnn.so.9; do
  lib=${pair%%:*} so=${pair##*:}
  if [[ $lib == - ]]; then
    : >"$tmp/syms"
  else
    [[ -s $jni/$lib ]] || { echo "gpu-native: $jni/$lib is missing (not unpacked from the cuda linux-x86_64 jar)" >&2; exit 1; }
    nm -D --undefined-only --with-symbol-versions "$jni/$lib" |
      awk -v v="@$so" '$NF ~ v"$" {sub(/@.*/, "", $NF); print $NF}' | sort -u >"$tmp/syms"
  fi
  {
    echo '#include <stdio.h>'
    echo '#include <stdlib.h>'
    echo "static void missing(const char *f) { fprintf(stderr, \"msn-export: %s of $so was called, but this is a stand-in \"
      \"(TensorRT uses it only with cuBLAS/cuDNN tactic sources enabled): install the real $so and put it on LD_LIBRARY_PATH \"
      \"before lib/native\\n\", f); abort(); }"
    echo 'void msn_stand_in(void) {}'
    while read -r sym; do echo "void $sym(void) { missing(\"$sym\"); }"; done <"$tmp/syms"
  } >"$tmp/s.c"
  { echo "$so {"; echo " global:"; echo "  msn_stand_in;"; sed 's/^/  /; s/$/;/' "$tmp/syms"; echo " local: *;"; echo "};"; } >"$tmp/s.map"
  "${CC:-cc}" -shared -fPIC -O1 -w -o "$out/$so" -Wl,-soname,"$so" -Wl,--version-script,"$tmp/s.map" "$tmp/s.c"
  echo "gpu-native: stand-in $so ($(wc -l <"$tmp/syms") symbols)"
done
du -sh "$out"
