# shellcheck shell=bash
# Shared helpers for the isoprobe QEMU lab scripts. Sourced, not executed.
#
# Cache layout (everything under CACHE_DIR/vm, CACHE_DIR defaults to
# <repo>/.lab-cache which is git-ignored):
#   vm/qemu.path              one line: the qemu-system-x86_64 to run
#   vm/qemu.version           its --version line, then "microvm q35" (the
#                             machines the PVH boot can use)
#   vm/qemu/                  project-local QEMU prefix (only if no system QEMU)
#   vm/busybox                static busybox copied into every initramfs
#   vm/kernel/vmlinuz         Debian kernel (bzImage)
#   vm/kernel/vmlinux         the same kernel uncompressed (ELF with a PVH
#                             entry note), absent if it could not be had
#   vm/kernel/vmlinux.status  one line: "ok ..." or why there is no vmlinux
#   vm/kernel/modules/*.ko    uncompressed modules
#   vm/kernel/load-order.pci  module names to insmod, in order, for pc/q35
#   vm/kernel/load-order.mmio the same for microvm (absent if not possible)
#   vm/tools/                 decompressors fetched from the archive (only
#                             if the host lacks the one the kernel needs)
#   vm/host-tsc               the host's TSC frequency (microvm needs it)
#   vm/kernel/modules-report  found / built-in / missing per wanted module
#   vm/kvm-probe              cached result of the last KVM boot probe

# Modules wanted in the guest, in insmod order, per virtio transport (they
# match the "depends=" fields of the Debian 6.1 modules). "pci" serves the pc
# and q35 machines (virtio-*-pci devices), "mmio" the microvm machine
# (virtio-*-device on virtio-mmio, announced by microvm's ACPI tables, so
# virtio_mmio needs no virtio_mmio.device= parameters). The guest's /init
# loads the list named by the kernel parameter isoprobe.bus=.
# shellcheck disable=SC2034  # used by prepare.sh
ISOPROBE_VM_MODULES_PCI=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
    virtio_pci failover net_failover virtio_net netfs fscache 9pnet 9pnet_virtio 9p)
# shellcheck disable=SC2034
ISOPROBE_VM_MODULES_MMIO=(virtio_ring virtio virtio_mmio
    failover net_failover virtio_net netfs fscache 9pnet 9pnet_virtio 9p)

# 9p mount tag shared between boot.sh (-virtfs) and the guest /init.
# shellcheck disable=SC2034
ISOPROBE_VM_MOUNT_TAG=isoshare

# Markers printed by the guest /init on the serial console.
# shellcheck disable=SC2034
ISOPROBE_VM_INIT=ISOPROBE-GUEST-INIT
# shellcheck disable=SC2034
ISOPROBE_VM_READY=ISOPROBE-GUEST-READY
# shellcheck disable=SC2034
ISOPROBE_VM_DONE=ISOPROBE-GUEST-DONE

isoprobe_vm_repo_root() {
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    (cd "$here/../.." && pwd)
}

isoprobe_vm_default_cache() {
    printf '%s/.lab-cache\n' "$(isoprobe_vm_repo_root)"
}

# now: seconds since epoch with milliseconds, for timing.
isoprobe_vm_now() {
    date +%s.%3N
}

# elapsed START [END]: END-START in seconds, two decimals.
isoprobe_vm_elapsed() {
    local end=${2:-$(isoprobe_vm_now)}
    awk -v a="$1" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}

# wait_marker LOG MARKER TIMEOUT_S PID
# Event-waits (GNU tail -F uses inotify) until a line containing MARKER
# appears in LOG. Returns 0 when seen, 1 when process PID exited first,
# 2 on timeout. Never leaves the tail behind.
isoprobe_vm_wait_marker() {
    local log=$1 marker=$2 budget=$3 pid=$4 fd tpid gpid found=1
    # tail exits by itself when PID dies (--pid) or after the budget (timeout).
    # GNU tail only uses inotify if LOG exists when it starts (else it polls
    # every -s seconds), so callers should create LOG first; -s 0.1 bounds
    # the latency of the polling fallback.
    [ -e "$log" ] || : >>"$log"
    exec {fd}< <(exec timeout "$budget" tail -n +1 -F -s 0.1 --pid="$pid" "$log" 2>/dev/null)
    tpid=$!
    # grep in the background + wait: keeps the caller's signal traps responsive.
    grep -m1 -q -F -- "$marker" <&"$fd" &
    gpid=$!
    if wait "$gpid"; then
        found=0
    fi
    kill "$tpid" 2>/dev/null || true
    exec {fd}<&-
    if [ "$found" = 0 ]; then
        return 0
    fi
    # One last look: the line may have been written just as the pipe closed.
    if grep -q -F -- "$marker" "$log" 2>/dev/null; then
        return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        return 1
    fi
    return 2
}

# is_qemu_pid PID: true if PID is alive and is a qemu-system process
# (guards against killing a recycled pid).
isoprobe_vm_is_qemu_pid() {
    local pid=$1 cmd
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    case $cmd in
        *qemu-system*) return 0 ;;
    esac
    return 1
}

# stop_qemu PID [GRACE_S]: SIGTERM, wait up to GRACE_S (default 5) for the
# process to vanish (event wait via tail --pid), then SIGKILL.
isoprobe_vm_stop_qemu() {
    local pid=$1 grace=${2:-5}
    isoprobe_vm_is_qemu_pid "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    timeout "$grace" tail --pid="$pid" -f /dev/null 2>/dev/null || true
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || true
    fi
    # Reap it if it is our child (no-op otherwise).
    wait "$pid" 2>/dev/null || true
    return 0
}

# stop_all DIR: stops every VM whose pidfile is in DIR (stop.sh, 3 s grace;
# used on every exit of the scripts that boot VMs into a scratch DIR).
isoprobe_vm_stop_all() {
    local f lib
    lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    for f in "$1"/*.pid; do
        if [ -f "$f" ]; then
            "$lib/stop.sh" "$f" 3 >/dev/null 2>&1 || true
        fi
    done
}

# encode_args ARG...: prints the value for the isoprobe.args= kernel
# parameter. Each argument becomes "_" + percent-encoding (bytes outside
# [A-Za-z0-9._/-] as %HH), arguments joined by ",". The "_" prefix keeps
# empty arguments from vanishing during field splitting in the guest.
isoprobe_vm_encode_args() {
    local out="" sep="" a hex b
    for a in "$@"; do
        out+="${sep}_"
        sep=","
        [ -n "$a" ] || continue
        hex=$(printf '%s' "$a" | od -An -v -tx1 | tr -s ' \n' '  ')
        for b in $hex; do
            case $b in
                2d|2e|2f|3[0-9]|4[1-9a-f]|5[0-9a]|5f|6[1-9a-f]|7[0-9a]) out+=$(printf '%b' "\\x$b") ;;
                *) out+="%${b^^}" ;;
            esac
        done
    done
    printf '%s\n' "$out"
}
