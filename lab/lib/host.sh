# shellcheck shell=bash
# lab/lib/host.sh: host servers, plain processes with the lab's IPC, files
# and network: the client reaches both their segment and their socket. Sourced.

host_start_all() {
    local n args
    for n in "${names[@]}"; do
        [ "${kind_of[$n]}" = host ] || continue
        mapfile -d '' -t args < <(server_args "$n")
        mech_of[$n]=process
        start_supervised "$n" "$LAB_SERVER" "${args[@]}"
    done
    line_of[host]="host: plain processes, $(basename "$LAB_SERVER") with the host's IPC, files and network"
}
