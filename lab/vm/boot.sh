#!/usr/bin/env bash
# boot.sh CACHE_DIR INITRAMFS SHARED_DIR LOGFILE -- SERVER_ARGS...
#
# Boots the isoprobe guest (initramfs from build-initramfs.sh) in QEMU in the
# background and returns once the guest printed ISOPROBE-GUEST-READY on its
# serial console (LOGFILE). The guest then runs
#   /bin/server SERVER_ARGS...
# e.g.  -- 5000 /bin/server 65 vm1 /shared "shm message" "socket message"
# SERVER_ARGS are passed verbatim; INFO_DIR must be the guest path /shared
# (where SHARED_DIR is mounted over 9p) and SHM_PATH a guest path such as
# /bin/server or /init.
#
# Stdout: exactly one line, e.g. "vm: qemu, tcg (kvm hung at boot)".
# Diagnostics go to stderr. Exit 0 = guest ready, QEMU running, its pid in
# the pidfile; 77 = cache not prepared / QEMU missing; 1 = boot failed.
# On any failure no QEMU started by this script is left running.
#
# Files: LOGFILE (serial console of the successful boot), LOGFILE.qemu-stderr,
# LOGFILE.kvm-failed (console of a failed KVM attempt, if any).
# Networking: "-netdev user,restrict=on" (slirp, userspace): the guest gets
# 10.0.2.15 and can reach nothing outside; nothing on the host can reach it
# unless ISOPROBE_VM_HOSTFWD is set. Works inside an "unshare -rn" namespace.
#
# Environment knobs:
#   ISOPROBE_VM_PIDFILE      pidfile (default LOGFILE.pid)
#   ISOPROBE_VM_ACCEL        auto (default) | kvm | tcg
#   ISOPROBE_VM_KVM_BUDGET   seconds KVM gets to reach READY (default 15)
#   ISOPROBE_VM_KVM_REPROBE  1 = ignore the cached "kvm does not work" result
#   ISOPROBE_VM_TIMEOUT      seconds TCG gets to reach READY (default 120)
#   ISOPROBE_VM_MEM          guest RAM in MiB (default 256)
#   ISOPROBE_VM_HOSTFWD      optional hostfwd rule, e.g. tcp:127.0.0.1:15000-:5000
#
# The VM powers itself off when the server exits (console line
# "ISOPROBE-GUEST-DONE rc=N"); stop it earlier with stop.sh PIDFILE.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

prog=boot.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
unavailable() { printf '%s: unavailable: %s\n' "$prog" "$*" >&2; exit 77; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage="usage: boot.sh CACHE_DIR INITRAMFS SHARED_DIR LOGFILE -- SERVER_ARGS..."
if [ $# -lt 5 ] || [ "$5" != -- ]; then die "$usage"; fi
cache=$1 initrd=$2 shared=$3 log=$4
shift 5
[ $# -ge 1 ] || die "no server arguments after --"

vmc=$cache/vm
pidfile=${ISOPROBE_VM_PIDFILE:-$log.pid}
accel_mode=${ISOPROBE_VM_ACCEL:-auto}
kvm_budget=${ISOPROBE_VM_KVM_BUDGET:-15}
tcg_timeout=${ISOPROBE_VM_TIMEOUT:-120}
mem=${ISOPROBE_VM_MEM:-256}
hostfwd=${ISOPROBE_VM_HOSTFWD:-}

[ -f "$vmc/qemu.path" ] || unavailable "QEMU not prepared in $vmc (run lab/vm/prepare.sh $cache)"
qemu=$(cat "$vmc/qemu.path")
[ -x "$qemu" ] || unavailable "$qemu (from $vmc/qemu.path) is not executable (re-run prepare.sh)"
kernel=$vmc/kernel/vmlinuz
[ -f "$kernel" ] || unavailable "no kernel $kernel (run lab/vm/prepare.sh $cache)"
[ -f "$initrd" ] || die "initramfs $initrd does not exist"
[ -d "$shared" ] || die "shared directory $shared does not exist"
shared=$(cd "$shared" && pwd)
case $shared in *,*) die "shared directory path must not contain ',' (QEMU option syntax): $shared" ;; esac
logdir=$(dirname "$log")
if [ ! -d "$logdir" ] || [ ! -w "$logdir" ]; then
    die "log directory $logdir does not exist or is not writable"
fi
case $accel_mode in auto | kvm | tcg) ;; *) die "ISOPROBE_VM_ACCEL must be auto, kvm or tcg (got $accel_mode)" ;; esac

enc=$(isoprobe_vm_encode_args "$@")
append="console=ttyS0 quiet panic=-1 isoprobe.args=$enc"
# x86 COMMAND_LINE_SIZE is 2048 bytes including the terminating NUL.
[ "${#append}" -lt 2000 ] || die "server arguments too long for the kernel command line (${#append} bytes encoded, limit ~2000)"

netdev="user,id=n0,restrict=on"
[ -z "$hostfwd" ] || netdev+=",hostfwd=$hostfwd"

: >"$log.qemu-stderr"
qpid=""
success=0
on_exit() {
    if [ "$success" != 1 ] && [ -n "$qpid" ]; then
        isoprobe_vm_stop_qemu "$qpid" 3
        rm -f "$pidfile"
    fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_qemu ACCEL: starts QEMU in the background, sets qpid.
start_qemu() {
    local accel=$1 cpu=()
    [ "$accel" = kvm ] && cpu=(-cpu host)
    # Create the log before QEMU (which truncates, same inode) so the tail -F
    # in isoprobe_vm_wait_marker can use inotify from the start.
    : >"$log"
    # stdin/stdout/stderr detached from the caller, so "$(boot.sh ...)" in a
    # caller does not wait for QEMU to exit.
    "$qemu" -name isoprobe-vm -accel "$accel" "${cpu[@]}" -m "$mem" -smp 1 \
        -nodefaults -no-user-config -display none -vga none -monitor none \
        -serial "file:$log" -no-reboot \
        -kernel "$kernel" -initrd "$initrd" -append "$append" \
        -netdev "$netdev" -device virtio-net-pci,netdev=n0,romfile= \
        -virtfs "local,path=$shared,mount_tag=$ISOPROBE_VM_MOUNT_TAG,security_model=none,id=fs0" \
        </dev/null >>"$log.qemu-stderr" 2>&1 &
    qpid=$!
}

# boot_with ACCEL BUDGET: 0 = READY seen; else sets fail_reason.
fail_reason=""
boot_with() {
    local accel=$1 budget=$2 rc=0 t0
    t0=$(isoprobe_vm_now)
    printf '=== %s boot (%s), budget %ss\n' "$accel" "$(date '+%F %T')" "$budget" >>"$log.qemu-stderr"
    start_qemu "$accel"
    isoprobe_vm_wait_marker "$log" "$ISOPROBE_VM_READY" "$budget" "$qpid" || rc=$?
    if [ "$rc" = 0 ]; then
        note "$accel: guest READY $(isoprobe_vm_elapsed "$t0") s after QEMU start (pid $qpid)"
        return 0
    fi
    local err guestfail
    err=$(grep -v '^===' "$log.qemu-stderr" 2>/dev/null | grep -v 'terminating on signal' | tail -n 1 || true)
    guestfail=$(grep -m1 -e 'ISOPROBE-GUEST-FAIL' -e 'Kernel panic' "$log" 2>/dev/null || true)
    guestfail=${guestfail#\[*\] }
    if [ "$rc" = 1 ]; then
        wait "$qpid" 2>/dev/null || true
        qpid=""
        fail_reason="qemu exited before READY${guestfail:+ ($guestfail)}${err:+ (qemu: $err)}"
    else
        if grep -q 'KVM internal error' "$log.qemu-stderr" 2>/dev/null; then
            fail_reason="KVM internal error"
        elif [ -s "$log" ]; then
            fail_reason="no READY within ${budget}s${guestfail:+ ($guestfail)}"
        else
            fail_reason="no console output within ${budget}s"
        fi
        isoprobe_vm_stop_qemu "$qpid" 3
        qpid=""
    fi
    return 1
}

kvm_usable() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
probe_file=$vmc/kvm-probe
probe_key="$(uname -r) $(cat /proc/sys/kernel/hostname 2>/dev/null || echo '?') $qemu"

accel="" fallback=""
case $accel_mode in
    kvm)
        kvm_usable || die "ISOPROBE_VM_ACCEL=kvm but /dev/kvm is missing or not accessible"
        boot_with kvm "$tcg_timeout" || die "kvm boot failed: $fail_reason (console: $log)"
        accel=kvm
        ;;
    tcg)
        fallback="forced by ISOPROBE_VM_ACCEL=tcg"
        ;;
    auto)
        if ! kvm_usable; then
            fallback="no usable /dev/kvm"
        elif [ "${ISOPROBE_VM_KVM_REPROBE:-0}" != 1 ] && [ -f "$probe_file" ] \
            && [ "$(sed -n 1p "$probe_file")" = "$probe_key" ]; then
            fallback="kvm $(sed -n 2p "$probe_file"); cached probe, ISOPROBE_VM_KVM_REPROBE=1 retries"
        elif boot_with kvm "$kvm_budget"; then
            accel=kvm
            rm -f "$probe_file"
        else
            case $fail_reason in
                "no console output"* | "no READY"*) fallback="kvm hung at boot" ;;
                *) fallback="kvm failed: $fail_reason" ;;
            esac
            note "kvm attempt failed after ${kvm_budget}s budget: $fail_reason; falling back to tcg"
            [ ! -f "$log" ] || mv -f "$log" "$log.kvm-failed"
            printf '%s\n%s\n' "$probe_key" "${fallback#kvm }" >"$probe_file.$$"
            mv -f "$probe_file.$$" "$probe_file"
        fi
        ;;
esac

if [ -z "$accel" ]; then
    boot_with tcg "$tcg_timeout" || die "tcg boot failed: $fail_reason (console: $log, qemu stderr: $log.qemu-stderr)"
    accel=tcg
fi

printf '%s\n' "$qpid" >"$pidfile"
success=1
if [ -n "$fallback" ]; then
    printf 'vm: qemu, %s (%s)\n' "$accel" "$fallback"
else
    printf 'vm: qemu, %s\n' "$accel"
fi
