#!/usr/bin/env bash
# prepare.sh [CACHE_DIR]
#
# Idempotently builds what the Apptainer part of the lab needs into
# CACHE_DIR/apptainer (CACHE_DIR defaults to <repo>/.lab-cache):
#   sid/          Debian unstable root holding apptainer 1.4 (Debian 12 has
#                 no apptainer package, and sid's needs a newer libc than the
#                 machine's: so it lives in a root of its own, run through
#                 apptainer.sh; the system's apt sources and libc are never
#                 touched)
#   course-root/  Debian 12 "essential" root plus libstdc++6: the base of
#                 the course server's image (build-sif.sh adds the server)
#   ctest-root/   the same plus cmake: the base of the test-suite image
#   ctest-<hash>.sif  that image, built from ctest.def
# Every part is built into a temporary name and renamed when complete, so an
# interrupted run leaves nothing half-made that a later run would trust. The
# caller holds a lock (lab/run: flock CACHE_DIR/.apptainer.lock).
# Prints one line per step. Exit codes: 0 ready, 77 something cannot be had
# here (reason on stderr: no mmdebstrap, not root, archive unreachable,
# Apptainer cannot run), 1 other failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=prepare.sh
say() { printf 'apptainer-prepare: %s\n' "$*"; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
unavailable() { printf '%s: unavailable: %s\n' "$prog" "$*" >&2; exit 77; }

[ $# -le 1 ] || die "usage: prepare.sh [CACHE_DIR]"
cache=${1:-$(cd "$here/../.." && pwd)/.lab-cache}
mkdir -p "$cache/apptainer" || die "cannot create $cache/apptainer"
ac=$(cd "$cache/apptainer" && pwd)
mirror=${ISOPROBE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# The archive's Release files can look expired to apt when the machine's
# clock is off: validity is not what this check is for (signatures still are).
common=(--aptopt='Acquire::Check-Valid-Until "false";'
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*')
sid_args=(--variant=apt --include=apptainer,squashfs-tools,uidmap,e2fsprogs,mount "${common[@]}" sid)
course_args=(--variant=essential --include=libstdc++6 "${common[@]}" bookworm)
ctest_args=(--variant=essential --include=libstdc++6,cmake,mount "${common[@]}" bookworm)

# stamp ARGS...: identifies a root by how it is made; a change rebuilds it.
stamp() { printf '%s\n' "$@" "$mirror" | sha256sum | cut -c1-16; }

# On any exit: stop the mmdebstraps still running (TERM lets each clean up
# after itself), then remove what they were building.
tmps=()
cleanup() {
    local t pids
    pids=$(jobs -pr)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086  # one pid per word
        kill -TERM $pids 2>/dev/null
        wait
    fi
    for t in "${tmps[@]}"; do rm -rf "$t"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# need_root NAME ARGS...: true if ROOT NAME must be (re)built.
need_root() {
    local name=$1
    shift
    [ "$(cat "$ac/$name/.complete" 2>/dev/null)" != "$(stamp "$@")" ]
}

# start_root NAME ARGS...: mmdebstrap into NAME.tmp in the background;
# sets pid_NAME. Roots are built in parallel (mostly download time).
start_root() {
    local name=$1
    shift
    rm -rf "$ac/$name.tmp" "$ac/$name.log"
    tmps+=("$ac/$name.tmp")
    t0=$EPOCHSECONDS
    say "$name: mmdebstrap $1 $2 ${*: -1} (about a minute)"
    # mmdebstrap mounts /proc, /sys and /dev inside the new root while it
    # works: in a mount namespace of its own those mounts end with it, also
    # when it is killed, and never show outside (nor under a later rm -rf).
    # Ten minutes is far beyond a normal run: a hung mirror is an unavailable one.
    timeout 600 unshare --mount --propagation private -- \
        mmdebstrap --quiet "$@" "$ac/$name.tmp" "$mirror" >"$ac/$name.log" 2>&1 &
    printf -v "pid_${name//-/_}" '%s' "$!"
}

# finish_root NAME ARGS...: waits for mmdebstrap, then renames the root.
finish_root() {
    local name=$1 pidvar="pid_${1//-/_}" rc=0 why
    shift
    wait "${!pidvar}" || rc=$?
    if [ "$rc" != 0 ]; then
        # The first error is the cause (the last is "mmdebstrap failed to run").
        why=$(grep -E '^(E:|W: Failed)' "$ac/$name.log" | head -n1 | sed 's/ --error-on=any.* failed$/ failed/')
        [ -n "$why" ] || why=$(tail -n1 "$ac/$name.log")
        unavailable "the Debian archive ($mirror) could not provide the $name root: ${why:-mmdebstrap exit $rc} (log: $ac/$name.log)"
    fi
    stamp "$@" >"$ac/$name.tmp/.complete"
    rm -rf "$ac/$name"
    mv "$ac/$name.tmp" "$ac/$name"
    say "$name: ready ($(du -sm "$ac/$name" | cut -f1) MB, $((EPOCHSECONDS - t0)) s)"
}

todo=()
need_root sid "${sid_args[@]}" && todo+=(sid)
need_root course-root "${course_args[@]}" && todo+=(course-root)
need_root ctest-root "${ctest_args[@]}" && todo+=(ctest-root)
if ((${#todo[@]})); then
    command -v mmdebstrap >/dev/null || unavailable "mmdebstrap not found (scripts/setup.sh installs it)"
    # mmdebstrap as non-root would make roots owned by subordinate ids that
    # bwrap cannot use as they are.
    [ "$(id -u)" = 0 ] || unavailable "building the private Debian roots needs root (mmdebstrap); run once as root"
    for r in "${todo[@]}"; do
        case $r in
            sid) start_root sid "${sid_args[@]}" ;;
            course-root) start_root course-root "${course_args[@]}" ;;
            ctest-root) start_root ctest-root "${ctest_args[@]}" ;;
        esac
    done
    for r in "${todo[@]}"; do
        case $r in
            sid)
                finish_root sid "${sid_args[@]}"
                # Apptainer needs these as real files in the root; bwrap
                # binds the caller's /etc/hosts over the copy at run time.
                cp -L /etc/localtime "$ac/sid/etc/localtime"
                cp /etc/hosts "$ac/sid/etc/hosts"
                # Root here may lack CAP_SYS_RESOURCE (it does in sandboxes
                # like this one): keep only the capabilities configured for
                # root instead of all of them, else Apptainer fails to start.
                sed -i 's/^root default capabilities = .*/root default capabilities = file/' \
                    "$ac/sid/etc/apptainer/apptainer.conf"
                ;;
            course-root) finish_root course-root "${course_args[@]}" ;;
            ctest-root) finish_root ctest-root "${ctest_args[@]}" ;;
        esac
    done
else
    say "roots already built: sid ($(du -sm "$ac/sid" | cut -f1) MB), course-root, ctest-root"
fi
command -v bwrap >/dev/null || unavailable "bwrap not found (scripts/setup.sh installs bubblewrap)"

# Apptainer must run from the root, else nothing else matters.
if ! ver=$("$here/apptainer.sh" "$ac/sid" -- version 2>"$ac/version.err"); then
    unavailable "Apptainer cannot run here: $(tail -n1 "$ac/version.err")"
fi
printf '%s\n' "$ver" >"$ac/version"
say "apptainer $ver runs from $ac/sid"

# The test-suite image: keyed by its definition and its root.
h=$(cat "$here/ctest.def" "$ac/ctest-root/.complete" "$ac/version" | sha256sum | cut -c1-16)
sif=$ac/ctest-$h.sif
if [ -s "$sif" ]; then
    say "ctest image: already built ($sif)"
else
    "$here/build-sif.sh" "$ac" "$here/ctest.def" "$sif" base="$ac/ctest-root" >/dev/null
    find "$ac" -maxdepth 1 -name 'ctest-*.sif' ! -name "ctest-$h.sif" -delete
    say "ctest image: built $sif ($(du -sm "$sif" | cut -f1) MB)"
fi
ln -sfn "$(basename "$sif")" "$ac/ctest.sif"
# One container, so a machine where Apptainer starts but cannot run one (no
# loop devices, no squashfs) is told apart before any test relies on it.
if ! "$here/apptainer.sh" "$ac/sid" --bind "$ac" -- exec "$sif" true >"$ac/exec.err" 2>&1; then
    unavailable "Apptainer cannot run a container here: $(grep -v '^INFO' "$ac/exec.err" | tail -n1)"
fi
say "ready: $ac"
