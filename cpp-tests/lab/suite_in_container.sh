#!/usr/bin/env bash
# ctest lab.suite-in-container: the core and faults suites, run ctest-style
# inside a container, as CI in Singularity-like containers would run them:
#   1. a rootless container: unshare --user --map-root-user --ipc --mount
#      (uid 0 of a user namespace that maps only itself, own IPC namespace);
#   2. user nobody inside bwrap (--unshare-user --unshare-ipc --unshare-uts).
# Each must pass; the tests that need something such a container cannot give
# skip themselves with a printed reason. A mode that cannot start here is
# reported as skipped; if no mode can start, the test is skipped (77).
#
# The inner ctest gets a private tmpfs over <build>/Testing (the outer ctest
# keeps its own log there). link.* is left out: those tests compile into
# fixed directories of the shared build tree that the outer run is using.
#
# usage: suite_in_container.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: suite_in_container.sh BUILD_DIR}
build=$(cd "$build" && pwd)
labels='core|faults'
exclude='^link\.'

work=$(mktemp -d "${TMPDIR:-/tmp}/isoprobe-incontainer.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

ran=0 failed=0
# run_ctest LOG: the inner run (in the build tree); keeps ctest's full log
# (LastTest.log, on the private tmpfs) as LOG for the skip reasons.
inner='cd "$1" && ctest -L "$2" -E "$3" -j2 --output-on-failure; rc=$?; cp Testing/Temporary/LastTest.log "$4"; exit $rc'

# shellcheck source=inner_ctest_report.sh
. "$(dirname "${BASH_SOURCE[0]}")/inner_ctest_report.sh"

# 1. Rootless container with its own IPC namespace.
if unshare --user --map-root-user --ipc --mount true 2>"$work/unshare.err"; then
    unshare --user --map-root-user --ipc --mount -- bash -c 'mount -t tmpfs tmpfs "$1/Testing" || exit 1; '"$inner" \
        _ "$build" "$labels" "$exclude" "$work/userns.out.log" >"$work/userns.out" 2>&1
    report "unshare --user --map-root-user --ipc --mount" $? "$work/userns.out"
else
    echo "unshare --user --map-root-user --ipc --mount: skipped: $(head -n1 "$work/unshare.err")"
fi

# 2. An unprivileged user inside bwrap.
if [ "$(id -u)" != 0 ]; then
    echo "nobody in bwrap: skipped: needs root to switch to user nobody (this run is already unprivileged: $(id -un))"
elif ! command -v bwrap >/dev/null || ! command -v setpriv >/dev/null; then
    echo "nobody in bwrap: skipped: bwrap or setpriv not installed"
else
    mkdir -p "$work/nobody" && chown nobody "$work/nobody"
    as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups env TMPDIR="$work/nobody" HOME="$work/nobody")
    sandbox=(bwrap --dev-bind / / --tmpfs "$build/Testing" --unshare-user --unshare-ipc --unshare-uts --chdir "$build")
    if ! "${as_nobody[@]}" test -r "$build/CTestTestfile.cmake" -a -x "$build"; then
        echo "nobody in bwrap: skipped: user nobody cannot read the build tree $build"
    elif ! "${as_nobody[@]}" "${sandbox[@]}" true 2>"$work/bwrap.err"; then
        echo "nobody in bwrap: skipped: $(head -n1 "$work/bwrap.err")"
    else
        "${as_nobody[@]}" "${sandbox[@]}" -- bash -c "$inner" _ "$build" "$labels" "$exclude" \
            "$work/nobody/bwrap.out.log" >"$work/bwrap.out" 2>&1
        mv "$work/nobody/bwrap.out.log" "$work/bwrap.out.log" 2>/dev/null
        report "nobody in bwrap --unshare-user --unshare-ipc" $? "$work/bwrap.out"
    fi
fi

if ((failed)); then exit 1; fi
if ((ran == 0)); then
    echo "SKIP: no container mechanism could start here"
    exit 77
fi
exit 0
