#!/usr/bin/env bash
# scripts/gpu-dist-split.sh on a small tarball: split into small parts, join elsewhere with no zstd on
# PATH (the shipped copy is used), the result is the original content; a damaged or missing part fails.
#   split-test.sh SCRIPT    (run by Maven's integration-test phase of distribution/)
set -euo pipefail
script=$(readlink -f "$1")
fail() { echo "split-test: FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/msn-export-x-gpu/lib" "$tmp/other"
head -c 3000000 /dev/urandom >"$tmp/src/msn-export-x-gpu/lib/random.bin"
seq 1 400000 >"$tmp/src/msn-export-x-gpu/lib/text.txt"
tar -czf "$tmp/msn-export-x-gpu.tar.gz" -C "$tmp/src" msn-export-x-gpu
MSN_SPLIT_PART_BYTES=1000000 MSN_SPLIT_ZSTD_LEVEL=3 bash "$script" split "$tmp/msn-export-x-gpu.tar.gz" "$tmp/parts"
n=$(ls "$tmp/parts"/part-* | wc -l)
((n >= 3)) || fail "expected several parts, got $n"
for p in "$tmp/parts"/part-*; do (($(stat -c %s "$p") <= 1000000)) || fail "$p is larger than the part size"; done
grep -q '^mode=zst$' "$tmp/parts/MANIFEST" || fail "zstd did not make it smaller?"
[[ -x $tmp/parts/zstd-bin/zstd && -s $tmp/parts/gpu-dist-split.sh ]] || fail "no zstd copy or script beside the parts"

# the other machine: only the parts directory, no zstd on PATH
cp -r "$tmp/parts" "$tmp/other/parts"
nozstd=$tmp/nozstd-bin
mkdir -p "$nozstd"
for c in bash cat sha256sum cut sed mkdir mv rm env stat ls tar gzip dirname basename; do ln -s "$(command -v "$c")" "$nozstd/$c"; done
(cd "$tmp/other" && PATH=$nozstd bash parts/gpu-dist-split.sh join parts out) || fail "join exited $?"
mkdir -p "$tmp/x" && tar -xf "$tmp/other/out/msn-export-x-gpu.tar" -C "$tmp/x"
cmp "$tmp/x/msn-export-x-gpu/lib/random.bin" "$tmp/src/msn-export-x-gpu/lib/random.bin" || fail "joined content differs"
cmp "$tmp/x/msn-export-x-gpu/lib/text.txt" "$tmp/src/msn-export-x-gpu/lib/text.txt" || fail "joined content differs"

# a damaged part, and a missing one, fail loudly and leave no result
printf 'x' | dd of="$tmp/other/parts/part-001" bs=1 seek=100 conv=notrunc status=none
rm -rf "$tmp/other/out"
if (cd "$tmp/other" && bash parts/gpu-dist-split.sh join parts out 2>/dev/null); then fail "join passed with a damaged part"; fi
[[ ! -e $tmp/other/out/msn-export-x-gpu.tar ]] || fail "a result was left after a failed join"
cp "$tmp/parts/part-001" "$tmp/other/parts/part-001" && rm "$tmp/other/parts/part-002"
if (cd "$tmp/other" && bash parts/gpu-dist-split.sh join parts out 2>/dev/null); then fail "join passed with a missing part"; fi

# where zstd is missing (or does not help), the gzip tarball is split as it is; relative paths work
nozstd_split=$tmp/nozstd-split-bin
mkdir -p "$nozstd_split"
for c in bash cat sha256sum cut sed mkdir mv rm env stat ls gzip dirname basename split du readlink wc cp mktemp; do
  ln -s "$(command -v "$c")" "$nozstd_split/$c"
done
(cd "$tmp" && PATH=$nozstd_split MSN_SPLIT_PART_BYTES=1000000 bash "$script" split msn-export-x-gpu.tar.gz gz-parts) || fail "split without zstd exited $?"
grep -q '^mode=gz$' "$tmp/gz-parts/MANIFEST" || fail "split without zstd did not keep the gzip tarball"
(cd "$tmp/gz-parts" && PATH=$nozstd_split bash gpu-dist-split.sh join . ../gz-out) || fail "join of gzip parts exited $?"
cmp "$tmp/gz-out/msn-export-x-gpu.tar.gz" "$tmp/msn-export-x-gpu.tar.gz" || fail "joined gzip tarball differs from the original"
echo "split-test: PASS ($n parts)"
