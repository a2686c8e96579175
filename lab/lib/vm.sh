# shellcheck shell=bash
# lab/lib/vm.sh: VM servers: QEMU guests booted by lab/vm/boot.sh (another
# kernel, user-mode network), or the labelled stand-in where QEMU cannot
# run. Sourced.

# supervise_vm NAME STATE_DIR VM_DIR CACHE INITRD SHARED -- SERVER_ARGS...
# (lab/run __supervise-vm): boots the guest, writes STATE_DIR/NAME.boot
# (boot.sh's exit status and its mechanism line), STATE_DIR/NAME.pid (QEMU's
# pid), then waits until the guest's server is done or QEMU ends, stops QEMU
# and writes STATE_DIR/NAME.exit.
supervise_vm() {
    local name=$1 st=$2 vmdir=$3 cache=$4 initrd=$5 shared=$6 line rc qpid term=0
    shift 7
    trap 'term=1' TERM INT
    local console=$vmdir/$name.console pidfile=$vmdir/$name.qemu.pid
    line=$(ISOPROBE_VM_PIDFILE=$pidfile "$labsrc/vm/boot.sh" "$cache" "$initrd" "$shared" "$console" \
        -- "$@" 2>"$vmdir/$name.boot.err")
    rc=$?
    printf '%s\n%s\n' "$rc" "$line" >"$st/.$name.boot" && mv -f "$st/.$name.boot" "$st/$name.boot"
    [ "$rc" = 0 ] || return 0
    # shellcheck source=../vm/lib.sh
    . "$labsrc/vm/lib.sh"
    qpid=$(cat "$pidfile")
    printf '%s\n' "$qpid" >"$st/.$name.pid" && mv -f "$st/.$name.pid" "$st/$name.pid"
    if [ "$term" = 0 ]; then
        # Event wait (tail -F): the guest prints DONE when its server exits,
        # or QEMU ends (the lab's SIGTERM reached the whole group).
        isoprobe_vm_wait_marker "$console" "$ISOPROBE_VM_DONE" 86400 "$qpid" || true
    fi
    "$labsrc/vm/stop.sh" "$pidfile" 3 >"$vmdir/$name.stop" 2>&1 || true
    local done_line
    done_line=$(grep -a -m1 "$ISOPROBE_VM_DONE" "$console" 2>/dev/null | tr -d '\r')
    printf '%s\n' "${done_line:-qemu stopped}" >"$st/.$name.exit" && mv -f "$st/.$name.exit" "$st/$name.exit"
}

# standin_start NAME: own network namespace (lo with the address a guest
# would have, no route back to the lab) and own IPC namespace; same kernel,
# same files. Not a VM, and labelled so.
standin_start() {
    local n=$1 args
    mapfile -d '' -t args < <(server_args "$n")
    mech_of[$n]=standin
    start_supervised "$n" unshare --user --map-root-user --net --ipc -- /bin/sh -c \
        'ip link set lo up && ip addr add "$0/32" dev lo && exec "$@"' "$LAB_GUEST_IP" "$LAB_SERVER" "${args[@]}"
}

standin_line() { # WHY
    say "vm: vm-standin (no separate kernel): unshare --user --map-root-user --net --ipc, own loopback with $LAB_GUEST_IP ($1)"
}

# qemu_start NAME: a guest with the static server; the shared directory at
# /shared; /bin/sh exists in the guest and on the host, so a reachable
# segment could only mean a shared kernel.
qemu_start() {
    local n=$1 args
    mech_of[$n]=qemu
    mapfile -d '' -t args < <(server_args "$n" /bin/sh /shared)
    ftok_of[$n]=/bin/sh
    setsid "$self" __supervise-vm "$n" "$st" "$LAB_DIR/vm" "$LAB_CACHE" "$LAB_INITRD" "$info" -- "${args[@]}" &
    sup_of[$n]=$!
    started_at[$n]=$EPOCHREALTIME
}

vm_start_all() {
    local n start=qemu_start
    if [ "$LAB_VM_MODE" = standin ]; then
        vm_standin_reason="forced by --vm=standin"
    elif [ -n "${LAB_VM_UNAVAILABLE:-}" ]; then
        vm_standin_reason="QEMU cannot run here: $LAB_VM_UNAVAILABLE"
    fi
    if [ -n "$vm_standin_reason" ]; then
        start=standin_start
        line_of[vm]=$(standin_line "$vm_standin_reason")
    fi
    for n in "${names[@]}"; do
        [ "${kind_of[$n]}" != vm ] || "$start" "$n"
    done
}

# vm_check_boot NAME: called while waiting; once boot.sh finished for a QEMU
# guest, prints its mechanism line, or falls back to the stand-in (auto) or
# fails (--vm qemu).
vm_check_boot() {
    local n=$1 brc bline reason l
    [ "${kind_of[$n]}" = vm ] && [ "${mech_of[$n]}" = qemu ] && [ -z "${handled_boot[$n]:-}" ] \
        && [ -e "$st/$n.boot" ] || return 0
    { read -r brc; IFS= read -r bline; } <"$st/$n.boot"
    handled_boot[$n]=1
    if [ "$brc" = 0 ]; then
        for l in "${vm_lines[@]}"; do [ "$l" != "$bline" ] || return 0; done
        vm_lines+=("$bline")
        say "$bline"
        return 0
    fi
    reason=$(grep -v '^$' "$LAB_DIR/vm/$n.boot.err" 2>/dev/null | tail -n1)
    reason=${reason#boot.sh: }
    if [ "$LAB_VM_MODE" = auto ]; then
        if [ -z "$vm_standin_reason" ]; then
            vm_standin_reason="qemu boot failed: ${reason:-exit $brc}"
            standin_line "$vm_standin_reason"
        fi
        standin_start "$n"
    elif [ "$brc" = 77 ]; then
        fail 77 "vm: QEMU cannot run here: ${reason:-boot.sh exit 77}"
    else
        fail 1 "vm: QEMU boot failed: ${reason:-boot.sh exit $brc} (console: $LAB_DIR/vm/$n.console)"
    fi
}
