#!/usr/bin/env bash
# bench-boot.sh [--rounds N] CACHE_DIR STATIC_SERVER
#
# Times the guest's boot on both paths side by side: the PVH boot of the
# uncompressed kernel (what boot.sh does by default) and the bzImage through
# SeaBIOS (ISOPROBE_VM_BOOT=bzimage), N rounds (default 5), alternating
# which goes first, so that load from other processes hits both alike.
# Each boot runs STATIC_SERVER as the guest's /bin/server; the boot is over
# when its info file is visible on the host (inotify), then QEMU is stopped.
# Stages per boot (boot.sh's LOGFILE.timing plus the last step):
#   kernel  QEMU start -> kernel start (firmware, loading, decompression)
#   init    kernel start -> the guest's /init (guest uptime)
#   ready   /init -> READY (modules, network, 9p)
#   info    READY -> info file visible on the host
# Stdout, one line per boot, then one per path and the ratio:
#   boot ROUND PATH kernel=S init=S ready=S info=S total=S | MECHANISM LINE
#   path PATH n=N total_median=S total_min=S kernel=S init=S ready=S info=S | MECHANISM LINE
#   ratio bzimage/pvh total_median=R
# (stage values in "path" lines are medians). Progress on stderr.
# Runs inside "unshare -rn" (loopback only). Exit 0, 1 on failure, 77 if
# QEMU cannot run here. Cleans up on every path.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

prog=bench-boot.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
unavailable() { printf '%s: unavailable: %s\n' "$prog" "$*" >&2; exit 77; }
say() { printf 'bench-boot: %s\n' "$*" >&2; }

# ------------------------------------------------------------ inner part
# bench-boot.sh --inner CACHE TMP ROUNDS (inside the network namespace)
if [ "${1:-}" = --inner ]; then
    cache=$2 tmp=$3 rounds=$4
    shared=$tmp/shared name=vm-bench
    ip link set lo up || die "ip link set lo up in the namespace"
    trap 'isoprobe_vm_stop_all "$tmp"; [ -z "${mon_pid:-}" ] || kill "$mon_pid" 2>/dev/null || true' EXIT
    # One inotify monitor for the whole run: an info file created while
    # nobody reads is still queued, so no event is lost.
    exec {mon}< <(exec inotifywait -q -m -e create,moved_to,close_write --format %f "$shared" 2>/dev/null)
    mon_pid=$!
    # wait_info TIMEOUT_S: until $shared/$name exists.
    wait_info() {
        local deadline f
        deadline=$(($(date +%s) + $1))
        while [ ! -s "$shared/$name" ]; do
            [ "$(date +%s)" -lt "$deadline" ] || return 1
            IFS= read -r -t 1 f <&"$mon" || true
        done
    }
    one_boot() { # one_boot ROUND PATH
        local r=$1 p=$2 log=$tmp/$1-$2.log line t_ret t_info
        rm -f "$shared/$name"
        line=$(ISOPROBE_VM_BOOT=$p ISOPROBE_VM_PIDFILE="$log.pid" \
            "$here/boot.sh" "$cache" "$tmp/initrd.gz" "$shared" "$log" -- \
            5001 /bin/server 1 "$name" /shared bench-shm bench-sock 2>"$log.err") \
            || die "round $r, $p boot failed: $(tail -n1 "$log.err")"
        t_ret=$(isoprobe_vm_now)
        wait_info 60 || die "round $r, $p: no info file within 60 s of READY"
        t_info=$(isoprobe_vm_now)
        "$here/stop.sh" "$log.pid" 3 >/dev/null
        rm -f "$shared/$name"
        # boot.sh's stages, plus READY -> info file.
        awk -v r="$r" -v i="$(isoprobe_vm_elapsed "$t_ret" "$t_info")" -v line="$line" '{
            for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
            printf "boot %s %s kernel=%s init=%s ready=%s info=%.2f total=%.2f | %s\n",
                r, v["path"], v["kernel"], v["init"], v["ready"], i, v["total"] + i, line
        }' "$log.timing"
    }
    for ((r = 1; r <= rounds; r++)); do
        if ((r % 2)); then order=(pvh bzimage); else order=(bzimage pvh); fi
        for p in "${order[@]}"; do
            out=$(one_boot "$r" "$p")
            say "${out%% | *}"
            printf '%s\n' "$out"
        done
    done
    exit 0
fi

# ------------------------------------------------------------ outer part
rounds=5
if [ "${1:-}" = --rounds ]; then
    rounds=${2:?--rounds needs a number}
    shift 2
fi
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive number (got $rounds)"
[ $# -eq 2 ] || { printf 'usage: bench-boot.sh [--rounds N] CACHE_DIR STATIC_SERVER\n' >&2; exit 1; }
cache=$1 server=$2
for tool in unshare inotifywait flock; do
    command -v "$tool" >/dev/null || unavailable "$tool not found"
done
mkdir -p "$cache" || die "cannot create $cache"
rc=0
prep=$(flock "$cache/.prepare.lock" "$here/prepare.sh" "$cache" 2>&1) || rc=$?
[ "$rc" = 0 ] || { [ "$rc" = 77 ] && unavailable "${prep##*$'\n'}"; die "prepare.sh failed: ${prep##*$'\n'}"; }
cache=$(cd "$cache" && pwd)
[ "$(cut -d' ' -f1 "$cache/vm/kernel/vmlinux.status" 2>/dev/null)" = ok ] \
    || unavailable "no vmlinux to compare: $(cut -d' ' -f3- "$cache/vm/kernel/vmlinux.status" 2>/dev/null)"

tmp=""
cleanup() {
    if [ -n "$tmp" ]; then
        isoprobe_vm_stop_all "$tmp"
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tmp=$(mktemp -d "${TMPDIR:-/tmp}/isoprobe-vm-bench.XXXXXX")
mkdir "$tmp/shared"
"$here/build-initramfs.sh" "$cache" "$server" "$tmp/initrd.gz" >&2

unshare -rn -- "$here/bench-boot.sh" --inner "$cache" "$tmp" "$rounds" >"$tmp/boots" \
    || die "a boot failed (see above)"
cat "$tmp/boots"
# Per path: medians of every stage and of the total, the fastest total.
for p in pvh bzimage; do
    grep "^boot [0-9]* $p " "$tmp/boots" | awk -v p="$p" '
        function median(a, n,   i, j, t) {
            for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        {
            n++
            for (f = 4; f <= 8; f++) { split($f, kv, "="); s[kv[1], n] = kv[2] }
            sub(/^[^|]*\| /, ""); mech = $0
        }
        END {
            split("kernel init ready info total", names, " ")
            for (k = 1; k <= 5; k++) { for (i = 1; i <= n; i++) a[i] = s[names[k], i]; m[names[k]] = median(a, n) }
            min = s["total", 1]; for (i = 2; i <= n; i++) if (s["total", i] < min) min = s["total", i]
            printf "path %s n=%d total_median=%.2f total_min=%.2f kernel=%.2f init=%.2f ready=%.2f info=%.2f | %s\n",
                p, n, m["total"], min, m["kernel"], m["init"], m["ready"], m["info"], mech
        }'
done | tee "$tmp/paths"
awk '/^path pvh /{ split($4, a, "="); pv = a[2] } /^path bzimage /{ split($4, a, "="); bz = a[2] }
    END { if (pv > 0) printf "ratio bzimage/pvh total_median=%.2f\n", bz / pv }' "$tmp/paths"
