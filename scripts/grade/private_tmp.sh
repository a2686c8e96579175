#!/usr/bin/env bash
# private_tmp.sh SCRATCH [-- CMD...]: in a mount namespace of its own (the
# caller's), puts a fresh tmpfs over /tmp and /dev/shm and binds SCRATCH (if
# it lies in /tmp) back at its path, through a descriptor opened before, so
# student code running as nobody sees neither other gradings' scratch
# directories nor anything else in /tmp. Then runs CMD, if given.
set -u
scratch=$1
shift
exec {keep}<"$scratch" || exit 125
mount -t tmpfs -o mode=1777,size=512m grade-tmp /tmp || exit 125
case $scratch in
    /tmp/*)
        # --no-canonicalize: the kernel follows the descriptor to the old
        # directory; a resolved path would name the new, empty one.
        { mkdir -p "$scratch" && mount --no-canonicalize --bind "/proc/self/fd/$keep" "$scratch"; } || exit 125 ;;
esac
exec {keep}<&-
mount -t tmpfs -o mode=1777,size=64m grade-shm /dev/shm 2>/dev/null
[ "${1:-}" = -- ] && shift
(($#)) || exit 0
exec "$@"
