#!/usr/bin/env bash
# ctest lab.suite-in-apptainer: the core and faults suites run with ctest
# inside a real Apptainer container, as the course's users run them:
#   apptainer exec --bind SRC --bind BUILD ctest.sif sh -c 'cd BUILD && ctest ...'
# from the test-suite image (Debian 12, cmake/ctest, the C++ runtime;
# lab/apptainer/ctest.def), once as root and once as user nobody
# (Apptainer's unprivileged user-namespace mode). Prints ctest's own summary
# lines and the reason of every case that skips inside. If the image cannot
# be had (no Debian archive, Apptainer cannot run here) the test is skipped
# (77) with the reason.
#
# The inner ctest gets a private directory over <build>/Testing (the outer
# ctest keeps its own log there). link.* is left out: those tests compile
# into fixed directories of the shared build tree that the outer run uses.
#
# usage: suite_in_apptainer.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$(cd "${1:?usage: suite_in_apptainer.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?}" && pwd)
cache=${ISOPROBE_LAB_CACHE:-$src/.lab-cache}
labels='core|faults'
exclude='^link\.'

work=$(mktemp -d "${TMPDIR:-/tmp}/isoprobe-inapptainer.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

# The image (built once, cached; concurrent users of the cache take turns).
mkdir -p "$cache"
t0=$EPOCHREALTIME
if ! flock "$cache/.apptainer.lock" "$src/lab/apptainer/prepare.sh" "$cache" >"$work/prepare.out" 2>&1; then
    grep -v '^apptainer-prepare:' "$work/prepare.out" | tail -n1 | sed 's/^prepare.sh: unavailable: /SKIP: /'
    grep -q 'unavailable' "$work/prepare.out" && exit 77
    cat "$work/prepare.out"
    exit 1
fi
ac=$(cd "$cache/apptainer" && pwd)
sif=$ac/ctest.sif
echo "image: $(readlink -f "$sif") ($(cat "$ac/version"); ready after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s)"

ran=0 failed=0
inner='cd "$1" && ctest -L "$2" -E "$3" -j2 --output-on-failure; rc=$?; cp Testing/Temporary/LastTest.log "$4"; exit $rc'

# shellcheck source=inner_ctest_report.sh
. "$(dirname "${BASH_SOURCE[0]}")/inner_ctest_report.sh"

# in_apptainer LABEL USER(empty: root) : one inner ctest run.
in_apptainer() {
    local label=$1 user=$2 d=$work/$3 t=$EPOCHREALTIME
    local -a as=()
    mkdir -p "$d/testing" "$d/tmp"
    if [ -n "$user" ]; then
        as=(--as "$user")
        chown -R "$user" "$d"
    fi
    # Apptainer's scratch space (the unprivileged run unpacks the image
    # there) and TMPDIR inside stay in this test's directory.
    APPTAINER_TMPDIR=$d/tmp "$src/lab/apptainer/apptainer.sh" "$ac/sid" "${as[@]}" \
        --bind "$src" --bind "$build" --bind "$ac" -- \
        exec --bind "$src" --bind "$build" --bind "$d/testing:$build/Testing" --env "TMPDIR=$d/tmp" \
        "$sif" bash -c "$inner" _ "$build" "$labels" "$exclude" "$d/out.log" >"$d/out" 2>&1
    local status=$?
    cp "$d/out.log" "$work/$3.out.log" 2>/dev/null
    report "$label ($(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s)" "$status" "$d/out"
}

in_apptainer "apptainer exec, as root" "" root
if [ "$(id -u)" != 0 ]; then
    echo "apptainer exec, as nobody: skipped: needs root to switch to user nobody (this run is already unprivileged: $(id -un))"
elif ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$build/CTestTestfile.cmake" -a -x "$build"; then
    echo "apptainer exec, as nobody: skipped: user nobody cannot read the build tree $build"
elif ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$sif" -a -x "$ac/sid/usr/bin/apptainer"; then
    echo "apptainer exec, as nobody: skipped: user nobody cannot reach the cache $ac (a parent directory is not searchable)"
else
    in_apptainer "apptainer exec, as nobody (unprivileged, user-namespace mode)" nobody nobody
fi

if ((failed)); then exit 1; fi
((ran)) || { echo "SKIP: no Apptainer run was possible here"; exit 77; }
exit 0
