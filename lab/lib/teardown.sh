# shellcheck shell=bash
# lab/lib/teardown.sh: stops every server in order, on success, failure,
# Ctrl-C and TERM. Sourced.

# teardown_remove_segments: last resort for segments in the lab's IPC
# namespace (host servers, Apptainer servers sharing it) whose servers could
# not clean up; prints how many it removed.
teardown_remove_segments() {
    local n key keys removed=0
    for n in "${!kind_of[@]}"; do
        keys=${keys_of[$n]:-}
        if [ "${kind_of[$n]}" = host ] || [ "${class_of[$n]}:${mech_of[$n]:-}" = host:apptainer ]; then
            keys+=" $(ftok_key "${ftok_of[$n]}" "${proj_of[$n]}")"
        fi
        for key in $keys; do
            if awk -v k="$key" 'NR > 1 && $1 == k { found = 1 } END { exit !found }' /proc/sysvipc/shm; then
                ipcrm -M "$key" 2>/dev/null && removed=$((removed + 1))
            fi
        done
    done
    printf '%s\n' "$removed"
}

# teardown_stop SUPERVISOR...: SIGTERM to each supervisor's process group,
# SIGKILL to what is left after 15 s.
teardown_stop() {
    local p
    for p in "$@"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
    wait_children_within 15 "$@"
    for p in "$@"; do
        if kill -0 "$p" 2>/dev/null; then
            warn "supervisor $p did not stop within 15 s: SIGKILL"
            kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null
        fi
    done
    wait "$@" 2>/dev/null
}

teardown() {
    [ "$torn" = 0 ] || return 0
    torn=1
    # A trap may interrupt "IFS= read": restore word splitting.
    IFS=$' \t\n'
    # Caught, not ignored: processes started from here get default handlers.
    trap ':' INT TERM
    [ -z "$inw_pid" ] || kill "$inw_pid" 2>/dev/null
    local -a sups=() graceful=() left=()
    local n p removed
    for n in "${!sup_of[@]}"; do
        sups+=("${sup_of[$n]}")
        [ "${mech_of[$n]:-}" = qemu ] || [ "${mech_of[$n]:-}" = standin ] || graceful+=("${sup_of[$n]}")
        # While its processes still exist: which segments an Apptainer server made.
        apptainer_note_segments "$n"
    done
    # Host and container servers end by themselves once the client has
    # closed its connections (the course's run()).
    if [ "$client_ran" = 1 ] && ((${#graceful[@]})); then
        wait_children_within 10 "${graceful[@]}"
    fi
    for p in "${sups[@]}"; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
    ((${#left[@]} == 0)) || teardown_stop "${left[@]}"
    removed=$(teardown_remove_segments)
    if ((removed)); then
        warn "removed $removed segment(s) that servers left behind"
        [ "$rc" != 0 ] || rc=1
    fi
    say "lab: torn down: ${#sups[@]} server(s) stopped; the namespaces and the lab's directory go when it exits"
}

fail() { # fail RC MESSAGE
    rc=$1
    warn "$2"
    teardown
    exit "$rc"
}
