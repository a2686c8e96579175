# shellcheck shell=bash
# lab/lib/containers.sh: picks the container mechanism (--container auto:
# unshare, then bwrap) and starts the container servers with it. Sourced
# after container-userns.sh and container-bwrap.sh.

# container_isolates MECH: true if MECH's probe sees another IPC namespace
# and another directory at the ftok path (a user namespace alone would
# classify as Host); otherwise prints why not.
container_isolates() {
    local out ipc ino
    if ! out=$("${1}_probe" "$ftok"); then
        printf '%s' "${out##*$'\n'}"
        return 1
    fi
    ipc=${out%%$'\n'*} ino=${out##*$'\n'}
    if [ "$ipc" = "$(readlink /proc/self/ns/ipc)" ] || [ "$ino" = "$(stat -c %i "$ftok")" ]; then
        printf 'no isolation (IPC namespace %s, ftok directory inode %s)' "$ipc" "$ino"
        return 1
    fi
}

containers_start_all() {
    local -a tried=() modes
    local m mech="" why="" out n
    case $LAB_CONTAINER_MODE in auto) modes=(unshare bwrap) ;; *) modes=("$LAB_CONTAINER_MODE") ;; esac
    for m in "${modes[@]}"; do
        [ "$m" != unshare ] || m=userns
        if out=$(container_isolates "$m"); then
            mech=$m
            break
        fi
        tried+=("${m/userns/unshare} failed: $out")
    done
    if ((${#tried[@]})); then why=" (${tried[*]})"; fi
    [ -n "$mech" ] || fail 77 "container: no mechanism works here: ${tried[*]}"
    for n in "${names[@]}"; do
        [ "${kind_of[$n]}" = container ] || continue
        mech_of[$n]=${mech/userns/unshare}
        "${mech}_start" "$n"
    done
    line_of[container]=$("${mech}_line" "$why")
}
