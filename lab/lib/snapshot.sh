# shellcheck shell=bash
# lab/lib/snapshot.sh: what tests inspect (--snapshot DIR): the namespaces,
# pids and keys of every server, the host's segment table and each isolated
# server's, the info files. Taken when every info file exists. Sourced.

snapshot_namespaces() {
    local n
    printf 'dir %s\n' "$LAB_DIR"
    for n in net pid mnt uts user ipc; do printf 'lab-ns %s %s\n' "$n" "$(readlink "/proc/self/ns/$n")"; done
}

# snapshot_server NAME: one record line; NAME-shm for an isolated server.
snapshot_server() {
    local n=$1 pid="" key="" nsinfo="" inside nsn
    [ -f "$st/$n.pid" ] && pid=$(cat "$st/$n.pid")
    case ${mech_of[$n]} in
        qemu) ;;
        apptainer) key=${keys_of[$n]:-$(ftok_key "${ftok_of[$n]}" "${proj_of[$n]}")} ;;
        *) key=$(ftok_key "${ftok_of[$n]}" "${proj_of[$n]}") ;;
    esac
    if [ "${kind_of[$n]}" != host ] && [ -n "$pid" ]; then
        # The process that holds the isolated namespaces (for bwrap and
        # Apptainer a descendant of the recorded pid).
        inside=$(isolated_descendant "$pid") || inside=""
        if [ -n "$inside" ]; then
            for nsn in ipc mnt user net; do nsinfo+=" $nsn=$(readlink "/proc/$inside/ns/$nsn")"; done
            if [ "${mech_of[$n]}" != qemu ]; then
                nsenter -t "$inside" --ipc cat /proc/sysvipc/shm >"$snap/$n-shm" 2>"$snap/$n-shm.err" \
                    || nsenter -t "$inside" --user --ipc --preserve-credentials cat /proc/sysvipc/shm >"$snap/$n-shm" 2>>"$snap/$n-shm.err"
            fi
        fi
    fi
    printf 'server %s kind=%s mech=%s pid=%s proj=%s ftok=%s key=%s%s\n' "$n" "${kind_of[$n]}" \
        "${mech_of[$n]}" "$pid" "${proj_of[$n]}" "${ftok_of[$n]}" "${key// /}" "$nsinfo"
}

snapshot_take() {
    local n
    [ -n "$snap" ] || return 0
    cat /proc/sysvipc/shm >"$snap/host-shm"
    mkdir -p "$snap/info" && cp "$info"/* "$snap/info/"
    for n in "${names[@]}"; do snapshot_server "$n"; done >>"$snap/record"
    [ -z "${LAB_APPTAINER_SIF:-}" ] || printf 'apptainer-sif %s\n' "$LAB_APPTAINER_SIF" >>"$snap/record"
}
