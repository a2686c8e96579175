#!/usr/bin/env bash
# build-sif.sh APPTAINER_CACHE DEF OUT.sif NAME=VALUE...
#
# apptainer build OUT.sif DEF with each NAME=VALUE as a --build-arg, using
# the Apptainer of APPTAINER_CACHE/sid (prepare.sh). Every VALUE that is a
# path is bound into Apptainer's root. Writes a temporary file and renames
# it, so OUT.sif is either complete or absent. lz4 instead of gzip: building
# takes a fraction of the time (the kernel's squashfs and unsquashfs read
# both), and the image is only ever used on this machine.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ac=${1:?usage: build-sif.sh APPTAINER_CACHE DEF OUT.sif NAME=VALUE...}
def=${2:?} out=${3:?}
shift 3
binds=(--bind "$(dirname "$def")" --bind "$(dirname "$out")")
args=()
for kv in "$@"; do
    args+=(--build-arg "$kv")
    [ ! -e "${kv#*=}" ] || binds+=(--bind "${kv#*=}")
done
tmp=$out.tmp.$$
work=$(mktemp -d "$(dirname "$out")/build.XXXXXX")
trap 'rm -rf "$tmp" "$work"' EXIT
log=$work/build.log
# Apptainer's own temporary copy of the root goes next to the cache, not
# into a small /tmp.
if ! APPTAINER_TMPDIR=$work "$here/apptainer.sh" "$ac/sid" "${binds[@]}" --bind "$work" -- \
    build --force --mksquashfs-args '-comp lz4' "${args[@]}" "$tmp" "$def" >"$log" 2>&1; then
    printf 'build-sif.sh: apptainer build %s failed: %s\n' "$(basename "$def")" "$(grep -v '^INFO' "$log" | tail -n1)" >&2
    exit 1
fi
mv -f "$tmp" "$out"
