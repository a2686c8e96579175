# shellcheck shell=bash
# lab/lib/container-userns.sh: a container made with unshare: own user, IPC
# and mount namespaces, a private tmpfs over the directory of the ftok files
# (the same path is another file in there), the lab's network. Sourced.

# userns_probe FTOK_DIR: prints the IPC namespace and the directory's inode
# as seen inside, or the reason it cannot run.
userns_probe() {
    unshare --user --map-root-user --ipc --mount -- /bin/sh -c \
        'mount -t tmpfs -o mode=755,size=1m lab-ftok "$0" && readlink /proc/self/ns/ipc && stat -c %i "$0"' "$1" 2>&1
}

# userns_start NAME: one container server.
userns_start() {
    local n=$1 args
    mapfile -d '' -t args < <(server_args "$n")
    start_supervised "$n" unshare --user --map-root-user --ipc --mount -- /bin/sh -c \
        'mount -t tmpfs -o mode=755,size=1m lab-ftok "${1%/*}" && : >"$1" && shift && exec "$@"' \
        sh "${ftok_of[$n]}" "$LAB_SERVER" "${args[@]}"
}

userns_line() { # WHY
    say "container: unshare --user --map-root-user --ipc --mount, private tmpfs over $ftok, network shared$1"
}
