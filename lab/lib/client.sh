# shellcheck shell=bash
# lab/lib/client.sh: runs the client on the info directory and judges its
# summary against what the lab started. Sourced.

client_run() {
    local out=$LAB_DIR/client.out crc
    local -a client_args=()
    client_ran=1
    [ -z "${LAB_CLIENT_ARGS:-}" ] || IFS=$'\x1f' read -r -a client_args <<<"$LAB_CLIENT_ARGS"
    timeout 60 "$LAB_CLIENT" "${client_args[@]}" "$info" >"$out" 2>"$LAB_DIR/client.err"
    crc=$?
    cat "$out"
    sed 's/^/client: /' "$LAB_DIR/client.err" >&2
    [ -z "$snap" ] || cp "$out" "$snap/client.out"
    [ "$crc" = 0 ] || fail 1 "course_client exited with status $crc"
}

# client_expected: the five lines the client must print: a server the client
# should see as Host shows both messages, a Container only its socket
# message, a VM neither; names sort as the client sorts them (bytes).
client_expected() {
    local n c h=0 ct=0 v=0 msgs=""
    while read -r n c; do
        case $c in
            host) h=$((h + 1)) msgs+=" $n-shm $n-sock" ;;
            container) ct=$((ct + 1)) msgs+=" $n-sock" ;;
            vm) v=$((v + 1)) ;;
        esac
    done < <(for n in "${names[@]}"; do printf '%s %s\n' "$n" "${class_of[$n]}"; done | LC_ALL=C sort)
    printf 'Total Servers: %s\nHost: %s\nContainer: %s\nVM: %s\nMessages:%s' "${#names[@]}" "$h" "$ct" "$v" "$msgs"
}

client_judge() {
    local expected summary
    expected=$(client_expected)
    # The course client prints only the summary; a client given --client-arg
    # (isoprobe-client --explain) prints more first, and its last 5 lines count.
    if [ -n "${LAB_CLIENT_ARGS:-}" ]; then
        summary=$(tail -n 5 "$LAB_DIR/client.out")
    else
        summary=$(cat "$LAB_DIR/client.out")
    fi
    if [ "$summary" = "$expected" ]; then
        say "lab: the client's classification matches the environments started"
    else
        warn "MISMATCH: the client's summary differs from the environments started; expected:"
        printf '%s\n' "$expected" | sed 's/^/lab:   /' >&2
        rc=1
    fi
}
