#!/bin/sh
# /init of the isoprobe QEMU guest (busybox ash, PID 1). Installed into the
# initramfs by build-initramfs.sh, which fills in the @...@ placeholders.
#
# Boot: devtmpfs/proc/sys, insmod the modules the machine type needs
# (/lib/modules/load-order.BUS, BUS from the kernel parameter isoprobe.bus=:
# "pci" for pc/q35, "mmio" for microvm; default pci), lo + eth0 up, DHCP (QEMU user net gives 10.0.2.15), 9p share on /shared,
# print "@READY@ ...", then run
#   /bin/server ARGS...
# with ARGS decoded from the kernel parameter isoprobe.args= (see
# isoprobe_vm_encode_args in lib.sh: "_"-prefixed, %HH-encoded, comma
# separated). When the server exits: "@DONE@ rc=N" and power off.
# Any boot failure: "ISOPROBE-GUEST-FAIL <what>", "@DONE@ rc=125", power off.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

finish() {
    echo "@DONE@ rc=$1"
    sync
    poweroff -f
    # Not reached normally; if it is, PID 1 exiting panics the kernel and
    # panic=-1 + qemu -no-reboot ends the VM anyway.
    sleep 5
    exit "$1"
}
fail() {
    echo "ISOPROBE-GUEST-FAIL $*"
    finish 125
}

# The uptime lets boot.sh split the boot: QEMU start -> kernel start -> /init.
if ! mount -t proc proc /proc; then
    echo "ISOPROBE-GUEST-INIT"
    fail "mount proc"
fi
read -r up _ </proc/uptime
echo "ISOPROBE-GUEST-INIT uptime=$up"

mount -t sysfs sysfs /sys || fail "mount sysfs"
mount -t tmpfs tmpfs /tmp || fail "mount tmpfs /tmp"
hostname isoprobe-vm
echo "hosts: files" >/etc/nsswitch.conf

set -f
read -r cmdline </proc/cmdline
bus=pci enc=""
for w in $cmdline; do
    case $w in
        isoprobe.bus=*) bus=${w#isoprobe.bus=} ;;
        isoprobe.args=*) enc=${w#isoprobe.args=} ;;
    esac
done
set +f
[ -f "/lib/modules/load-order.$bus" ] || fail "no module list for isoprobe.bus=$bus"
while read -r m; do
    [ -n "$m" ] || continue
    insmod "/lib/modules/$m.ko" || echo "isoprobe-init: insmod $m failed"
done <"/lib/modules/load-order.$bus"

ip link set lo up || fail "ip link set lo up"
i=0
while [ ! -e /sys/class/net/eth0 ]; do
    i=$((i + 1))
    [ "$i" -le 50 ] || fail "no eth0 after 5 s (virtio_net not loaded?)"
    sleep 0.1
done
ip link set eth0 up || fail "ip link set eth0 up"
# Bounded: at most 10 discover attempts 1 s apart, -n = give up afterwards.
if ! udhcpc -i eth0 -s /etc/udhcpc.script -f -q -n -t 10 -T 1 >/tmp/udhcpc.log 2>&1; then
    cat /tmp/udhcpc.log
    fail "dhcp on eth0"
fi
ip4=$(ip -4 addr show dev eth0 | sed -n 's/.*inet \([0-9.]*\).*/\1/p')
[ -n "$ip4" ] || fail "eth0 has no IPv4 address after dhcp"

mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 @MOUNT_TAG@ /shared \
    || fail "mount 9p share @MOUNT_TAG@ on /shared"

# Server arguments from the kernel command line (read above).
set -f
[ -n "$enc" ] || fail "no isoprobe.args= on the kernel command line"
oldifs=$IFS
IFS=,
set --
for f in $enc; do
    f=${f#_}
    # %HH -> \xHH, then printf %b; the trailing x protects trailing newlines.
    v=$(printf '%bx' "$(printf '%s\n' "$f" | sed 's/%/\\x/g')")
    set -- "$@" "${v%x}"
done
IFS=$oldifs
set +f

read -r up _ </proc/uptime
echo "@READY@ ip=$ip4 share=/shared argc=$# uptime=$up"
/bin/server "$@"
finish "$?"
