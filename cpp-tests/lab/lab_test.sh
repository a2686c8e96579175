#!/usr/bin/env bash
# End-to-end tests of the environment lab (lab/run), one CASE per ctest test:
#
#   lab_test.sh CASE --lab LAB_RUN --server S --client C --static-server SS
#
#   host          host:2                    exact summary; host servers announce the lab's address
#   container     container:2               (unshare, or the fallback the lab picks)
#   container-bwrap  container:1 with --container bwrap
#   vm            vm:1 --vm qemu            a real QEMU guest; exit 77 if QEMU cannot run here;
#                 booted through the PVH entry point when the cache has a vmlinux
#   vm-fallback   vm:1 --vm qemu with the PVH boot broken on purpose
#                 (ISOPROBE_VM_PVH_APPEND=isoprobe.bus=none: the guest's /init
#                 fails): lab/vm/boot.sh falls back to the bzImage via SeaBIOS
#   vm-standin    vm:1 --vm standin         the labelled stand-in
#   mixed         host:1 container:1 vm:1 --vm qemu
#   isolation     host:1 container:1 vm:1 --vm qemu: the container's and the
#                 VM's segments never show in the host's /proc/sysvipc/shm,
#                 and afterwards no segment, process, namespace or file is left
#   apptainer, apptainer-hostdir, apptainer-ipc, apptainer-unprivileged,
#   apptainer-mixed   real Apptainer: image file -> Container, bound host
#                 directory -> Host, --ipc -> Container, as nobody, beside
#                 the other kinds; no loop device or mount left
#   unprivileged  the host, container and vm-standin cases again under
#                 "unshare -r", as user nobody, and as nobody inside bwrap:
#                 each passes or skips with a reason
#
# Exit 0 pass, 1 fail, 77 skip (reason printed): the lab exits 77 exactly
# when a mechanism cannot be had here; every other outcome is judged.
set -uo pipefail

case_name=${1:?usage: lab_test.sh CASE --lab LAB_RUN --server S --client C --static-server SS}
shift
lab="" server="" client="" static_server="" explain_client=""
args=("$@")
while (($#)); do
    case $1 in
        --lab) lab=$2; shift ;;
        --server) server=$2; shift ;;
        --client) client=$2; shift ;;
        --static-server) static_server=$2; shift ;;
        --explain-client) explain_client=$2; shift ;;
        *) echo "lab_test: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
self=$(readlink -f "$0")
# The lab's cache (lab/run's default) and its mechanism line's start.
lab_cache=${ISOPROBE_LAB_CACHE:-$(dirname "$lab")/../.lab-cache}
qemu_re='qemu( [0-9]+\.[0-9]+)?'

failures=0
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
note() { printf '%s\n' "$*"; }

work=""
cleanup() { if [ -n "$work" ]; then rm -rf "$work"; fi; }
trap cleanup EXIT
# ctest's TERM on timeout: pass it on to the lab (it tears down), then end.
lab_pid=""
trap '[ -z "$lab_pid" ] || kill -TERM "$lab_pid" 2>/dev/null; wait "$lab_pid" 2>/dev/null; exit 143' TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/isoprobe-labtest.XXXXXX") || exit 1
chmod 755 "$work"

# run_lab KIND:COUNT... [OPTIONS]: runs the lab with a snapshot directory;
# sets out, err, rc, snap. Exits 77 (with the lab's reason) if the lab says a
# mechanism is unavailable.
run_lab() {
    snap=$work/snap.$RANDOM
    mkdir -p "$snap"
    "$lab" --server "$server" --client "$client" --static-server "$static_server" \
        --snapshot "$snap" "$@" >"$work/out" 2>"$work/err" &
    lab_pid=$!
    wait "$lab_pid"
    rc=$?
    lab_pid=""
    lab_end_ticks=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", $1 * hz + 1 }' /proc/uptime)
    out=$(cat "$work/out")
    err=$(cat "$work/err")
    note "\$ lab/run $*"
    note "$out"
    [ -z "$err" ] || note "$err"
    note "(lab exit $rc)"
    if [ "$rc" = 77 ]; then
        note "SKIP: $(grep -m1 'unavailable' <<<"$err" || tail -n1 <<<"$err")"
        exit 77
    fi
    [ "$rc" = 0 ] || fail "lab/run exited $rc"
}

# expect_summary LINE...: the client's five lines, exactly.
expect_summary() {
    local want got
    want=$(printf '%s\n' "$@")
    got=$(sed -n '/^Total Servers:/,/^Messages:/p' <<<"$out")
    if [ "$got" != "$want" ]; then
        fail "summary differs"
        note "expected:"; note "$want"; note "got:"; note "$got"
    fi
    # The lab's own copy of the client's stdout says the same.
    [ "$(cat "$snap/client.out" 2>/dev/null)" = "$want" ] || fail "client.out in the snapshot differs from the summary"
}

# expect_line REGEX WHAT: a mechanism line is printed.
expect_line() {
    grep -Eq "$1" <<<"$out" || fail "no line matching /$1/ ($2)"
}

# record_field SERVER FIELD: a field (key=value) of a server's record line.
record_field() {
    sed -n "s/^server $1 .*\\b$2=\\([^ ]*\\).*/\\1/p" "$snap/record"
}

# expect_info NAME IP PORT FTOK PROJ: the info file the server published.
expect_info() {
    local want got
    want=$(printf '%s\n%s\n%s\n%s' "$2" "$3" "$4" "$5")
    got=$(cat "$snap/info/$1" 2>/dev/null)
    [ "$got" = "$want" ] || fail "info file $1: expected $(printf %q "$want"), got $(printf %q "$got")"
}

# expect_nothing_left: after the lab, no process is in any namespace it made,
# no process mentions its directory, its directory and host segments are gone.
expect_nothing_left() {
    local dir ns kind key p link left=""
    dir=$(sed -n 's/^dir //p' "$snap/record")
    [ -n "$dir" ] || { fail "record names no lab directory"; return; }
    [ ! -e "$dir" ] || fail "lab directory $dir still exists"
    # Namespaces the lab created (those that differ from this test's own).
    local -a made=()
    while read -r kind ns; do
        [ "$ns" = "$(readlink "/proc/self/ns/$kind")" ] || made+=("$ns")
    done < <(sed -n 's/^lab-ns //p' "$snap/record")
    while read -r ns; do made+=("$ns"); done < <(grep -o '\b[a-z]*=[a-z]*:\[[0-9]*\]' "$snap/record" | sed 's/^[a-z]*=//' | sort -u \
        | while read -r ns; do [ "$ns" = "$(readlink "/proc/self/ns/${ns%%:*}")" ] || echo "$ns"; done)
    ((${#made[@]})) || fail "the record lists no namespace the lab created"
    # Namespace inode numbers are reused as soon as they are free, so a lab
    # that ctest runs in parallel may own one of these numbers by now: a
    # process in such a namespace is ours only if it started before our lab
    # ended. Every process the lab starts also carries LAB_DIR=<dir>.
    local start
    for p in /proc/[0-9]*; do
        if grep -qaF -- "$dir" "$p/cmdline" 2>/dev/null || tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "LAB_DIR=$dir"; then
            left+=" ${p#/proc/}($(tr '\0' ' ' 2>/dev/null <"$p/cmdline" | cut -c1-60))"
            continue
        fi
        start=$(sed 's/.*) //' 2>/dev/null <"$p/stat" | awk '{ print $20 }')
        [ -n "$start" ] && ((start <= lab_end_ticks)) || continue
        for link in "$p"/ns/*; do
            ns=$(readlink "$link" 2>/dev/null) || continue
            for m in "${made[@]}"; do
                [ "$ns" != "$m" ] || left+=" ${p#/proc/}($ns)"
            done
        done
    done
    [ -z "$left" ] || fail "processes left in the lab's namespaces or naming its directory:$left"
    # ftok keys repeat: a key is 16 bits of an inode, and the inode of the
    # lab's ftok file is free again once its directory is gone, so a test
    # that ctest runs in parallel may create the same key within the second
    # the lab ended (seen in CI). A segment is the lab's only if it has the
    # id the snapshot saw under the lab's key: ids are not reused until the
    # kernel's sequence wraps.
    local id
    for key in $(grep -o '\bkey=[0-9-]*' "$snap/record" | cut -d= -f2); do
        for id in $(awk -v k="$key" 'NR > 1 && $1 == k { print $2 }' "$snap/host-shm"); do
            if awk -v k="$key" -v id="$id" 'NR > 1 && $1 == k && $2 == id { f = 1 } END { exit !f }' /proc/sysvipc/shm; then
                fail "segment $id (key $key) is still there"
            fi
        done
    done
    note "teardown checked: lab directory, processes in ${#made[@]} namespaces (${made[*]}), host segments"
}

# expect_no_apptainer_left: no loop device still backs the lab's image and
# no mount of the host names the lab's directory or the image (Apptainer as
# root mounts the image through a loop device; both end with its mount
# namespace). Apptainer tests hold a ctest resource lock, so no other test
# uses the image meanwhile.
expect_no_apptainer_left() {
    local sif dir loops mounts
    sif=$(sed -n 's/^apptainer-sif //p' "$snap/record")
    dir=$(sed -n 's/^dir //p' "$snap/record")
    [ -n "$sif" ] || { fail "the record names no Apptainer image"; return; }
    loops=$(losetup -j "$sif" 2>/dev/null)
    [ -z "$loops" ] || fail "loop devices still back $sif: $loops"
    mounts=$(grep -F -e "$dir" -e "$sif" /proc/self/mountinfo)
    [ -z "$mounts" ] || fail "mounts left: $mounts"
    note "no loop device backs $(basename "$sif"); no mount names the lab or the image"
}

# ftok_of_host PATH PROJ: what ftok() gives on the host ("no such file" if none).
ftok_of_host() {
    local dev ino
    IFS=' ' read -r dev ino < <(stat -L -c '%d %i' "$1" 2>/dev/null)
    [ -n "$ino" ] || { echo "no such file on the host"; return; }
    printf '%d\n' $(((($2 & 0xff) << 24) | ((dev & 0xff) << 16) | (ino & 0xffff)))
}

# in_place_wrapper PATH: writes PATH, a server for lab/run that runs
# course_server with a private info directory and copies the file into the
# lab's the way servers that write in place do: opened, one line at a
# time 300 ms apart (the pauses are the scenario), closed.
in_place_wrapper() {
    cat >"$1" <<WRAPPER
#!/usr/bin/env bash
# PORT FTOK PROJ NAME INFO_DIR SHM_MSG SOCK_MSG, as course_server takes them.
set -u
private=\$(mktemp -d)
pid="" watcher=""
finish() { [ -z "\$watcher" ] || kill "\$watcher" 2>/dev/null; rm -rf "\$private"; }
trap finish EXIT
trap '[ -z "\$pid" ] || kill -TERM "\$pid"; wait "\$pid"; exit 143' TERM INT
exec {ev}< <(exec inotifywait -m -e moved_to -e close_write --format %f "\$private" 2>&1)
watcher=\$!
while read -r -t 10 -u "\$ev" line && [ "\$line" != "Watches established." ]; do :; done
[ "\${line:-}" = "Watches established." ] || exit 125
"$server" "\$1" "\$2" "\$3" "\$4" "\$private" "\$6" "\$7" &
pid=\$!
read -r -t 60 -u "\$ev" line || exit 125
exec {out}>"\$5/\$4"
while IFS= read -r field; do
    printf '%s\n' "\$field" >&"\$out"
    sleep 0.3
done <"\$private/\$4"
exec {out}>&-
wait "\$pid"
WRAPPER
    chmod 755 "$1"
}

machine_ip=198.18.0.1

case $case_name in
    in-place)
        # Without waiting for the whole file the client reads one line of
        # it and counts the server as VM with a warning.
        in_place_wrapper "$work/in_place_server.sh"
        server=$work/in_place_server.sh
        run_lab host:1
        expect_summary "Total Servers: 1" "Host: 1" "Container: 0" "VM: 0" \
            "Messages: host-1-shm host-1-sock"
        ! grep -q 'counted as VM' <<<"$out$err" || fail "the client read a half-written info file"
        expect_nothing_left
        ;;
    host)
        run_lab host:2
        expect_line '^host: plain processes' "host mechanism"
        expect_summary "Total Servers: 2" "Host: 2" "Container: 0" "VM: 0" \
            "Messages: host-1-shm host-1-sock host-2-shm host-2-sock"
        if grep -q "hostname isoprobe-lab -> $machine_ip" <<<"$out"; then
            expect_info host-1 "$machine_ip" 5001 "$(record_field host-1 ftok)" 1
            expect_info host-2 "$machine_ip" 5002 "$(record_field host-2 ftok)" 2
        fi
        expect_nothing_left
        ;;
    container | container-bwrap)
        if [ "$case_name" = container ]; then
            run_lab container:2
            n=2
        else
            run_lab container:1 --container bwrap
            n=1
        fi
        expect_line '^container: (unshare --user --map-root-user --ipc --mount|bwrap --unshare-ipc)' "container mechanism"
        if [ "$n" = 2 ]; then
            expect_summary "Total Servers: 2" "Host: 0" "Container: 2" "VM: 0" "Messages: container-1-sock container-2-sock"
        else
            expect_summary "Total Servers: 1" "Host: 0" "Container: 1" "VM: 0" "Messages: container-1-sock"
        fi
        # Each container has its own IPC namespace, holding its segment.
        for ((i = 1; i <= n; i++)); do
            [ "$(grep -c '^ *-\?[0-9]' "$snap/container-$i-shm" 2>/dev/null)" = 1 ] \
                || fail "container-$i's IPC namespace should hold exactly its one segment: $(cat "$snap/container-$i-shm" "$snap/container-$i-shm.err" 2>&1)"
        done
        if [ "$n" = 2 ] && [ "$(record_field container-1 ipc)" = "$(record_field container-2 ipc)" ]; then
            fail "the two containers share an IPC namespace"
        fi
        expect_nothing_left
        ;;
    vm)
        run_lab vm:1 --vm qemu
        expect_line "^vm: $qemu_re, (kvm|tcg), (pvh vmlinux, (microvm|q35)|bzImage via SeaBIOS, pc)" "a real QEMU guest"
        if [ "$(cut -d' ' -f1 "$lab_cache/vm/kernel/vmlinux.status" 2>/dev/null)" = ok ]; then
            expect_line "^vm: $qemu_re, (kvm|tcg), pvh vmlinux, " "the PVH boot (the cache has a vmlinux)"
        else
            note "no vmlinux in $lab_cache ($(cat "$lab_cache/vm/kernel/vmlinux.status" 2>/dev/null)): the bzImage boot is right"
        fi
        ! grep -q 'vm-standin' <<<"$out" || fail "the stand-in was used although --vm qemu was asked for"
        expect_summary "Total Servers: 1" "Host: 0" "Container: 0" "VM: 1" "Messages:"
        # Written by the server in the guest: its DHCP address, its guest path.
        expect_info vm-1 10.0.2.15 5001 /bin/sh 1
        expect_nothing_left
        ;;
    vm-fallback)
        # The guest's /init finds no module list for this bus and powers off:
        # a fast path that fails after the kernel started. TCG only, so the
        # broken guest does not count against KVM in the probe cache.
        ISOPROBE_VM_ACCEL=tcg ISOPROBE_VM_PVH_APPEND=isoprobe.bus=none run_lab vm:1 --vm qemu
        [ "$(cut -d' ' -f1 "$lab_cache/vm/kernel/vmlinux.status" 2>/dev/null)" = ok ] \
            || { note "SKIP: no vmlinux in $lab_cache ($(cat "$lab_cache/vm/kernel/vmlinux.status" 2>/dev/null)), so no PVH boot to fall back from"; exit 77; }
        expect_line "^vm: $qemu_re, (kvm|tcg), bzImage via SeaBIOS, pc \(.*pvh boot on (microvm|q35) failed: qemu exited before READY \(ISOPROBE-GUEST-FAIL no module list for isoprobe.bus=none\)" \
            "the bzImage fallback, with the PVH failure named"
        expect_summary "Total Servers: 1" "Host: 0" "Container: 0" "VM: 1" "Messages:"
        expect_info vm-1 10.0.2.15 5001 /bin/sh 1
        expect_nothing_left
        ;;
    vm-standin)
        run_lab vm:1 --vm standin
        expect_line '^vm: vm-standin \(no separate kernel\)' "the labelled stand-in"
        expect_summary "Total Servers: 1" "Host: 0" "Container: 0" "VM: 1" "Messages:"
        expect_info vm-1 10.0.2.15 5001 "$(record_field vm-1 ftok)" 1
        expect_nothing_left
        ;;
    mixed)
        t0=$EPOCHREALTIME
        run_lab host:1 container:1 vm:1 --vm qemu
        expect_line '^host: ' "host mechanism"
        expect_line '^container: (unshare|bwrap)' "container mechanism"
        expect_line "^vm: $qemu_re, " "a real QEMU guest"
        expect_summary "Total Servers: 3" "Host: 1" "Container: 1" "VM: 1" \
            "Messages: container-1-sock host-1-shm host-1-sock"
        expect_nothing_left
        note "mixed lab wall time: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
        ;;
    explain)
        # isoprobe-client --explain as the lab's client: every server's
        # reasons, and the same summary at the end.
        [ -x "$explain_client" ] || { note "SKIP: isoprobe-client not built ($explain_client)"; exit 77; }
        run_lab host:1 container:1 vm:1 --vm qemu --client "$explain_client" --client-arg --explain
        got=$(sed -n '/^Total Servers:/,/^Messages:/p' <<<"$out")
        want=$(printf '%s\n' "Total Servers: 3" "Host: 1" "Container: 1" "VM: 1" \
            "Messages: container-1-sock host-1-shm host-1-sock")
        [ "$got" = "$want" ] || fail "summary after the explanations differs: $got"
        for line in \
            'verdict: +Host: both channels were reached' \
            'verdict: +Container: only the socket was reached' \
            'verdict: +VM: neither channel was reached' \
            'shm: +attached \(shmid [0-9]+\), message "host-1-shm"' \
            'shm: +no such key: shmget' \
            'socket: +connected to [0-9.]+:[0-9]+, message "container-1-sock" \(complete at end of stream\)' \
            'socket: +unreachable \(ENETUNREACH\)' \
            'address: +10\.0\.2\.15:'; do
            grep -Eq "$line" <<<"$out" || fail "no explanation line matching /$line/"
        done
        expect_nothing_left
        ;;
    isolation)
        run_lab host:1 container:1 vm:1 --vm qemu
        expect_summary "Total Servers: 3" "Host: 1" "Container: 1" "VM: 1" \
            "Messages: container-1-sock host-1-shm host-1-sock"
        host_key=$(record_field host-1 key)
        host_pid=$(record_field host-1 pid)
        cont_key=$(awk 'NR > 1 { print $1 }' "$snap/container-1-shm" 2>/dev/null)
        cont_pid=$(record_field container-1 pid)
        # Positive controls: the host server's segment is in the host's
        # table, the container's is in its own namespace's.
        awk -v k="$host_key" 'NR > 1 && $1 == k { f = 1 } END { exit !f }' "$snap/host-shm" \
            || fail "the host server's segment (key $host_key) is missing from the host's table"
        [ -n "$cont_key" ] || fail "the container's IPC namespace shows no segment"
        # The container's segment is not in the host's table.
        if [ -n "$cont_key" ] && awk -v k="$cont_key" 'NR > 1 && $1 == k { f = 1 } END { exit !f }' "$snap/host-shm"; then
            fail "the container's segment (key $cont_key) appears in the host's table"
        fi
        if awk -v p="$cont_pid" 'NR > 1 && $5 == p { f = 1 } END { exit !f }' "$snap/host-shm"; then
            fail "a segment created by the container's server (pid $cont_pid) appears in the host's table"
        fi
        # With the lab in its own pid namespace, the host's table (as the lab
        # saw it) gives a creator pid only for segments made by lab
        # processes: exactly one, the host server's. So neither the
        # container's nor the VM's (which lives in the guest's kernel) is there.
        lab_pidns=$(sed -n 's/^lab-ns pid //p' "$snap/record")
        if [ "$lab_pidns" != "$(readlink /proc/self/ns/pid)" ]; then
            made=$(awk 'NR > 1 && $5 != 0 { print $1 ":" $5 }' "$snap/host-shm")
            [ "$made" = "$host_key:$host_pid" ] \
                || fail "segments created inside the lab in the host's table: expected only $host_key:$host_pid (host-1), got: $(tr '\n' ' ' <<<"$made")"
            note "host table: the lab created exactly one segment there ($made, host-1); container key $cont_key only in its own namespace"
        else
            note "the lab had no pid namespace here: checked by key and creator pid only"
        fi
        grep -Eq "^vm: $qemu_re, " <<<"$out" || fail "the VM was not a QEMU guest"
        expect_nothing_left
        ;;
    apptainer)
        # The course's way: default namespaces, the ftok path a file of the
        # image. Apptainer shares the IPC namespace, so the segment is in the
        # host's table; the client misses it because the host has no such file.
        run_lab apptainer:1
        expect_line '^apptainer: apptainer version [0-9.]+, sif, as root, default namespaces \(IPC and network shared\)' "real Apptainer"
        expect_summary "Total Servers: 1" "Host: 0" "Container: 1" "VM: 0" "Messages: apptainer-1-sock"
        expect_info apptainer-1 "$machine_ip" 5001 /usr/local/bin/course_server 1
        key=$(record_field apptainer-1 key)
        [ -n "$key" ] && awk -v k="$key" 'NR > 1 && $1 == k { f = 1 } END { exit !f }' "$snap/host-shm" \
            || fail "the Apptainer server's segment (key '$key') should be in the host's table (shared IPC namespace)"
        note "the Apptainer server's segment is in the host's table under key $key; the host's ftok of /usr/local/bin/course_server: $(ftok_of_host /usr/local/bin/course_server 1)"
        expect_nothing_left
        expect_no_apptainer_left
        ;;
    apptainer-hostdir)
        # The ftok path in a host directory Apptainer binds: the same file
        # inside and out, the same IPC namespace: the client counts Host.
        # isoprobe-client --explain says why.
        explain=()
        [ ! -x "$explain_client" ] || explain=(--client "$explain_client" --client-arg --explain)
        run_lab apptainer:1 --apptainer-ftok host "${explain[@]}"
        expect_line '^apptainer: .*default namespaces.*; ftok path in the bound host directory' "host-directory variant"
        got=$(sed -n '/^Total Servers:/,/^Messages:/p' <<<"$out")
        want=$(printf '%s\n' "Total Servers: 1" "Host: 1" "Container: 0" "VM: 0" "Messages: apptainer-1-shm apptainer-1-sock")
        [ "$got" = "$want" ] || fail "summary differs: $got"
        if ((${#explain[@]})); then
            for line in 'verdict: +Host: both channels were reached' 'shm: +attached \(shmid [0-9]+\), message "apptainer-1-shm"'; do
                grep -Eq "$line" <<<"$out" || fail "no explanation line matching /$line/"
            done
        fi
        expect_nothing_left
        expect_no_apptainer_left
        ;;
    apptainer-ipc)
        # The same bound ftok file, but --ipc: the segment is in the
        # container's own IPC namespace, so the client counts Container.
        run_lab apptainer:1 --apptainer-ftok host --apptainer-ipc
        expect_line '^apptainer: .*own IPC namespace \(--ipc\)' "--ipc variant"
        expect_summary "Total Servers: 1" "Host: 0" "Container: 1" "VM: 0" "Messages: apptainer-1-sock"
        [ "$(grep -c '^ *-\?[0-9]' "$snap/apptainer-1-shm" 2>/dev/null)" = 1 ] \
            || fail "the container's IPC namespace should hold exactly its one segment: $(cat "$snap/apptainer-1-shm" "$snap/apptainer-1-shm.err" 2>&1)"
        key=$(record_field apptainer-1 key)
        if awk -v k="$key" 'NR > 1 && $1 == k { f = 1 } END { exit !f }' "$snap/host-shm"; then
            fail "with --ipc the segment (key $key) must not be in the host's table"
        fi
        expect_nothing_left
        expect_no_apptainer_left
        ;;
    apptainer-unprivileged)
        [ "$(id -u)" = 0 ] || { note "SKIP: needs root to run Apptainer as user nobody"; exit 77; }
        run_lab apptainer:1 --apptainer-as nobody
        expect_line '^apptainer: .*as nobody \(unprivileged, user-namespace mode\)' "unprivileged Apptainer"
        expect_summary "Total Servers: 1" "Host: 0" "Container: 1" "VM: 0" "Messages: apptainer-1-sock"
        expect_nothing_left
        expect_no_apptainer_left
        ;;
    apptainer-mixed)
        run_lab host:1 container:1 apptainer:2 --vm standin vm:1
        expect_summary "Total Servers: 5" "Host: 1" "Container: 3" "VM: 1" \
            "Messages: apptainer-1-sock apptainer-2-sock container-1-sock host-1-shm host-1-sock"
        expect_nothing_left
        expect_no_apptainer_left
        ;;
    unprivileged)
        # Each run must pass or skip with a reason; a skip is reported.
        ran=0
        sub() { # LABEL CMD...
            local label=$1 src
            shift
            for c in host container vm-standin; do
                src=0
                "$@" bash "$self" "$c" "${args[@]}" >"$work/sub.out" 2>&1 || src=$?
                case $src in
                    0) note "$label $c: pass" ; ran=$((ran + 1)) ;;
                    77) note "$label $c: skipped: $(grep -m1 '^SKIP' "$work/sub.out")" ;;
                    *) fail "$label $c: exit $src"; sed 's/^/    /' "$work/sub.out" ;;
                esac
            done
        }
        if unshare --user --map-root-user true 2>"$work/userns.err"; then
            sub "unshare -r:" unshare --user --map-root-user --
        else
            note "unshare -r: skipped: $(cat "$work/userns.err")"
        fi
        if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
            nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups env TMPDIR="$work/nobody")
            mkdir -p "$work/nobody" && chown nobody "$work/nobody"
            if ! "${nobody[@]}" test -x "$server" -a -r "$self" -a -x "$lab"; then
                note "as nobody: skipped: nobody cannot read the build or source tree ($server)"
            else
                sub "as nobody:" "${nobody[@]}"
                if command -v bwrap >/dev/null && "${nobody[@]}" bwrap --dev-bind / / --unshare-user --unshare-ipc --unshare-uts true 2>"$work/bwrap.err"; then
                    sub "as nobody in bwrap:" "${nobody[@]}" bwrap --dev-bind / / --unshare-user --unshare-ipc --unshare-uts --
                else
                    note "as nobody in bwrap: skipped: $(cat "$work/bwrap.err" 2>/dev/null)"
                fi
            fi
        else
            note "as nobody: skipped: not root, cannot switch users (the whole suite already runs unprivileged)"
        fi
        ((ran > 0)) || { note "SKIP: no unprivileged variant could run here"; exit 77; }
        ;;
    *)
        echo "lab_test: unknown case $case_name" >&2
        exit 2
        ;;
esac

if ((failures)); then
    note "$failures check(s) failed"
    exit 1
fi
note "PASS"
