# shellcheck shell=bash
# lab/lib/common.sh: small helpers every part of the lab uses. Sourced.

say() { printf '%s\n' "$*"; }
warn() { printf 'lab: %s\n' "$*" >&2; }

# elapsed START [END]: END-START (EPOCHREALTIME values) in seconds, one decimal.
elapsed() {
    awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'
}

# ftok_key PATH PROJ: glibc's ftok() as /proc/sysvipc/shm prints it (decimal).
ftok_key() {
    local dev ino
    IFS=' ' read -r dev ino < <(stat -L -c '%d %i' "$1" 2>/dev/null)
    [ -n "$ino" ] || return 1
    printf '%d\n' $(((($2 & 0xff) << 24) | ((dev & 0xff) << 16) | (ino & 0xffff)))
}

# descendants PID: PID and every process below it, one per line.
descendants() {
    local p kids
    printf '%s\n' "$1"
    for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        descendants "$p"
    done
}

# keys_created_by PID: keys of the segments in this IPC namespace that PID
# or one of its descendants created (creator pid, as this pid namespace sees it).
keys_created_by() {
    local pids
    pids=$(descendants "$1" | tr '\n' ' ')
    awk -v pids=" $pids" 'NR > 1 && index(pids, " " $5 " ") { print $1 }' /proc/sysvipc/shm
}

# isolated_descendant PID: PID or its first descendant whose IPC or network
# namespace differs from ours (bwrap keeps a parent outside the sandbox).
isolated_descendant() {
    local p=$1 mine kids k
    mine=$(readlink /proc/self/ns/ipc)
    for _ in 1 2 3 4 5 6; do
        [ -e "/proc/$p" ] || return 1
        if [ "$(readlink "/proc/$p/ns/ipc" 2>/dev/null)" != "$mine" ] || [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ]; then
            printf '%s\n' "$p"
            return 0
        fi
        kids=$(cat "/proc/$p/task/$p/children" 2>/dev/null)
        k=${kids%% *}
        [ -n "$k" ] || return 1
        p=$k
    done
    return 1
}

# wait_children_within SECONDS PID...: waits until the given children have
# exited (wait, woken by SIGCHLD) or SECONDS passed (a watchdog signal).
wait_children_within() {
    local secs=$1 wd p expired=0
    shift
    sleep "$secs" &
    wd=$!
    # Whichever ends first: a child, or the watchdog (the timeout event).
    for p in "$@"; do
        while [ "$expired" = 0 ] && kill -0 "$p" 2>/dev/null; do
            wait -n "$p" "$wd" 2>/dev/null
            kill -0 "$wd" 2>/dev/null || expired=1
        done
    done
    kill "$wd" 2>/dev/null
    wait "$wd" 2>/dev/null
}
