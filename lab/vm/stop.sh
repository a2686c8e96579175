#!/usr/bin/env bash
# stop.sh PIDFILE [GRACE_S]
# Stops a VM started by boot.sh: SIGTERM (QEMU exits cleanly), SIGKILL after
# GRACE_S seconds (default 5). Only signals the pid if it is a qemu-system
# process. Removes PIDFILE. Prints one line. Exit 0 also if already gone.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    printf 'stop.sh: error: usage: stop.sh PIDFILE [GRACE_S]\n' >&2
    exit 1
fi
pidfile=$1 grace=${2:-5}
if [ ! -f "$pidfile" ]; then
    printf 'vm: not running (no pidfile %s)\n' "$pidfile"
    exit 0
fi
pid=$(cat "$pidfile")
if isoprobe_vm_is_qemu_pid "$pid"; then
    isoprobe_vm_stop_qemu "$pid" "$grace"
    if kill -0 "$pid" 2>/dev/null; then
        printf 'stop.sh: error: qemu pid %s still alive after SIGKILL\n' "$pid" >&2
        exit 1
    fi
    printf 'vm: stopped qemu pid %s\n' "$pid"
else
    printf 'vm: not running (pid %s from %s is gone)\n' "$pid" "$pidfile"
fi
rm -f "$pidfile"
