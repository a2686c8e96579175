# shellcheck shell=bash
# lab/lib/supervise.sh: every server runs under a supervisor in its own
# session (setsid), so a terminal's Ctrl-C reaches only the lab itself, which
# then tears down in order; the lab stops a supervisor with SIGTERM to its
# process group. Sourced.

# supervise_process NAME STATE_DIR LOG CMD... (lab/run __supervise): runs
# CMD, writes STATE_DIR/NAME.pid (CMD's pid) and, when CMD ends,
# STATE_DIR/NAME.exit (its status): the lab waits on those with inotify.
supervise_process() {
    local name=$1 st=$2 log=$3 child rc interrupted
    shift 3
    # A caught signal (not an ignored one) leaves CMD with default handlers.
    trap 'interrupted=1' TERM INT
    "$@" </dev/null >"$log" 2>&1 &
    child=$!
    printf '%s\n' "$child" >"$st/.$name.pid" && mv -f "$st/.$name.pid" "$st/$name.pid"
    while :; do
        interrupted=0
        wait "$child"
        rc=$?
        # A signal interrupts wait; the group's SIGTERM reached CMD too.
        [ "$interrupted" = 1 ] || break
    done
    printf '%s\n' "$rc" >"$st/.$name.exit" && mv -f "$st/.$name.exit" "$st/$name.exit"
}

# start_supervised NAME CMD...: starts CMD under a supervisor (in the lab).
start_supervised() {
    local n=$1
    shift
    setsid "$self" __supervise "$n" "$st" "$logs/$n.log" "$@" &
    sup_of[$n]=$!
    started_at[$n]=$EPOCHREALTIME
}

# server_args NAME [FTOK [INFO_DIR]]: course_server's arguments, NUL-separated.
server_args() {
    local n=$1
    printf '%s\0' "${port_of[$n]}" "${2:-${ftok_of[$n]}}" "${proj_of[$n]}" "$n" "${3:-$info}" "$n-shm" "$n-sock"
}
