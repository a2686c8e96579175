#!/usr/bin/env bash
# selftest.sh [CACHE_DIR]
#
# End-to-end test of the QEMU lab with a static C stand-in server
# (standin-server.c) instead of the real isoprobe server. Everything runs in
# a fresh network namespace (unshare -rn: only a loopback interface, no route
# anywhere), QEMU uses user-mode networking with restrict=on.
#   boot 1: ISOPROBE_VM_ACCEL=auto with a fresh KVM probe -> reports what
#           KVM did and the fallback; server exits by itself, guest powers off
#   boot 2: tcg, timed: QEMU start -> READY -> info file on the host;
#           checks the host cannot connect to 10.0.2.15; stopped via stop.sh;
#           the PVH boot if the cache has a vmlinux
#   boot 2b: the same with ISOPROBE_VM_BOOT=bzimage: the fallback path
#           (SeaBIOS, bzImage, pc) still boots and serves
#   boot 3: an impossible 1 s READY timeout must fail and leave no QEMU
# Exit 0 pass, 1 fail, 77 prerequisites missing. Cleans up on every path.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

prog=selftest.sh
fail() { printf '%s: FAIL: %s\n' "$prog" "$*" >&2; exit 1; }
unavailable() { printf '%s: unavailable: %s\n' "$prog" "$*" >&2; exit 77; }
say() { printf 'selftest: %s\n' "$*"; }

port=5555 proj=65 name=vm-selftest
shm_msg='shm: hello, 100% "quoted" '\''single'\'' ünï'
sock_msg='sock\nmsg,with,commas'

# ------------------------------------------------------------ inner part
# Runs inside the network namespace: selftest.sh --inner CACHE TMP
if [ "${1:-}" = --inner ]; then
    cache=$2 tmp=$3
    shared=$tmp/shared
    ip link set lo up || fail "ip link set lo up in the namespace"
    links=$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
    say "network namespace interfaces: $links"
    [ "$links" = "lo " ] || fail "expected only lo in the namespace, got: $links"

    trap 'isoprobe_vm_stop_all "$tmp"' EXIT

    # wait_file PATH TIMEOUT_S: short bounded poll (no inotify-tools here).
    wait_file() {
        local i n
        n=$(awk -v t="$2" 'BEGIN { print int(t * 20) }')
        for ((i = 0; i < n; i++)); do
            [ -s "$1" ] && return 0
            sleep 0.05
        done
        return 1
    }
    check_info() {
        local want got
        want=$(printf '10.0.2.15\n%s\n/bin/server\n%s' "$port" "$proj")
        got=$(cat "$shared/$name")
        [ "$got" = "$want" ] || fail "info file content: expected $(printf %q "$want"), got $(printf %q "$got")"
    }

    # -- boot 1: auto (fresh KVM probe), server exits by itself
    log1=$tmp/boot1.log
    line1=$(ISOPROBE_VM_KVM_REPROBE=1 ISOPROBE_VM_PIDFILE="$tmp/boot1.pid" \
        "$here/boot.sh" "$cache" "$tmp/initrd.gz" "$shared" "$log1" -- \
        "$port" /bin/server "$proj" "$name" /shared "$shm_msg" "$sock_msg" 2 2>"$tmp/boot1.err") \
        || { cat "$tmp/boot1.err" >&2; fail "boot 1 (auto) failed"; }
    say "boot 1 stdout: $line1"
    sed 's/^/selftest:   /' "$tmp/boot1.err"
    [[ $line1 =~ ^vm:\ qemu(\ [0-9]+\.[0-9]+)?,\ (kvm|tcg),\ (pvh\ vmlinux,\ (microvm|q35)|bzImage\ via\ SeaBIOS,\ pc) ]] \
        || fail "boot.sh stdout line malformed: $line1"
    if [ -f "$log1.kvm-failed" ]; then
        say "boot 1 kvm attempt console output: $(wc -c <"$log1.kvm-failed") bytes"
    fi
    qpid=$(cat "$tmp/boot1.pid")
    wait_file "$shared/$name" 60 || fail "boot 1: info file $shared/$name did not appear"
    check_info
    isoprobe_vm_wait_marker "$log1" "$ISOPROBE_VM_DONE" 60 "$qpid" || fail "boot 1: no $ISOPROBE_VM_DONE marker"
    grep -q "^$ISOPROBE_VM_DONE rc=0" "$log1" || fail "boot 1: server rc != 0: $(grep "$ISOPROBE_VM_DONE" "$log1")"
    timeout 20 tail --pid="$qpid" -f /dev/null || fail "boot 1: qemu did not exit after guest poweroff"
    rm -f "$tmp/boot1.pid"
    # Argument round trip through the kernel command line.
    for i in 1 2 3 4 5 6 7 8; do
        case $i in
            1) want=$port ;; 2) want=/bin/server ;; 3) want=$proj ;; 4) want=$name ;;
            5) want=/shared ;; 6) want=$shm_msg ;; 7) want=$sock_msg ;; 8) want=2 ;;
        esac
        got=$(sed -n "s/^STANDIN-ARGV\[$i\]=//p" "$log1" | tr -d '\r')
        got=$(printf '%b' "${got//%/\\x}")
        [ "$got" = "$want" ] || fail "argv[$i] mangled: expected $(printf %q "$want"), got $(printf %q "$got")"
    done
    say "boot 1: info file ok, argv round trip ok (spaces, commas, %, quotes, backslash, UTF-8), DONE rc=0, qemu exited by itself"
    rm -f "$shared/$name"

    # -- boot 2: tcg, timed; server waits long, VM stopped with stop.sh
    log2=$tmp/boot2.log
    t0=$(isoprobe_vm_now)
    line2=$(ISOPROBE_VM_ACCEL=tcg ISOPROBE_VM_PIDFILE="$tmp/boot2.pid" \
        "$here/boot.sh" "$cache" "$tmp/initrd.gz" "$shared" "$log2" -- \
        "$port" /bin/server "$proj" "$name" /shared "$shm_msg" "$sock_msg" 120 2>"$tmp/boot2.err") \
        || { cat "$tmp/boot2.err" >&2; fail "boot 2 (tcg) failed"; }
    t_ready=$(isoprobe_vm_now)
    say "boot 2 stdout: $line2"
    wait_file "$shared/$name" 60 || fail "boot 2: info file did not appear"
    t_info=$(isoprobe_vm_now)
    check_info
    # What the isoprobe client will see: 10.0.2.15 is not reachable from the
    # host side of QEMU user networking (no route in the namespace).
    if timeout 5 bash -c "exec 3<>/dev/tcp/10.0.2.15/$port" 2>"$tmp/connect.err"; then
        fail "host could connect to 10.0.2.15:$port (expected unreachable)"
    fi
    say "boot 2: connect 10.0.2.15:$port from host fails as expected: $(tail -n1 "$tmp/connect.err" | sed 's/.*: //')"
    say "boot 2 guest: $(grep -m1 "$ISOPROBE_VM_READY" "$log2" | tr -d '\r')"
    say "TIMING tcg: qemu start -> READY $(isoprobe_vm_elapsed "$t0" "$t_ready") s, -> info file on host $(isoprobe_vm_elapsed "$t0" "$t_info") s"
    stopline=$("$here/stop.sh" "$tmp/boot2.pid")
    say "boot 2: $stopline"
    [ ! -f "$tmp/boot2.pid" ] || fail "stop.sh left the pidfile"
    if [ "$(cut -d' ' -f1 "$cache/vm/kernel/vmlinux.status" 2>/dev/null)" = ok ]; then
        [[ $line2 == *", pvh vmlinux, "* ]] || fail "boot 2: the cache has a vmlinux, but the boot was: $line2"
    fi
    say "boot 2 stages: $(cat "$log2.timing")"
    rm -f "$shared/$name"

    # -- boot 2b: the bzImage path, forced
    log2b=$tmp/boot2b.log
    t0=$(isoprobe_vm_now)
    line2b=$(ISOPROBE_VM_ACCEL=tcg ISOPROBE_VM_BOOT=bzimage ISOPROBE_VM_PIDFILE="$tmp/boot2b.pid" \
        "$here/boot.sh" "$cache" "$tmp/initrd.gz" "$shared" "$log2b" -- \
        "$port" /bin/server "$proj" "$name" /shared "$shm_msg" "$sock_msg" 120 2>"$tmp/boot2b.err") \
        || { cat "$tmp/boot2b.err" >&2; fail "boot 2b (bzimage) failed"; }
    t_ready=$(isoprobe_vm_now)
    say "boot 2b stdout: $line2b"
    [[ $line2b == *", tcg, bzImage via SeaBIOS, pc ("*"forced by ISOPROBE_VM_BOOT=bzimage"* ]] \
        || fail "boot 2b: not the forced bzImage path: $line2b"
    wait_file "$shared/$name" 60 || fail "boot 2b: info file did not appear"
    t_info=$(isoprobe_vm_now)
    check_info
    say "TIMING tcg bzImage: qemu start -> READY $(isoprobe_vm_elapsed "$t0" "$t_ready") s, -> info file on host $(isoprobe_vm_elapsed "$t0" "$t_info") s; stages: $(cat "$log2b.timing")"
    say "boot 2b: $("$here/stop.sh" "$tmp/boot2b.pid")"
    rm -f "$shared/$name"

    # -- boot 3: failure path must not leave qemu behind
    rc=0
    ISOPROBE_VM_ACCEL=tcg ISOPROBE_VM_TIMEOUT=1 ISOPROBE_VM_PIDFILE="$tmp/boot3.pid" \
        "$here/boot.sh" "$cache" "$tmp/initrd.gz" "$shared" "$tmp/boot3.log" -- \
        "$port" /bin/server "$proj" "$name" /shared a b 1 >"$tmp/boot3.out" 2>"$tmp/boot3.err" || rc=$?
    [ "$rc" = 1 ] || fail "boot 3 with 1 s timeout: expected exit 1, got $rc"
    [ ! -s "$tmp/boot3.out" ] || fail "boot 3 printed on stdout despite failing: $(cat "$tmp/boot3.out")"
    [ ! -f "$tmp/boot3.pid" ] || fail "boot 3 left a pidfile"
    if pgrep -f -- "$tmp/boot3.log" >/dev/null; then
        fail "boot 3 left a qemu process running"
    fi
    say "boot 3: timeout path ok: $(cat "$tmp/boot3.err")"
    exit 0
fi

# ------------------------------------------------------------ outer part
[ $# -le 1 ] || { printf 'usage: selftest.sh [CACHE_DIR]\n' >&2; exit 1; }
cache=${1:-$(isoprobe_vm_default_cache)}
command -v gcc >/dev/null || unavailable "gcc not found (needed for the stand-in server)"
command -v unshare >/dev/null || unavailable "unshare not found"

rc=0
"$here/prepare.sh" "$cache" >/dev/null || rc=$?
[ "$rc" = 0 ] || { [ "$rc" = 77 ] && exit 77; fail "prepare.sh failed (rc $rc)"; }
cache=$(cd "$cache" && pwd)

tmp=""
cleanup() {
    if [ -n "$tmp" ]; then
        isoprobe_vm_stop_all "$tmp"
        if [ "${ISOPROBE_VM_KEEP:-0}" = 1 ]; then
            say "kept $tmp (ISOPROBE_VM_KEEP=1)"
        else
            rm -rf "$tmp"
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tmp=$(mktemp -d "${TMPDIR:-/tmp}/isoprobe-vm-selftest.XXXXXX")
mkdir "$tmp/shared"

gcc -static -O2 -Wall -o "$tmp/server" "$here/standin-server.c" 2>"$tmp/gcc.err" \
    || unavailable "cannot build the static stand-in server: $(tail -n1 "$tmp/gcc.err")"
"$here/build-initramfs.sh" "$cache" "$tmp/server" "$tmp/initrd.gz" | sed 's/^/selftest: /'

unshare -rn -- "$here/selftest.sh" --inner "$cache" "$tmp" || fail "inner test failed (see above)"
say "PASS"
