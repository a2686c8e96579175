#!/usr/bin/env bash
# The README's demo: installs what it needs, builds the course-style programs
# with CMake, and runs the environment lab with one server on the host, one in
# a container, one in a real Apptainer container and one in a QEMU virtual
# machine (lab/run; see lab/README.md). Where Apptainer cannot be had (no
# Debian archive, not root), it says why and runs the other three.
#
#   scripts/demo.sh                      host:1 container:1 apptainer:1 vm:1
#   scripts/demo.sh host:2 vm:1          any lab/run arguments
#
# Build directory: $ISOPROBE_BUILD_DIR, default build/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup.sh

build=${ISOPROBE_BUILD_DIR:-build/demo}
log=$(mktemp "${TMPDIR:-/tmp}/isoprobe-demo-build.XXXXXX")
trap 'rm -f "$log"' EXIT
echo "demo: building course_server, course_client, course_server_static in $build"
if ! { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    && cmake --build "$build" -j"$(nproc)" --target course_server course_client course_server_static; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "demo: build failed" >&2
    exit 1
fi

if (($#)); then
    exec lab/run --build-dir "$build" "$@"
fi
rc=0
lab/run --build-dir "$build" host:1 container:1 apptainer:1 vm:1 2> >(tee "$log" >&2) || rc=$?
wait # for tee
if [ "$rc" = 77 ] && grep -q '^lab: unavailable: apptainer' "$log"; then
    echo "demo: Apptainer cannot run here ($(sed -n 's/^lab: unavailable: apptainer: //p' "$log" | head -n1)); the lab without it:"
    exec lab/run --build-dir "$build" host:1 container:1 vm:1
fi
exit "$rc"
