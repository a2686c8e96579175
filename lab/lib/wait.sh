# shellcheck shell=bash
# lab/lib/wait.sh: event-driven waiting for the info files. inotifywait
# watches the info and state directories before any server starts; every
# change wakes the lab, which re-checks the whole (cheap) state. Sourced.

watch_start() {
    local line
    exec {inw_fd}< <(exec inotifywait -m -e create -e moved_to -e close_write --format '%w%f' "$info" "$st" 2>&1)
    inw_pid=$!
    while IFS= read -r -t 10 -u "$inw_fd" line; do
        [ "$line" != "Watches established." ] || break
    done
    [ "${line:-}" = "Watches established." ] || fail 1 "inotifywait did not start: ${line:-no output}"
}

# wait_pending: sets pending to the number of servers without an info
# file; fails if one ended first.
wait_pending() {
    local n what
    pending=0
    for n in "${names[@]}"; do
        vm_check_boot "$n"
        [ -z "${ready_at[$n]:-}" ] || continue
        if [ -e "$info/$n" ]; then
            ready_at[$n]=$EPOCHREALTIME
        elif [ -e "$st/$n.exit" ]; then
            what=$(cat "$st/$n.exit")
            fail 1 "$n (${kind_of[$n]}, ${mech_of[$n]}) ended before writing its info file: $what; log: $(tail -n 3 "$logs/$n.log" "$LAB_DIR/vm/$n.console" 2>/dev/null | tr -d '\r' | grep -v '^$' | tail -n 3 | tr '\n' '|')"
        else
            pending=$((pending + 1))
        fi
    done
}

# wait_all_ready: until every info file exists, a server ended first, or
# the deadline passed.
wait_all_ready() {
    local pending deadline=$((${t_start%.*} + LAB_TIMEOUT)) now line
    while :; do
        wait_pending
        ((pending)) || break
        now=$EPOCHSECONDS
        ((now < deadline)) || fail 1 "timed out after ${LAB_TIMEOUT}s waiting for $pending info file(s) in $info"
        IFS= read -r -t "$((deadline - now))" -u "$inw_fd" line
        case $? in
            0) ;;
            1) fail 1 "inotifywait ended unexpectedly" ;;
            *) ;; # timeout: the loop reports it
        esac
    done
    kill "$inw_pid" 2>/dev/null
    inw_pid=""
    exec {inw_fd}<&-
}

# ready_line: when the info files were there, and how long VMs and
# Apptainer servers took from their start.
ready_line() {
    local n t timing=""
    for n in "${names[@]}"; do
        t=$(elapsed "${started_at[$n]}" "${ready_at[$n]}")
        case ${mech_of[$n]} in
            qemu) timing+="; $n: ${t} s from boot start to info file" ;;
            standin) timing+="; $n (stand-in): ${t} s" ;;
            apptainer) timing+="; $n: ${t} s from apptainer run to info file" ;;
        esac
    done
    say "lab: ${#names[@]} info file(s) present after $(elapsed "$t_start") s$timing"
}
