# shellcheck shell=bash
# lab/lib/apptainer.sh: servers in real Apptainer containers, started the
# way the course starts them: "apptainer run IMAGE" with Apptainer's default
# namespaces plus a bind of the info directory. By default Apptainer shares
# the host's IPC and network namespaces and gives the container its own root
# filesystem: the server is told apart only because its ftok path is a file
# of the image. Apptainer runs from the private Debian unstable root that
# lab/apptainer/prepare.sh builds (lab/apptainer/apptainer.sh). Sourced.

# The ftok path of an image server: the server's own binary, a file only the
# image has (if the host had one at that path, it would be another file with
# another key all the same).
LAB_APPTAINER_IMAGE_FTOK=/usr/local/bin/course_server

# apptainer_ready_dirs: Apptainer's scratch space, and (unprivileged) an
# info directory the user may write to.
apptainer_ready_dirs() {
    mkdir -p "$LAB_DIR/apptainer-tmp" || fail 1 "cannot create $LAB_DIR/apptainer-tmp"
    if [ -n "$LAB_APPTAINER_USER" ]; then
        chown "$LAB_APPTAINER_USER" "$LAB_DIR/apptainer-tmp" && chmod 1777 "$info" \
            || fail 1 "cannot hand $LAB_DIR/apptainer-tmp and $info to $LAB_APPTAINER_USER"
    fi
}

apptainer_start_all() {
    local n args ver where flags=() how
    [ -z "$LAB_APPTAINER_UNAVAILABLE" ] || fail 77 "apptainer: $LAB_APPTAINER_UNAVAILABLE"
    apptainer_ready_dirs
    ver=$("$labsrc/lib/apptainer-lab" --version 2>"$LAB_DIR/apptainer-version.err") \
        || fail 77 "apptainer: cannot run in the lab: $(tail -n1 "$LAB_DIR/apptainer-version.err")"
    [ "$LAB_APPTAINER_IPC" = 0 ] || flags+=(--ipc)
    for n in "${names[@]}"; do
        [ "${kind_of[$n]}" = apptainer ] || continue
        # A bound host directory (the lab's, under /tmp, which Apptainer binds
        # by default) or a file of the image.
        [ "$LAB_APPTAINER_FTOK" = host ] || ftok_of[$n]=$LAB_APPTAINER_IMAGE_FTOK
        if [ "$LAB_APPTAINER_FTOK" = host ] && [ "$LAB_APPTAINER_IPC" = 0 ]; then
            class_of[$n]=host
        fi
        mapfile -d '' -t args < <(server_args "$n")
        mech_of[$n]=apptainer
        start_supervised "$n" "$labsrc/lib/apptainer-lab" run "${flags[@]}" --bind "$info" \
            "$LAB_APPTAINER_SIF" "${args[@]}"
    done
    if [ -n "$LAB_APPTAINER_USER" ]; then
        how="as $LAB_APPTAINER_USER (unprivileged, user-namespace mode)"
    else
        how="as root"
    fi
    if ((${#flags[@]})); then
        where="own IPC namespace (--ipc), network shared + --bind $info"
    else
        where="default namespaces (IPC and network shared) + --bind $info"
    fi
    if [ "$LAB_APPTAINER_FTOK" = host ]; then
        where+="; ftok path in the bound host directory $ftok"
    else
        where+="; ftok path $LAB_APPTAINER_IMAGE_FTOK, a file of the image"
    fi
    line_of[apptainer]="apptainer: $ver, sif, $how, $where"
}

# apptainer_note_segments NAME: remembers the keys of the segments the
# server made in the lab's IPC namespace (Apptainer shares it), so teardown
# can find any left behind.
apptainer_note_segments() {
    local n=$1 pid
    [ "${mech_of[$n]:-}" = apptainer ] && [ "$LAB_APPTAINER_IPC" = 0 ] || return 0
    [ -z "${keys_of[$n]:-}" ] || return 0
    pid=$(cat "$st/$n.pid" 2>/dev/null) || return 0
    keys_of[$n]=$(keys_created_by "$pid" | tr '\n' ' ')
}
