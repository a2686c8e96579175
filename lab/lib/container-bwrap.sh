# shellcheck shell=bash
# lab/lib/container-bwrap.sh: the same isolation as container-userns.sh
# through bubblewrap: own IPC namespace, a tmpfs over the ftok directory,
# the lab's network. Sourced.

# bwrap_probe FTOK_DIR: like userns_probe.
bwrap_probe() {
    command -v bwrap >/dev/null || { echo "bwrap not found"; return 1; }
    bwrap --dev-bind / / --unshare-ipc --tmpfs "$1" -- /bin/sh -c \
        'readlink /proc/self/ns/ipc && stat -c %i "$0"' "$1" 2>&1
}

bwrap_start() { # NAME
    local n=$1 args
    mapfile -d '' -t args < <(server_args "$n")
    start_supervised "$n" bwrap --dev-bind / / --unshare-ipc --tmpfs "$ftok" --die-with-parent -- /bin/sh -c \
        ': >"$1" && shift && exec "$@"' sh "${ftok_of[$n]}" "$LAB_SERVER" "${args[@]}"
}

bwrap_line() { # WHY
    say "container: bwrap --unshare-ipc --tmpfs $ftok, network shared$1"
}
