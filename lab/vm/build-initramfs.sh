#!/usr/bin/env bash
# build-initramfs.sh CACHE_DIR SERVER_BINARY OUT.cpio.gz
#
# Builds a gzip'd newc cpio initramfs for the isoprobe guest:
#   /bin/busybox + applet symlinks, /lib/modules/*.ko + load-order.pci and
#   load-order.mmio (from prepare.sh; /init loads one of the two lists), /bin/server (SERVER_BINARY, must be statically linked),
#   /etc/udhcpc.script, /init (see guest-init.sh).
# Needs prepare.sh to have run on CACHE_DIR. Exit 77 if the cache is not
# prepared, 1 on other errors. Does not need root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

prog=build-initramfs.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
unavailable() { printf '%s: unavailable: %s\n' "$prog" "$*" >&2; exit 77; }

[ $# -eq 3 ] || die "usage: build-initramfs.sh CACHE_DIR SERVER_BINARY OUT.cpio.gz"
cache=$1 server=$2 out=$3
vmc=$cache/vm
bb=$vmc/busybox
kd=$vmc/kernel

[ -x "$bb" ] || unavailable "no busybox in $vmc (run lab/vm/prepare.sh $cache)"
[ -f "$kd/load-order.pci" ] || unavailable "no kernel modules in $kd (run lab/vm/prepare.sh $cache)"
[ -f "$server" ] || die "server binary $server does not exist"
[ -x "$server" ] || die "server binary $server is not executable"

# The guest has no libc or dynamic loader: the server must be static.
elf=$(readelf -hlW "$server" 2>/dev/null) || die "server binary $server is not an ELF file"
[[ $elf == *"Advanced Micro Devices X86-64"* ]] || die "server binary $server is not an x86-64 ELF"
if [[ $elf == *"Requesting program interpreter"* ]]; then
    die "server binary $server is dynamically linked; the guest has no libc (build with -static / crt-static / musl)"
fi

outdir=$(dirname "$out")
[ -d "$outdir" ] || die "output directory $outdir does not exist"
out=$(cd "$outdir" && pwd)/$(basename "$out")

stage=""
cleanup() { if [ -n "$stage" ]; then rm -rf "$stage"; fi; }
trap cleanup EXIT
stage=$(mktemp -d "${TMPDIR:-/tmp}/isoprobe-initramfs.XXXXXX")

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,shared,lib/modules}
install -m 755 "$bb" "$stage/bin/busybox"
# Applet symlinks at build time (busybox --list-full prints e.g. "sbin/ip").
applets=$("$bb" --list-full) || die "busybox --list-full failed"
while IFS= read -r a; do
    if [ -z "$a" ] || [ "$a" = bin/busybox ]; then continue; fi
    mkdir -p "$stage/$(dirname "$a")"
    ln -sf /bin/busybox "$stage/$a"
done <<<"$applets"
[ -L "$stage/bin/sh" ] || die "busybox has no sh applet"

lists=()
for bus in pci mmio; do
    [ -f "$kd/load-order.$bus" ] || continue
    lists+=("$bus")
    while IFS= read -r m; do
        [ -n "$m" ] || continue
        [ -f "$kd/modules/$m.ko" ] || die "module $m listed in $kd/load-order.$bus but $kd/modules/$m.ko is missing"
        install -m 644 "$kd/modules/$m.ko" "$stage/lib/modules/$m.ko"
    done <"$kd/load-order.$bus"
    install -m 644 "$kd/load-order.$bus" "$stage/lib/modules/load-order.$bus"
done

install -m 755 "$server" "$stage/bin/server"
install -m 755 "$here/guest-init.sh" "$stage/init"
sed -i "s/@MOUNT_TAG@/$ISOPROBE_VM_MOUNT_TAG/g; s/@READY@/$ISOPROBE_VM_READY/g; s/@DONE@/$ISOPROBE_VM_DONE/g" "$stage/init"
install -m 755 "$here/guest-udhcpc.script" "$stage/etc/udhcpc.script"
# A console node lets the kernel give /init a stdout before devtmpfs is
# mounted; only possible as root, /init copes without it.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

tmpout=$(mktemp "$out.XXXXXX")
if ! (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$bb" cpio -o -H newc -R 0:0 2>/dev/null | gzip -9n >"$tmpout"); then
    rm -f "$tmpout"
    die "creating the cpio archive failed"
fi
mv -f "$tmpout" "$out"
chmod 644 "$out"
printf 'vm-initramfs: %s (%s bytes; server %s; module lists: %s)\n' "$out" "$(stat -c %s "$out")" \
    "$server" "${lists[*]}"
