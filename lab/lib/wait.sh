# shellcheck shell=bash
# lab/lib/wait.sh: event-driven waiting for the info files. inotifywait
# watches the info and state directories before any server starts; every
# change wakes the lab, which re-checks the whole (cheap) state. An info
# file counts once it is complete, not as soon as it exists: a server that
# writes it in place (open, one line at a time, close) is otherwise read
# half-written and counted as VM. Sourced.

watch_start() {
    local line
    exec {inw_fd}< <(exec inotifywait -m -e create -e moved_to -e close_write --format '%e %w%f' "$info" "$st" 2>&1)
    inw_pid=$!
    while IFS= read -r -t 10 -u "$inw_fd" line; do
        [ "$line" != "Watches established." ] || break
    done
    [ "${line:-}" = "Watches established." ] || fail 1 "inotifywait did not start: ${line:-no output}"
}

# note_event LINE: remembers each info file that its writer closed or
# renamed into place: complete, whatever it holds.
note_event() {
    local events=${1%% *} path=${1#* }
    [ "${path%/*}" = "$info" ] || return 0
    case $events in
        *CLOSE_WRITE* | *MOVED_TO*) written[${path##*/}]=1 ;;
    esac
}

# info_complete NAME: the info file can be read: it was closed or renamed
# into place, or it already holds four non-blank lines and ends with a
# newline (a writer that keeps it open).
info_complete() {
    local f=$info/$1 lines
    [ -e "$f" ] || return 1
    [ -z "${written[$1]:-}" ] || return 0
    [ -s "$f" ] && [ -z "$(tail -c 1 "$f" 2>/dev/null | tr -d '\n')" ] || return 1
    lines=$(grep -c '[^[:space:]]' "$f" 2>/dev/null) || true
    ((${lines:-0} >= 4))
}

# wait_pending: sets pending to the number of servers without a complete
# info file; fails if one ended first.
wait_pending() {
    local n what
    pending=0
    for n in "${names[@]}"; do
        vm_check_boot "$n"
        [ -z "${ready_at[$n]:-}" ] || continue
        if info_complete "$n"; then
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
        ((now < deadline)) || fail 1 "timed out after ${LAB_TIMEOUT}s waiting for $pending complete info file(s) in $info"
        IFS= read -r -t "$((deadline - now))" -u "$inw_fd" line
        case $? in
            0) note_event "$line" ;;
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
