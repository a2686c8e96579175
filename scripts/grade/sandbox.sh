#!/usr/bin/env bash
# sandbox.sh CPU_S MEM_BYTES -- CMD...: the inside of the grading sandbox.
# grade.py starts it as the first process of fresh network, IPC, UTS, mount
# and pid namespaces (unshare ... --kill-child, so when the grader kills
# unshare, the whole namespace dies). Here, still root of the namespaces, it
# gives the network an address (198.18.0.1 on lo, nothing else, no route out)
# and a hostname resolving to it (what student servers announce), then drops
# to user nobody (when started by real root) with CPU, memory and file-size
# limits, in the pids cgroup grade.py made for this run (GRADE_CGROUP, when
# it could), and runs CMD.
set -u
cpu=$1 mem=$2
shift 2
[ "${1:-}" = -- ] && shift
ip link set lo up || exit 125
ip addr add 198.18.0.1/32 dev lo || exit 125
hostname isoprobe-grade 2>/dev/null || printf isoprobe-grade >/proc/sys/kernel/hostname
if [ -n "${GRADE_HOSTS:-}" ]; then
    mount --bind "$GRADE_HOSTS" /etc/hosts || exit 125
fi
# Parallel gradings all run as nobody: each sees only its own scratch
# directory in /tmp, and its own /dev/shm.
if [ -n "${GRADE_SCRATCH:-}" ]; then
    "$(dirname "$0")/private_tmp.sh" "$GRADE_SCRATCH" || exit 125
fi
# A task cap of its own (grade.py made the cgroup): this process and all it
# starts count against it, nothing else.
if [ -n "${GRADE_CGROUP:-}" ]; then
    echo 0 >"$GRADE_CGROUP/cgroup.procs" || exit 125
fi
limits=(prlimit "--cpu=$cpu" --fsize=268435456 --core=0)
[ "$mem" = 0 ] || limits+=("--as=$mem")
if [ "$(awk '{ print $1 $2 $3 }' /proc/self/uid_map)" = 004294967295 ]; then
    # A coarse cap on a fork bomb: RLIMIT_NPROC counts every process and
    # thread of nobody on the machine (the labs' QEMUs and servers of
    # parallel gradings too), so it is far above what a grading needs.
    exec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs "${limits[@]}" --nproc=8192 -- "$@"
fi
# Rootless: already the caller's unprivileged user outside the namespace.
exec "${limits[@]}" -- "$@"
