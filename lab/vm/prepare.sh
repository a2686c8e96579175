#!/usr/bin/env bash
# prepare.sh [CACHE_DIR]
#
# Idempotently fetches everything the QEMU lab needs into CACHE_DIR/vm
# (CACHE_DIR defaults to <repo>/.lab-cache):
#   - QEMU (qemu-system-x86_64), see "QEMU install decision" below
#   - a static busybox
#   - the Debian kernel (vmlinuz) and the virtio / 9p modules, uncompressed
# It does not build an initramfs (that needs the server binary, see
# build-initramfs.sh). Prints one line per step. Exit codes: 0 ready,
# 77 something cannot be had (reason on stderr), 1 other failure.
#
# QEMU install decision: this machine has qemu-utils 10.0.2 from
# bookworm-backports, and bookworm's qemu-system-x86 (7.2) would remove it
# (apt resolves the version conflict by removal). Adding a backports source
# would change the system's apt configuration for good. Least invasive is to
# change nothing on the system: "apt-get download" exactly the packages apt
# would install for qemu-system-x86 (bookworm, --no-install-recommends) and
# unpack them with dpkg-deb -x into CACHE_DIR/vm/qemu/root, then run QEMU
# through a wrapper that sets LD_LIBRARY_PATH and QEMU_MODULE_DIR (the TCG
# accelerator is a loadable QEMU module in Debian's build). Firmware is found
# relative to the binary (-L help lists ../share/qemu, ../share/seabios,
# ../lib/ipxe/qemu). If a qemu-system-x86_64 is already installed system-wide
# it is used instead and nothing is downloaded.
# busybox-static likewise: the installed one is used if present, otherwise
# the .deb is downloaded and unpacked into the cache (installing it would
# remove a dynamically linked "busybox" package if one is installed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

prog=prepare.sh
say() { printf 'vm-prepare: %s\n' "$*"; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
unavailable() { printf '%s: unavailable: %s\n' "$prog" "$*" >&2; exit 77; }

[ $# -le 1 ] || die "usage: prepare.sh [CACHE_DIR]"
cache=${1:-$(isoprobe_vm_default_cache)}
mkdir -p "$cache/vm" || die "cannot create $cache/vm"
cache=$(cd "$cache" && pwd)
vmc=$cache/vm

export DEBIAN_FRONTEND=noninteractive
for tool in apt-get apt-cache dpkg-deb dpkg-query od awk; do
    command -v "$tool" >/dev/null || unavailable "required tool '$tool' not found (Debian host expected)"
done

tmp=""
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT
tmp=$(mktemp -d "$vmc/tmp.XXXXXX")

# apt-get update once, and only when something actually has to be fetched.
apt_updated=0
apt_update_once() {
    [ "$apt_updated" = 0 ] || return 0
    apt_updated=1
    if [ "$(id -u)" = 0 ]; then
        if apt-get update -qq >"$tmp/apt-update.log" 2>&1; then
            say "apt-get update: ok"
        else
            # Stale lists may still be good enough; downloads below decide.
            say "apt-get update failed (continuing with existing lists): $(tail -n1 "$tmp/apt-update.log")"
        fi
    else
        say "not root: skipping apt-get update, using existing package lists"
    fi
}

# download PKG[=VER]... into $tmp/debs (apt-get download works as non-root;
# it writes into the current directory).
download() {
    mkdir -p "$tmp/debs"
    if ! (cd "$tmp/debs" && apt-get download -q "$@" >"$tmp/download.log" 2>&1); then
        unavailable "apt-get download $* failed: $(grep -E '^(E|W):' "$tmp/download.log" | grep -v unsandboxed | tail -n1)"
    fi
}

# ---------------------------------------------------------------- QEMU
qemu_check() { # qemu_check BIN: prints version line, fails if unusable
    # Outputs are captured before matching: "cmd | grep -q" can fail
    # under pipefail when grep exits early.
    local bin=$1 v accel dev net
    v=$("$bin" --version 2>&1) || return 1
    accel=$("$bin" -accel help 2>/dev/null) || return 1
    dev=$("$bin" -device help 2>/dev/null) || return 1
    net=$("$bin" -netdev help 2>/dev/null) || return 1
    grep -qx tcg <<<"$accel" || return 1
    grep -q '"virtio-9p-pci"' <<<"$dev" || return 1
    grep -q '"virtio-net-pci"' <<<"$dev" || return 1
    grep -qx user <<<"$net" || return 1
    printf '%s\n' "${v%%$'\n'*}"
}

prepare_qemu() {
    local sys qver pkgs root lib missing
    sys=$(command -v qemu-system-x86_64 || true)
    if [ -n "$sys" ] && qver=$(qemu_check "$sys"); then
        printf '%s\n' "$sys" >"$vmc/qemu.path"
        say "qemu: using system $sys ($qver)"
        return
    fi
    if [ -x "$vmc/qemu/qemu-system-x86_64" ] && [ -f "$vmc/qemu/.complete" ] \
        && qver=$(qemu_check "$vmc/qemu/qemu-system-x86_64"); then
        printf '%s\n' "$vmc/qemu/qemu-system-x86_64" >"$vmc/qemu.path"
        say "qemu: already unpacked in $vmc/qemu ($qver)"
        return
    fi
    apt_update_once
    # The exact package set apt would install (simulation only, no root
    # needed, nothing changes): name=version for every "Inst" line.
    pkgs=$(apt-get install -s --no-install-recommends qemu-system-x86 2>"$tmp/sim.err" \
        | awk '/^Inst /{ v=$3; gsub(/[()]/, "", v); print $2 "=" v }') \
        || unavailable "apt cannot resolve qemu-system-x86: $(tail -n1 "$tmp/sim.err")"
    [ -n "$pkgs" ] || unavailable "apt simulation of qemu-system-x86 listed no packages"
    # shellcheck disable=SC2086  # word splitting intended: one package per word
    download $pkgs
    rm -rf "$vmc/qemu"
    root=$vmc/qemu/root
    mkdir -p "$root"
    local deb
    for deb in "$tmp"/debs/*.deb; do
        dpkg-deb -x "$deb" "$root" || die "dpkg-deb -x $(basename "$deb") failed"
    done
    [ -x "$root/usr/bin/qemu-system-x86_64" ] || unavailable "qemu-system-x86_64 not found in the downloaded packages"
    cat >"$vmc/qemu/qemu-system-x86_64" <<'EOF'
#!/bin/sh
# Generated by lab/vm/prepare.sh: runs the project-local QEMU prefix.
d=$(dirname "$(readlink -f "$0")")/root
LD_LIBRARY_PATH="$d/usr/lib/x86_64-linux-gnu:$d/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
QEMU_MODULE_DIR="$d/usr/lib/x86_64-linux-gnu/qemu"
export LD_LIBRARY_PATH QEMU_MODULE_DIR
exec "$d/usr/bin/qemu-system-x86_64" "$@"
EOF
    chmod 755 "$vmc/qemu/qemu-system-x86_64"
    lib="$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu"
    missing=$(LD_LIBRARY_PATH=$lib ldd "$root/usr/bin/qemu-system-x86_64" 2>/dev/null | awk '/not found/{print $1}' | sort -u | tr '\n' ' ')
    [ -z "$missing" ] || unavailable "unpacked qemu-system-x86_64 misses shared libraries: $missing"
    qver=$(qemu_check "$vmc/qemu/qemu-system-x86_64") \
        || unavailable "unpacked qemu-system-x86_64 does not run or lacks tcg/virtio-9p/virtio-net/user-net"
    : >"$vmc/qemu/.complete"
    printf '%s\n' "$vmc/qemu/qemu-system-x86_64" >"$vmc/qemu.path"
    say "qemu: downloaded $(wc -w <<<"$pkgs") packages, unpacked into $vmc/qemu ($qver); system packages untouched"
}

# ------------------------------------------------------------- busybox
is_static_elf() {
    # No PT_INTERP = no dynamic loader needed.
    # (Output captured first: "cmd | grep -q" can fail under pipefail.)
    local out
    if command -v readelf >/dev/null; then
        out=$(readelf -lW "$1" 2>/dev/null) || return 1
        [[ $out == *"Program Headers:"* && $out != *"Requesting program interpreter"* ]]
    else
        out=$(file -L "$1") || return 1
        [[ $out == *"statically linked"* || $out == *"static-pie linked"* ]]
    fi
}

prepare_busybox() {
    local ver
    if [ -x "$vmc/busybox" ] && is_static_elf "$vmc/busybox"; then
        say "busybox: already in cache ($("$vmc/busybox" 2>&1 | awk 'NR == 1 {print $2}'))"
        return
    fi
    if [ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" = "install ok installed" ] \
        && [ -x /bin/busybox ] && is_static_elf /bin/busybox; then
        install -m 755 /bin/busybox "$vmc/busybox"
        ver=$(dpkg-query -W -f='${Version}' busybox-static)
        say "busybox: using installed busybox-static $ver (copied to cache)"
        return
    fi
    apt_update_once
    download busybox-static
    mkdir -p "$tmp/bb"
    dpkg-deb -x "$tmp"/debs/busybox-static_*.deb "$tmp/bb" || die "dpkg-deb -x busybox-static failed"
    if [ ! -x "$tmp/bb/bin/busybox" ] || ! is_static_elf "$tmp/bb/bin/busybox"; then
        unavailable "busybox-static package has no static /bin/busybox"
    fi
    install -m 755 "$tmp/bb/bin/busybox" "$vmc/busybox"
    say "busybox: downloaded busybox-static and unpacked /bin/busybox into cache (not installed system-wide)"
}

# -------------------------------------------------------------- kernel
prepare_kernel() {
    local kd=$vmc/kernel pkg x kver m f dep deps report loaded=() builtin=() missing=()
    if [ -f "$kd/.complete" ] && [ -f "$kd/vmlinuz" ] && [ -f "$kd/load-order" ]; then
        say "kernel: already prepared ($(cat "$kd/.complete")); modules: $(tr '\n' ' ' <"$kd/load-order")"
        return
    fi
    apt_update_once
    # linux-image-amd64 is a metapackage; its Depends names the real image.
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
        | awk '!found && $1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; found = 1 }')
    [ -n "$pkg" ] || unavailable "cannot resolve linux-image-amd64 to a linux-image-<abi>-amd64 package"
    download "$pkg"
    x=$tmp/kroot
    mkdir -p "$x"
    dpkg-deb -x "$tmp"/debs/"$pkg"_*.deb "$x" || die "dpkg-deb -x $pkg failed"
    rm -f "$tmp"/debs/"$pkg"_*.deb
    local vmlinuz
    vmlinuz=$(find "$x/boot" -maxdepth 1 -name 'vmlinuz-*' -print -quit)
    [ -n "$vmlinuz" ] || unavailable "$pkg contains no /boot/vmlinuz-*"
    kver=${vmlinuz##*/vmlinuz-}
    local mdir=$x/lib/modules/$kver
    [ -d "$mdir" ] || mdir=$x/usr/lib/modules/$kver
    [ -d "$mdir" ] || unavailable "$pkg contains no lib/modules/$kver"

    rm -rf "$kd"
    mkdir -p "$kd/modules"
    cp "$vmlinuz" "$kd/vmlinuz"
    cp "$x/boot/config-$kver" "$kd/config" 2>/dev/null || true
    : >"$kd/load-order"
    report=$kd/modules-report
    : >"$report"
    for m in "${ISOPROBE_VM_MODULES[@]}"; do
        # File names may use '-' where the module name has '_'.
        f=$(find "$mdir/kernel" \( -name "$m.ko" -o -name "$m.ko.*" -o -name "${m//_/-}.ko" -o -name "${m//_/-}.ko.*" \) -print -quit)
        if [ -z "$f" ]; then
            if grep -Eq "/(${m}|${m//_/-})\.ko(\.[a-z]+)?$" "$mdir/modules.builtin" 2>/dev/null; then
                builtin+=("$m")
                echo "$m builtin" >>"$report"
            else
                missing+=("$m")
                echo "$m missing" >>"$report"
            fi
            continue
        fi
        case $f in
            *.ko) cp "$f" "$kd/modules/$m.ko" ;;
            *.ko.xz) xz -dc "$f" >"$kd/modules/$m.ko" ;;
            *.ko.zst) zstd -qdc "$f" >"$kd/modules/$m.ko" ;;
            *.ko.gz) gzip -dc "$f" >"$kd/modules/$m.ko" ;;
            *) die "unknown module compression: $f" ;;
        esac || die "cannot unpack module $f"
        # Check the module's dependencies are loaded earlier or built in.
        deps=$(tr '\0' '\n' <"$kd/modules/$m.ko" | sed -n 's/^depends=//p')
        deps=${deps%%$'\n'*}
        for dep in ${deps//,/ }; do
            if ! grep -qx "$dep" "$kd/load-order" \
                && ! grep -Eq "/(${dep}|${dep//_/-})\.ko" "$mdir/modules.builtin" 2>/dev/null; then
                die "module $m depends on $dep which is neither earlier in the load order nor built in"
            fi
        done
        echo "$m" >>"$kd/load-order"
        echo "$m module ${f#"$mdir"/} depends=${deps:-none}" >>"$report"
        loaded+=("$m")
    done
    echo "$pkg $kver" >"$kd/.complete"
    say "kernel: $pkg ($kver) -> $kd/vmlinuz"
    say "kernel modules to insmod (${#loaded[@]}): ${loaded[*]:-none}"
    say "kernel modules built in: ${builtin[*]:-none}; missing: ${missing[*]:-none}"
}

prepare_qemu
prepare_busybox
prepare_kernel

if [ -c /dev/kvm ]; then
    say "note: /dev/kvm exists; boot.sh probes it with a short budget and falls back to TCG"
else
    say "note: no /dev/kvm; boot.sh will use TCG"
fi
say "ready: cache $vmc"
