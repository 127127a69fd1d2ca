#!/usr/bin/env bash
# Moves the -Pgpu distribution (about 1.2 GB) to a GPU machine in parts of at most 60 MB.
#
#   gpu-dist-split.sh split TARBALL [DIR]   here: DIR (default TARBALL without .tar.gz, plus .parts) gets
#                                           part-000, part-001, ..., SHA256SUMS, this script, and a copy
#                                           of zstd (with the libraries it needs) for a machine without it
#   gpu-dist-split.sh join DIR [OUTDIR]     there: checks every part, reassembles, checks the SHA-256 of
#                                           the result, and writes OUTDIR/NAME.tar (or NAME.tar.gz)
#
# split recompresses the tarball with zstd -19 --long=27 when that makes it smaller (it does for the
# GPU libraries: about a third less than gzip; this takes a while on few cores), else splits it as it is.
# MSN_SPLIT_PART_BYTES (default 60000000) and MSN_SPLIT_ZSTD_LEVEL (default 19) change the part size and level.
set -euo pipefail
PART_BYTES=${MSN_SPLIT_PART_BYTES:-60000000}
LEVEL=${MSN_SPLIT_ZSTD_LEVEL:-19}
die() { echo "gpu-dist-split: $*" >&2; exit 1; }
sha() { sha256sum | cut -d' ' -f1; }

split_() {
  local tarball=$1 name dir payload mode tmp
  [[ -s $tarball && $tarball == *.tar.gz ]] || die "split needs a .tar.gz, got '$tarball'"
  tarball=$(readlink -f "$tarball")
  name=$(basename "$tarball" .tar.gz)
  dir=${2:-$(dirname "$tarball")/$name.parts}
  dir=$(readlink -m "$dir")
  rm -rf "$dir" && mkdir -p "$dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  local tar_sha; tar_sha=$(gzip -dc "$tarball" | sha)
  mode=gz payload=$tarball
  if command -v zstd >/dev/null; then
    echo "gpu-dist-split: compressing with zstd -$LEVEL --long=27 ..." >&2
    gzip -dc "$tarball" | zstd -T0 "-$LEVEL" --long=27 -q -o "$tmp/$name.tar.zst"
    if (($(stat -c %s "$tmp/$name.tar.zst") < $(stat -c %s "$tarball"))); then
      mode=zst payload=$tmp/$name.tar.zst
      # a zstd that runs where none is installed: the binary and the shared libraries it needs besides libc
      mkdir -p "$dir/zstd-bin"
      cp "$(command -v zstd)" "$dir/zstd-bin/zstd"
      ldd "$(command -v zstd)" | awk '$3 ~ /^\// {print $3}' | grep -Ev '/(libc|libm|libpthread|libdl|ld-linux[^/]*)\.so' |
        while read -r lib; do cp "$lib" "$dir/zstd-bin/"; done
    fi
  else
    echo "gpu-dist-split: no zstd here, splitting the gzip tarball as it is" >&2
  fi
  (cd "$dir" && split -b "$PART_BYTES" -d -a 3 - part- <"$payload" && sha256sum part-* >SHA256SUMS)
  { echo "name=$name"; echo "mode=$mode"; echo "payload_sha256=$(sha <"$payload")"; echo "tar_sha256=$tar_sha"
    echo "tarball_sha256=$(sha <"$tarball")"; } >"$dir/MANIFEST"
  cp "$(readlink -f "${BASH_SOURCE[0]}")" "$dir/gpu-dist-split.sh"
  echo "gpu-dist-split: $(ls "$dir"/part-* | wc -l) parts of at most $PART_BYTES bytes in $dir ($mode, $(du -sb "$dir" | cut -f1) bytes in all," \
    "from a $(stat -c %s "$tarball")-byte tarball); on the other machine: bash gpu-dist-split.sh join DIR"
}

join_() {
  local dir=${1:-} out=${2:-.} name mode payload_sha tar_sha tarball_sha z
  [[ -s $dir/MANIFEST && -s $dir/SHA256SUMS ]] || die "$dir has no MANIFEST/SHA256SUMS: copy all of the split directory"
  name=$(sed -n 's/^name=//p' "$dir/MANIFEST"); mode=$(sed -n 's/^mode=//p' "$dir/MANIFEST")
  payload_sha=$(sed -n 's/^payload_sha256=//p' "$dir/MANIFEST"); tar_sha=$(sed -n 's/^tar_sha256=//p' "$dir/MANIFEST")
  tarball_sha=$(sed -n 's/^tarball_sha256=//p' "$dir/MANIFEST")
  (cd "$dir" && sha256sum -c --quiet SHA256SUMS) || die "a part is missing or damaged (SHA256SUMS): copy it again"
  [[ $(cat "$dir"/part-* | sha) == "$payload_sha" ]] || die "the parts do not make up the payload (part missing from SHA256SUMS?)"
  mkdir -p "$out"
  if [[ $mode == zst ]]; then
    if command -v zstd >/dev/null; then z=(zstd); else z=(env "LD_LIBRARY_PATH=$dir/zstd-bin" "$dir/zstd-bin/zstd"); fi
    cat "$dir"/part-* | "${z[@]}" -d -q --long=27 -c >"$out/$name.tar.tmp"
    [[ $(sha <"$out/$name.tar.tmp") == "$tar_sha" ]] || { rm -f "$out/$name.tar.tmp"; die "the joined tar's SHA-256 is not the original's"; }
    mv -f "$out/$name.tar.tmp" "$out/$name.tar"
    echo "gpu-dist-split: $out/$name.tar (SHA-256 $tar_sha, as the original tarball's content); unpack: tar -xf $out/$name.tar"
  else
    cat "$dir"/part-* >"$out/$name.tar.gz.tmp"
    [[ $(sha <"$out/$name.tar.gz.tmp") == "$tarball_sha" ]] || { rm -f "$out/$name.tar.gz.tmp"; die "the joined tarball's SHA-256 is not the original's"; }
    mv -f "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
    echo "gpu-dist-split: $out/$name.tar.gz (SHA-256 $tarball_sha); unpack: tar -xzf $out/$name.tar.gz"
  fi
}

case ${1:-} in
  split) [[ $# -ge 2 ]] || die "usage: split TARBALL [DIR]"; split_ "$2" "${3:-}" ;;
  join) [[ $# -ge 2 ]] || die "usage: join DIR [OUTDIR]"; join_ "$2" "${3:-.}" ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
