#!/usr/bin/env bash
# prepare.sh [CACHE_DIR]
#
# Idempotently fetches everything the QEMU lab needs into CACHE_DIR/vm
# (CACHE_DIR defaults to <repo>/.lab-cache):
#   - QEMU (qemu-system-x86_64), see "QEMU install decision" below
#   - a static busybox
#   - the Debian kernel (vmlinuz) and the virtio / 9p modules, uncompressed
#   - the same kernel as an uncompressed ELF (vmlinux) with its PVH entry
#     note checked, for booting without firmware setup and decompression
#   - the host's TSC frequency (the microvm machine needs it)
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
    local bin=$1 v accel dev net mach
    v=$("$bin" --version 2>&1) || return 1
    accel=$("$bin" -accel help 2>/dev/null) || return 1
    dev=$("$bin" -device help 2>/dev/null) || return 1
    net=$("$bin" -netdev help 2>/dev/null) || return 1
    grep -qx tcg <<<"$accel" || return 1
    grep -q '"virtio-9p-pci"' <<<"$dev" || return 1
    grep -q '"virtio-net-pci"' <<<"$dev" || return 1
    grep -qx user <<<"$net" || return 1
    # What the PVH boot can use (boot.sh reads line 2 of qemu.version):
    # microvm with virtio-mmio devices, q35. A file, since this runs in $(...).
    local qemu_caps=""
    mach=$("$bin" -machine help 2>/dev/null) || return 1
    if grep -q '^microvm ' <<<"$mach" && grep -q '"virtio-9p-device"' <<<"$dev" \
        && grep -q '"virtio-net-device"' <<<"$dev"; then
        qemu_caps+="microvm "
    fi
    if grep -q '^q35 ' <<<"$mach"; then
        qemu_caps+="q35 "
    fi
    printf '%s\n' "$qemu_caps" >"$tmp/qemu-caps"
    printf '%s\n' "${v%%$'\n'*}"
}

prepare_qemu() {
    local sys qver pkgs root lib missing
    sys=$(command -v qemu-system-x86_64 || true)
    if [ -n "$sys" ] && qver=$(qemu_check "$sys"); then
        printf '%s\n' "$sys" >"$vmc/qemu.path"
        printf '%s\n%s\n' "$qver" "$(cat "$tmp/qemu-caps")" >"$vmc/qemu.version"
        say "qemu: using system $sys ($qver)"
        return
    fi
    if [ -x "$vmc/qemu/qemu-system-x86_64" ] && [ -f "$vmc/qemu/.complete" ] \
        && qver=$(qemu_check "$vmc/qemu/qemu-system-x86_64"); then
        printf '%s\n' "$vmc/qemu/qemu-system-x86_64" >"$vmc/qemu.path"
        printf '%s\n%s\n' "$qver" "$(cat "$tmp/qemu-caps")" >"$vmc/qemu.version"
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
    printf '%s\n%s\n' "$qver" "$(cat "$tmp/qemu-caps")" >"$vmc/qemu.version"
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
# find_module MDIR NAME: prints the module file for NAME (file names may use
# '-' where the module name has '_'), or nothing.
find_module() {
    local mdir=$1 m=$2
    find "$mdir/kernel" \( -name "$m.ko" -o -name "$m.ko.*" -o -name "${m//_/-}.ko" -o -name "${m//_/-}.ko.*" \) -print -quit
}

is_builtin() { # is_builtin MDIR NAME
    grep -Eq "/(${2}|${2//_/-})\.ko(\.[a-z]+)?$" "$1/modules.builtin" 2>/dev/null
}

# write_load_order BUS MDIR NAME...: writes $kd/load-order.BUS with the
# modules of one virtio transport, checking that every module's depends= is
# loaded earlier or built in. Returns 1 (and writes nothing) if a module is
# missing.
write_load_order() {
    local bus=$1 mdir=$2 m dep deps list=()
    shift 2
    for m in "$@"; do
        if [ -f "$kd/modules/$m.ko" ]; then
            deps=$(tr '\0' '\n' <"$kd/modules/$m.ko" | sed -n 's/^depends=//p')
            deps=${deps%%$'\n'*}
            for dep in ${deps//,/ }; do
                if [[ " ${list[*]} " != *" $dep "* ]] && ! is_builtin "$mdir" "$dep"; then
                    die "module $m depends on $dep which is neither earlier in the $bus load order nor built in"
                fi
            done
            list+=("$m")
        elif ! is_builtin "$mdir" "$m"; then
            return 1
        fi
    done
    printf '%s\n' "${list[@]}" >"$kd/load-order.$bus"
}

kd=$vmc/kernel
prepare_kernel() {
    local pkg x kver m f deps report builtin=() missing=() all=()
    if [ -f "$kd/.complete" ] && [ -f "$kd/vmlinuz" ] && [ -f "$kd/load-order.pci" ]; then
        say "kernel: already prepared ($(cat "$kd/.complete")); modules for pc/q35: $(tr '\n' ' ' <"$kd/load-order.pci")"
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
    report=$kd/modules-report
    : >"$report"
    # The union of both transports' lists, each module once.
    for m in "${ISOPROBE_VM_MODULES_PCI[@]}" "${ISOPROBE_VM_MODULES_MMIO[@]}"; do
        [[ " ${all[*]} " == *" $m "* ]] || all+=("$m")
    done
    for m in "${all[@]}"; do
        f=$(find_module "$mdir" "$m")
        if [ -z "$f" ]; then
            if is_builtin "$mdir" "$m"; then
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
        deps=$(tr '\0' '\n' <"$kd/modules/$m.ko" | sed -n 's/^depends=//p')
        deps=${deps%%$'\n'*}
        echo "$m module ${f#"$mdir"/} depends=${deps:-none}" >>"$report"
    done
    write_load_order pci "$mdir" "${ISOPROBE_VM_MODULES_PCI[@]}" \
        || unavailable "$pkg lacks modules the guest needs: ${missing[*]}"
    if ! write_load_order mmio "$mdir" "${ISOPROBE_VM_MODULES_MMIO[@]}"; then
        echo "mmio: not possible (missing: ${missing[*]}); no microvm" >>"$report"
    fi
    echo "$pkg $kver" >"$kd/.complete"
    say "kernel: $pkg ($kver) -> $kd/vmlinuz"
    say "kernel modules for pc/q35 (virtio-pci): $(tr '\n' ' ' <"$kd/load-order.pci")"
    if [ -f "$kd/load-order.mmio" ]; then
        say "kernel modules for microvm (virtio-mmio): $(tr '\n' ' ' <"$kd/load-order.mmio")"
    fi
    say "kernel modules built in: ${builtin[*]:-none}; missing: ${missing[*]:-none}"
}

# ------------------------------------------------------------- vmlinux
# The uncompressed kernel, for booting through its PVH entry point: QEMU
# then jumps straight into 32-bit Linux, skipping the firmware's real-mode
# setup and the decompression of the bzImage, both slow under TCG. The
# bzImage's setup header (boot protocol >= 2.08) gives the compressed
# payload's place: setup_sects at 0x1f1, payload_offset/payload_length at
# 0x248/0x24c (relative to the protected-mode code after the setup
# sectors). The kernel build appends the uncompressed size as a 4-byte
# little-endian trailer to the payload. Any failure here only means boot.sh
# boots the bzImage as before: vmlinux.status says why.

le_u32() { # le_u32 FILE OFFSET: unsigned 32-bit little-endian value
    od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '
}

# decompressor_for MAGIC_HEX: prints "TOOL PACKAGE ARGS..." for the payload.
decompressor_for() {
    case $1 in
        1f8b*) echo "gzip gzip -dc" ;;
        fd377a585a00*) echo "xz xz-utils -dc" ;;
        28b52ffd*) echo "zstd zstd -dc" ;;
        02214c18*) echo "lz4 lz4 -dc" ;;
        425a68*) echo "bzip2 bzip2 -dc" ;;
        5d0000*) echo "xz xz-utils --format=lzma -dc" ;;
        894c5a4f*) echo "lzop lzop -dc" ;;
        *) return 1 ;;
    esac
}

# tool_path TOOL PACKAGE: the tool from PATH, else from the package's .deb
# unpacked into $vmc/tools (never installed system-wide).
tool_path() {
    local tool=$1 pkg=$2 p
    if p=$(command -v "$tool"); then
        printf '%s\n' "$p"
        return 0
    fi
    for p in "$vmc/tools/root/usr/bin/$tool" "$vmc/tools/root/bin/$tool"; do
        if [ -x "$p" ]; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    # Inside $(...): progress goes to stderr, stdout is the tool's path.
    apt_update_once >&2
    mkdir -p "$tmp/tooldebs" "$vmc/tools/root"
    (cd "$tmp/tooldebs" && apt-get download -q "$pkg" >"$tmp/tool-download.log" 2>&1) || return 1
    dpkg-deb -x "$tmp"/tooldebs/"$pkg"_*.deb "$vmc/tools/root" || return 1
    for p in "$vmc/tools/root/usr/bin/$tool" "$vmc/tools/root/bin/$tool"; do
        if [ -x "$p" ]; then
            say "vmlinux: $tool not installed; unpacked the $pkg package into $vmc/tools (not installed system-wide)" >&2
            printf '%s\n' "$p"
            return 0
        fi
    done
    return 1
}

# extract_vmlinux BZIMAGE OUT: 0 and OUT = the ELF, or 1 with the reason on
# stdout.
extract_vmlinux() {
    local bz=$1 out=$2 ver ss po pl start magic spec tool pkg args bin want got
    if [ "$(dd if="$bz" bs=1 skip=$((0x202)) count=4 status=none)" != HdrS ]; then
        echo "no Linux boot protocol header in the bzImage"
        return 1
    fi
    ver=$(od -An -tu2 -j $((0x206)) -N2 "$bz" | tr -d ' ')
    if [ "$ver" -lt $((0x208)) ]; then
        echo "boot protocol $(printf '%x' "$ver") has no payload fields (need 2.08)"
        return 1
    fi
    ss=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
    [ "$ss" != 0 ] || ss=4
    po=$(le_u32 "$bz" $((0x248)))
    pl=$(le_u32 "$bz" $((0x24c)))
    start=$(((ss + 1) * 512 + po))
    if [ "$pl" -le 4 ] || [ $((start + pl)) -gt "$(stat -c %s "$bz")" ]; then
        echo "payload (offset $start, length $pl) lies outside the bzImage"
        return 1
    fi
    magic=$(od -An -tx1 -j "$start" -N6 "$bz" | tr -d ' \n')
    if ! spec=$(decompressor_for "$magic"); then
        echo "unknown payload compression (magic $magic)"
        return 1
    fi
    read -r tool pkg args <<<"$spec"
    if ! bin=$(tool_path "$tool" "$pkg"); then
        echo "no $tool to decompress the payload (package $pkg not available)"
        return 1
    fi
    # shellcheck disable=SC2086  # args: the tool's options, one per word
    if ! dd if="$bz" iflag=skip_bytes,count_bytes skip="$start" count=$((pl - 4)) bs=1M status=none \
        | "$bin" $args >"$out" 2>"$tmp/decompress.err"; then
        echo "$tool -d failed: $(tail -n1 "$tmp/decompress.err")"
        return 1
    fi
    want=$(le_u32 "$bz" $((start + pl - 4)))
    got=$(stat -c %s "$out")
    if [ "$got" != "$want" ]; then
        echo "decompressed $got bytes, the payload's trailer says $want"
        return 1
    fi
    if [ "$(od -An -c -N4 "$out" | tr -d ' ')" != '177ELF' ]; then
        echo "the decompressed payload is not an ELF file"
        return 1
    fi
    echo "$tool"
}

prepare_vmlinux() {
    local key how notes
    key=$(sha256sum "$kd/vmlinuz" | cut -c1-16)
    if [ -f "$kd/vmlinux.status" ] && [ "$(awk 'NR == 1 { print $2 }' "$kd/vmlinux.status")" = "$key" ]; then
        say "vmlinux: already prepared ($(cut -d' ' -f1,3- "$kd/vmlinux.status"))"
        return
    fi
    rm -f "$kd/vmlinux" "$kd/vmlinux.status"
    if ! command -v readelf >/dev/null; then
        how="none $key readelf not found (binutils; scripts/setup.sh installs it)"
    elif ! how=$(extract_vmlinux "$kd/vmlinuz" "$tmp/vmlinux"); then
        how="none $key $how"
    elif ! notes=$(readelf -nW "$tmp/vmlinux" 2>&1); then
        how="none $key readelf -n failed: ${notes##*$'\n'}"
    # XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit PVH entry point QEMU uses
    # when -kernel is an ELF file.
    elif ! grep -Eq '^ *Xen +0x[0-9a-f]+[[:space:]]+Unknown note type: \(0x00000012\)' <<<"$notes"; then
        how="none $key the kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY; CONFIG_PVH)"
    else
        mv -f "$tmp/vmlinux" "$kd/vmlinux"
        how="ok $key $(stat -c %s "$kd/vmlinux") bytes, payload decompressed with $how, PVH note present"
    fi
    printf '%s\n' "$how" >"$kd/vmlinux.status"
    say "vmlinux: $(cut -d' ' -f1,3- "$kd/vmlinux.status")"
}

# ------------------------------------------------------------ host TSC
# microvm has no HPET or PIT for the guest kernel to calibrate its TSC
# against; under TCG the guest reads the host's TSC, so the kernel gets the
# host's frequency as tsc_early_khz=. Measured once per host boot (keyed by
# boot_id), only where the TSC ticks at a constant rate. Without it,
# boot.sh uses q35 instead of microvm.
prepare_tsc() {
    local key khz flags cc
    key=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
    # A failed measurement ("retry:") is tried again on the next run.
    if [ -f "$vmc/host-tsc" ] && [ "$(awk 'NR == 1 { print $2 }' "$vmc/host-tsc")" = "$key" ] \
        && [ "$(awk 'NR == 1 { print $3 }' "$vmc/host-tsc")" != "retry:" ]; then
        say "host TSC: already measured ($(cut -d' ' -f1,3- "$vmc/host-tsc"))"
        return
    fi
    flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
    cc=$(command -v cc || command -v gcc || true)
    if [[ " $flags " != *" constant_tsc "* || " $flags " != *" nonstop_tsc "* ]]; then
        khz="none $key the host's TSC does not tick at a constant rate (no constant_tsc/nonstop_tsc)"
    elif [ -z "$cc" ]; then
        khz="none $key no C compiler to build the TSC measurement"
    elif ! "$cc" -O2 -o "$tmp/tsc-khz" "$here/tsc-khz.c" 2>"$tmp/tsc-cc.err"; then
        khz="none $key building tsc-khz failed: $(tail -n1 "$tmp/tsc-cc.err")"
    elif ! khz=$("$tmp/tsc-khz" 2>"$tmp/tsc.err"); then
        khz="none $key retry: $(tail -n1 "$tmp/tsc.err")"
    elif ! [[ $khz =~ ^[0-9]+$ ]] || [ "$khz" -lt 100000 ]; then
        khz="none $key retry: implausible measurement '$khz' kHz"
    else
        khz="ok $key $khz"
    fi
    printf '%s\n' "$khz" >"$vmc/host-tsc.$$"
    mv -f "$vmc/host-tsc.$$" "$vmc/host-tsc"
    case $khz in
        ok*) say "host TSC: ${khz##* } kHz (measured)" ;;
        *) say "host TSC: unknown, boot.sh will use q35 instead of microvm (${khz#none "$key" })" ;;
    esac
}

prepare_qemu
prepare_busybox
prepare_kernel
prepare_vmlinux
prepare_tsc

if [ -c /dev/kvm ]; then
    say "note: /dev/kvm exists; boot.sh probes it with a short budget and falls back to TCG"
else
    say "note: no /dev/kvm; boot.sh will use TCG"
fi
say "ready: cache $vmc"
