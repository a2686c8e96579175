# shellcheck shell=bash
# lab/lib/vm-prepare.sh: before the namespaces (prepare may download):
# lab/vm/prepare.sh under a lock, and the guest's initramfs, cached per
# server binary. Sets vm_unavailable (empty when QEMU can run) and initrd.
# Sourced.

# vm_initramfs: builds or reuses the initramfs for the static server. The
# initramfs depends only on the server binary, the guest scripts and the
# cached kernel/busybox: built once per combination (about 3 s).
vm_initramfs() {
    local ir_hash ir_dir ir_out ir_rc=0
    if [ ! -x "$static_server" ]; then
        vm_unavailable="no static server $static_server (build the course_server_static target)"
        return 0
    fi
    ir_hash=$(cat "$static_server" "$labsrc"/vm/{build-initramfs.sh,guest-init.sh,guest-udhcpc.script,lib.sh} \
        "$cache"/vm/kernel/{.complete,load-order.pci,load-order.mmio} "$cache/vm/busybox" 2>/dev/null | sha256sum | cut -c1-16)
    ir_dir=$cache/vm/initramfs
    if mkdir -p "$ir_dir" 2>/dev/null && [ -w "$ir_dir" ]; then
        initrd=$ir_dir/$ir_hash.cpio.gz
        # Others not used for a day are stale builds.
        find "$ir_dir" -name '*.cpio.gz' -mmin +1440 -delete 2>/dev/null
    else
        initrd=$lab_dir/vm-initramfs.cpio.gz
    fi
    if [ -s "$initrd" ]; then
        touch "$initrd" 2>/dev/null
    else
        # build-initramfs.sh writes a temporary file and renames it.
        ir_out=$("$labsrc/vm/build-initramfs.sh" "$cache" "$static_server" "$initrd" 2>&1) || ir_rc=$?
    fi
    [ "$ir_rc" = 0 ] || vm_unavailable="initramfs: $(tail -n1 <<<"$ir_out")"
    [ "$ir_rc" = 0 ] || [ "$ir_rc" = 77 ] || [ "$vm_mode" = auto ] \
        || { printf 'lab: error: %s\n' "$vm_unavailable" >&2; exit 1; }
}

vm_prepare() {
    local prep_rc=0 prep_out
    mkdir -p "$cache" 2>/dev/null
    # Concurrent labs (ctest -j) share the cache: one prepares at a time.
    if [ -w "$cache" ]; then
        prep_out=$(flock "$cache/.prepare.lock" "$labsrc/vm/prepare.sh" "$cache" 2>&1) || prep_rc=$?
    else
        prep_out=$("$labsrc/vm/prepare.sh" "$cache" 2>&1) || prep_rc=$?
    fi
    grep -E 'downloaded' <<<"$prep_out" | sed 's/^/lab: /'
    if [ "$prep_rc" = 0 ]; then
        cache=$(cd "$cache" && pwd)
        vm_initramfs
    else
        vm_unavailable=$(grep -v '^vm-prepare:' <<<"$prep_out" | tail -n1)
        vm_unavailable=${vm_unavailable#prepare.sh: }
        [ -n "$vm_unavailable" ] || vm_unavailable="prepare.sh exit $prep_rc"
        if [ "$vm_mode" = qemu ] && [ "$prep_rc" != 77 ]; then
            printf 'lab: error: lab/vm/prepare.sh failed: %s\n' "$vm_unavailable" >&2
            exit 1
        fi
    fi
    if [ -n "$vm_unavailable" ] && [ "$vm_mode" = qemu ]; then
        unavailable "vm: QEMU cannot run here: $vm_unavailable"
    fi
}
