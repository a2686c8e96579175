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
# Boot path: the uncompressed kernel (CACHE_DIR/vm/kernel/vmlinux, see
# prepare.sh) through its PVH entry point, on the microvm machine (virtio-mmio
# devices; needs the host's TSC frequency, measured by prepare.sh) or else
# q35. No firmware setup, no decompression under emulation. If there is no
# vmlinux, or the PVH boot fails, it boots the bzImage through SeaBIOS on the
# pc machine, as before, and says why.
#
# Stdout: exactly one line naming the path, e.g.
#   "vm: qemu 7.2, tcg, pvh vmlinux, microvm (kvm hung at boot)".
# Diagnostics go to stderr. Exit 0 = guest ready, QEMU running, its pid in
# the pidfile; 77 = cache not prepared / QEMU missing; 1 = boot failed.
# On any failure no QEMU started by this script is left running.
#
# Files: LOGFILE (serial console of the successful boot), LOGFILE.qemu-stderr,
# LOGFILE.kvm-failed (console of a failed KVM attempt, if any),
# LOGFILE.pvh-failed (console of a failed PVH boot, if any), LOGFILE.timing
# (the successful boot's stages, one line:
#   "path=pvh machine=microvm kernel=S init=S ready=S total=S":
#   QEMU start -> kernel start, kernel start -> /init, /init -> READY, sum).
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
#   ISOPROBE_VM_BOOT         auto (default: pvh, else bzimage) | pvh | bzimage
#                            (pvh: no fallback; bzimage: today's SeaBIOS path)
#   ISOPROBE_VM_MACHINE      auto (default: microvm, else q35) | microvm | q35,
#                            the machine of the PVH boot
#   ISOPROBE_VM_PVH_BUDGET   seconds a PVH boot gets to reach the guest's /init
#                            before it counts as hung (default 60)
#   ISOPROBE_VM_PVH_APPEND   extra kernel parameters for the PVH boot only (for
#                            experiments; the tests break the PVH boot with
#                            isoprobe.bus=none to see the fallback work)
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
boot_mode=${ISOPROBE_VM_BOOT:-auto}
machine_mode=${ISOPROBE_VM_MACHINE:-auto}
pvh_budget=${ISOPROBE_VM_PVH_BUDGET:-60}
pvh_append=${ISOPROBE_VM_PVH_APPEND:-}

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
case $boot_mode in auto | pvh | bzimage) ;; *) die "ISOPROBE_VM_BOOT must be auto, pvh or bzimage (got $boot_mode)" ;; esac
case $machine_mode in auto | microvm | q35) ;; *) die "ISOPROBE_VM_MACHINE must be auto, microvm or q35 (got $machine_mode)" ;; esac
[[ $pvh_budget =~ ^[1-9][0-9]*$ ]] || die "ISOPROBE_VM_PVH_BUDGET must be a whole number of seconds (got $pvh_budget)"

# QEMU's version and what it offers, as prepare.sh recorded them.
qemu_ver="" qemu_caps=""
if [ -f "$vmc/qemu.version" ]; then
    qemu_ver=$(sed -n '1s/^QEMU emulator version \([0-9]*\.[0-9]*\).*/\1/p' "$vmc/qemu.version")
    qemu_caps=$(sed -n 2p "$vmc/qemu.version")
fi

# ------------------------------------------------------------ boot path
# path=pvh|bzimage, machine=microvm|q35|pc; notes: why not the fastest.
notes=()
path=bzimage machine=pc tsc_khz=""
vmlinux=$vmc/kernel/vmlinux
pvh_unavailable() { # why the PVH path cannot be used, or nothing
    local st
    if [ "$boot_mode" = bzimage ]; then
        echo "forced by ISOPROBE_VM_BOOT=bzimage"
    elif [ ! -f "$vmlinux" ]; then
        st=$(cut -d' ' -f3- "$vmc/kernel/vmlinux.status" 2>/dev/null || true)
        echo "no vmlinux${st:+: $st}"
    elif [[ " $qemu_caps " != *" microvm "* && " $qemu_caps " != *" q35 "* ]]; then
        echo "this QEMU has neither microvm nor q35"
    fi
}
why_not=$(pvh_unavailable)
if [ -z "$why_not" ]; then
    path=pvh
    # microvm: virtio-mmio modules in the cache, the machine in QEMU, and the
    # host's TSC frequency measured during this host boot.
    tsc_line=$(cat "$vmc/host-tsc" 2>/dev/null || true)
    read -r tsc_ok tsc_key tsc_rest <<<"$tsc_line" || true
    boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
    no_microvm=""
    if [ ! -f "$vmc/kernel/load-order.mmio" ]; then
        no_microvm="no virtio_mmio module"
    elif [[ " $qemu_caps " != *" microvm "* ]]; then
        no_microvm="QEMU lacks microvm or virtio-mmio devices"
    elif [ "$tsc_ok" != ok ] || [ "$tsc_key" != "$boot_id" ]; then
        if [ "$tsc_key" = "$boot_id" ]; then
            no_microvm="host TSC frequency unknown: $tsc_rest"
        else
            no_microvm="host TSC frequency not measured during this host boot (run prepare.sh)"
        fi
    else
        tsc_khz=$tsc_rest
    fi
    case $machine_mode in
        microvm)
            [ -z "$no_microvm" ] || die "ISOPROBE_VM_MACHINE=microvm, but: $no_microvm"
            machine=microvm ;;
        q35) machine=q35 ;;
        auto)
            if [ -z "$no_microvm" ]; then
                machine=microvm
            elif [[ " $qemu_caps " == *" q35 "* ]]; then
                machine=q35
                notes+=("q35, not microvm: $no_microvm")
            elif [ "$boot_mode" = pvh ]; then
                unavailable "ISOPROBE_VM_BOOT=pvh, but no machine for it: no microvm ($no_microvm), no q35"
            else
                path=bzimage machine=pc
                notes+=("bzImage: no machine for the PVH boot: no microvm ($no_microvm), no q35")
            fi ;;
    esac
    if [ "$machine" = q35 ] && [[ " $qemu_caps " != *" q35 "* ]]; then
        die "ISOPROBE_VM_MACHINE=q35, but this QEMU has no q35 machine"
    fi
elif [ "$boot_mode" = pvh ]; then
    unavailable "ISOPROBE_VM_BOOT=pvh, but $why_not"
else
    notes+=("bzImage: $why_not")
fi

enc=$(isoprobe_vm_encode_args "$@")
append="console=ttyS0 quiet panic=-1 isoprobe.args=$enc"
# x86 COMMAND_LINE_SIZE is 2048 bytes including the terminating NUL; the
# machine-specific parameters (below, under 100 bytes) come on top.
[ $((${#append} + ${#pvh_append})) -lt 1940 ] || die "server arguments too long for the kernel command line (${#append} bytes encoded, limit ~2000)"

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

# start_qemu ACCEL: starts QEMU on the current path/machine, sets qpid.
start_qemu() {
    local accel=$1 cpu=() mach=() dev=() kern=$kernel extra="isoprobe.bus=pci"
    local fsdev="local,path=$shared,security_model=none,id=fs0"
    [ "$accel" = kvm ] && cpu=(-cpu host)
    case $path/$machine in
        pvh/microvm)
            # virtio-mmio devices, which microvm's ACPI tables announce to
            # the guest; no PCI, no firmware tables to walk, no option ROMs.
            kern=$vmlinux
            mach=(-M microvm)
            dev=(-device virtio-net-device,netdev=n0
                -fsdev "$fsdev" -device "virtio-9p-device,fsdev=fs0,mount_tag=$ISOPROBE_VM_MOUNT_TAG")
            # The guest's TSC under TCG is the host's (constant, measured by
            # prepare.sh): tsc_early_khz= replaces the calibration microvm
            # cannot do, and tsc=reliable keeps the clocksource watchdog
            # from judging it by timer ticks that TCG delivers late (it then
            # falls back to jiffies, a 4 ms clock).
            extra="isoprobe.bus=mmio tsc_early_khz=$tsc_khz tsc=reliable"
            ;;
        pvh/q35 | bzimage/pc)
            [ "$path" = bzimage ] || { kern=$vmlinux; mach=(-M q35); }
            dev=(-device virtio-net-pci,netdev=n0,romfile=
                -fsdev "$fsdev" -device "virtio-9p-pci,fsdev=fs0,mount_tag=$ISOPROBE_VM_MOUNT_TAG")
            ;;
    esac
    if [ "$path" = pvh ]; then
        # The crypto self-tests take about 0.2 s of an emulated boot; the
        # guest uses no cryptography.
        extra+=" cryptomgr.notests${pvh_append:+ $pvh_append}"
    fi
    # Create the log before QEMU (which truncates, same inode) so the tail -F
    # in isoprobe_vm_wait_marker can use inotify from the start.
    : >"$log"
    # stdin/stdout/stderr detached from the caller, so "$(boot.sh ...)" in a
    # caller does not wait for QEMU to exit. -nodefaults matters on every
    # machine: without it QEMU adds a NIC with unrestricted user networking.
    "$qemu" -name isoprobe-vm "${mach[@]}" -accel "$accel" "${cpu[@]}" -m "$mem" -smp 1 \
        -nodefaults -no-user-config -display none -vga none -monitor none \
        -serial "file:$log" -no-reboot \
        -kernel "$kern" -initrd "$initrd" -append "$append $extra" \
        -netdev "$netdev" "${dev[@]}" \
        </dev/null >>"$log.qemu-stderr" 2>&1 &
    qpid=$!
}

# boot_with ACCEL BUDGET: 0 = READY seen; else sets fail_reason. A PVH boot
# must reach /init within ISOPROBE_VM_PVH_BUDGET (a kernel that hangs early,
# e.g. without a usable clock, prints nothing more), then READY within BUDGET.
fail_reason=""
boot_with() {
    local accel=$1 budget=$2 rc=0 t0 t_init t_ready first=$2 stage="READY" up
    t0=$(isoprobe_vm_now)
    printf '=== %s boot, %s %s (%s), budget %ss\n' "$accel" "$path" "$machine" "$(date '+%F %T')" "$budget" >>"$log.qemu-stderr"
    start_qemu "$accel"
    if [ "$path" = pvh ] && [ "$pvh_budget" -lt "$budget" ]; then
        first=$pvh_budget
    fi
    stage="/init"
    isoprobe_vm_wait_marker "$log" "$ISOPROBE_VM_INIT" "$first" "$qpid" || rc=$?
    t_init=$(isoprobe_vm_now)
    if [ "$rc" = 0 ]; then
        stage="READY"
        local left
        left=$(awk -v b="$budget" -v e="$(isoprobe_vm_elapsed "$t0" "$t_init")" 'BEGIN { l = int(b - e + 0.999); print (l < 1 ? 1 : l) }')
        isoprobe_vm_wait_marker "$log" "$ISOPROBE_VM_READY" "$left" "$qpid" || rc=$?
    fi
    if [ "$rc" = 0 ]; then
        t_ready=$(isoprobe_vm_now)
        up=$(grep -a -m1 "$ISOPROBE_VM_INIT" "$log" | sed -n 's/.*uptime=\([0-9.]*\).*/\1/p')
        awk -v p="$path" -v m="$machine" -v a="$t0" -v i="$t_init" -v r="$t_ready" -v u="${up:-0}" 'BEGIN {
            k = i - a - u; if (k < 0) k = 0
            printf "path=%s machine=%s kernel=%.2f init=%.2f ready=%.2f total=%.2f\n", p, m, k, i - a - k, r - i, r - a
        }' >"$log.timing"
        note "$accel, $path $machine: guest READY $(isoprobe_vm_elapsed "$t0" "$t_ready") s after QEMU start (pid $qpid; $(cat "$log.timing"))"
        return 0
    fi
    local err guestfail
    err=$(grep -v '^===' "$log.qemu-stderr" 2>/dev/null | grep -v 'terminating on signal' | tail -n 1 || true)
    guestfail=$(grep -a -m1 -e 'ISOPROBE-GUEST-FAIL' -e 'Kernel panic' "$log" 2>/dev/null | tr -d '\r' || true)
    guestfail=${guestfail#\[*\] }
    if [ "$rc" = 1 ]; then
        wait "$qpid" 2>/dev/null || true
        qpid=""
        fail_reason="qemu exited before $stage${guestfail:+ ($guestfail)}${err:+ (qemu: $err)}"
    else
        local waited=$budget
        [ "$stage" = READY ] || waited=$first
        if grep -q 'KVM internal error' "$log.qemu-stderr" 2>/dev/null; then
            fail_reason="KVM internal error"
        elif [ -s "$log" ]; then
            fail_reason="no $stage within ${waited}s${guestfail:+ ($guestfail)}"
        else
            fail_reason="no console output within ${waited}s"
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
    if ! boot_with tcg "$tcg_timeout"; then
        [ "$path" = pvh ] && [ "$boot_mode" = auto ] \
            || die "tcg boot ($path, $machine) failed: $fail_reason (console: $log, qemu stderr: $log.qemu-stderr)"
        # The fast path failed: boot the bzImage as before, and say so.
        note "tcg pvh boot on $machine failed: $fail_reason; falling back to the bzImage on pc"
        [ ! -f "$log" ] || mv -f "$log" "$log.pvh-failed"
        notes+=("bzImage: pvh boot on $machine failed: $fail_reason")
        path=bzimage machine=pc
        boot_with tcg "$tcg_timeout" || die "tcg boot failed: $fail_reason (console: $log, qemu stderr: $log.qemu-stderr)"
    fi
    accel=tcg
fi

printf '%s\n' "$qpid" >"$pidfile"
success=1
[ -z "$fallback" ] || notes=("$fallback" "${notes[@]}")
case $path in
    pvh) how="pvh vmlinux, $machine" ;;
    *) how="bzImage via SeaBIOS, pc" ;;
esac
mech="vm: qemu${qemu_ver:+ $qemu_ver}, $accel, $how"
if [ "${#notes[@]}" -gt 0 ]; then
    joined=$(printf '%s; ' "${notes[@]}")
    mech+=" (${joined%; })"
fi
printf '%s\n' "$mech"
