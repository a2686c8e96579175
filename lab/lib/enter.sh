# shellcheck shell=bash
# lab/lib/enter.sh: the outer lab/run re-executes itself as "lab/run
# __inner" inside namespaces it creates, waits for it, and passes a TERM on.
# Sourced.

# Rootless: a user namespace makes us root over the new namespaces. The pid
# namespace makes the lab pid 1, so nothing outlives it; where /proc cannot
# be mounted (some containers) the lab runs without a pid namespace.
enter_namespaces() {
    local -a userns=() flags variants
    local how_user v errors=""
    if [ "$(id -u)" != 0 ]; then
        userns=(--user --map-root-user) how_user="rootless"
    elif [ "$(awk '{ print $1 $2 $3 }' /proc/self/uid_map 2>/dev/null)" = 004294967295 ]; then
        how_user="as root"
    else
        how_user="as root of a user namespace"
    fi
    variants=(
        "--net --uts --mount --propagation private --pid --fork --kill-child=SIGTERM --mount-proc"
        "--net --uts --mount --propagation private"
    )
    for v in "${variants[@]}"; do
        read -ra flags <<<"$v"
        LAB_NS_HOW=$(printf 'unshare %s (%s)' "${userns[*]}${userns:+ }$v" "$how_user" \
            | sed 's/ --propagation private//; s/ --fork//; s/ --kill-child=SIGTERM//; s/ --mount-proc//')
        export LAB_NS_HOW
        # In the background (so a TERM can be passed on), where bash would
        # make the lab ignore SIGINT: env restores it so the lab's Ctrl-C
        # trap works. unshare's own errors go to a file; the lab's stderr is
        # ours (fd 3).
        unshare "${userns[@]}" "${flags[@]}" -- env --default-signal=INT "$self" __inner 3>&2 2>"$lab_dir/.ns-err" &
        ns_pid=$!
        wait_lab
        ns_pid=""
        [ ! -e "$lab_dir/.entered" ] || exit "$lab_rc"
        errors+="${errors:+; }unshare ${userns[*]}${userns:+ }$v: $(tail -n1 "$lab_dir/.ns-err")"
    done
    unavailable "cannot create the lab's network namespaces: $errors"
}

# wait_lab: sets lab_rc to the lab's exit status; a trapped signal ends
# wait early, so it waits again for the lab's end.
wait_lab() {
    local r
    lab_rc=1
    while :; do
        sig=0
        wait "$ns_pid"
        r=$?
        [ "$r" != 127 ] || break
        lab_rc=$r
        [ "$sig" = 1 ] || break
    done
}

# Ctrl-C reaches the lab's pid 1 directly (same process group), which tears
# down; this script waits for that. A TERM sent to this script alone is
# passed on to the lab's pid 1 (the child of unshare --fork).
forward_term() {
    sig=1
    [ -n "$ns_pid" ] || return 0
    local kids
    kids=$(cat "/proc/$ns_pid/task/$ns_pid/children" 2>/dev/null)
    kill -TERM ${kids:-$ns_pid} 2>/dev/null
}
