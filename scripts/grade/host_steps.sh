#!/usr/bin/env bash
# host_steps.sh MODE SERVER CLIENT WORK: one run of the grading workflow on
# the host, inside the grading sandbox (its own network, IPC and pid
# namespaces, so everything listed at the end belongs to this run). The
# server (built from the submission) writes its info file, the client (the
# reference one, or the submission's) reads it, then the server must end.
# MODE: plain | strace (the server traced for select/accept) | valgrind
# (server and client under valgrind). Prints key=value lines for grade.py.
set -u
mode=$1 server=$2 client=$3 work=$4
info=$work/info
mkdir -p "$info" || exit 1
: >"$work/ftok"
args=(5001 "$work/ftok" 1 srv-1 "$info" grade-shm grade-sock)
pre_s=() pre_c=()
# shellcheck disable=SC2054 # the commas belong to strace's -e list
case $mode in
    strace) pre_s=(strace -f -qq -e trace=select,pselect6,poll,ppoll,epoll_wait,epoll_pwait,accept,accept4 -o "$work/trace") ;;
    valgrind)
        pre_s=(valgrind -q --error-exitcode=99 --log-file="$work/valgrind-server")
        pre_c=(valgrind -q --error-exitcode=99 --log-file="$work/valgrind-client") ;;
esac
now() { printf '%s\n' "$EPOCHREALTIME"; }
"${pre_s[@]}" "$server" "${args[@]}" >"$work/server.out" 2>"$work/server.err" &
spid=$!
t0=$(now)
# Event wait until the info file holds its four fields (a server may write
# it in place; the client may assume servers have finished starting up).
# inotify; the 1 s bound only covers the moment between check and watch.
complete() { [ -f "$info/srv-1" ] && [ "$(wc -w <"$info/srv-1")" -ge 4 ]; }
deadline=$((EPOCHSECONDS + 30))
while ! complete && kill -0 "$spid" 2>/dev/null && ((EPOCHSECONDS < deadline)); do
    inotifywait -qq -t 1 -e create -e moved_to -e close_write -e modify "$info" 2>/dev/null
done
if ! complete; then
    echo "info_file=missing"
    kill -KILL "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    echo "server_rc=$?"
    echo "server_err=$(head -c 300 "$work/server.err" | tr '\n' '|')"
    exit 0
fi
echo "info_ready_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')"
echo "info_file=$(base64 -w0 "$info/srv-1")"
tc=$(now)
timeout -k 2 20 "${pre_c[@]}" "$client" "$info" >"$work/client.out" 2>"$work/client.err"
crc=$?
t1=$(now)
echo "client_rc=$crc"
echo "client_s=$(awk -v a="$tc" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
echo "client_out=$(base64 -w0 "$work/client.out")"
echo "client_err=$(head -c 300 "$work/client.err" | tr '\n' '|')"
# The server must end by itself once the client is done: wait (woken by
# its exit) at most 15 s, timed by a watchdog child.
sleep 15 &
wd=$!
while kill -0 "$spid" 2>/dev/null && kill -0 "$wd" 2>/dev/null; do
    wait -n "$spid" "$wd" 2>/dev/null
done
t2=$(now)
if kill -0 "$spid" 2>/dev/null; then
    echo "server_exit=none"
    kill -KILL "$spid" 2>/dev/null
else
    echo "server_exit_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')"
fi
wait "$spid" 2>/dev/null
echo "server_rc=$?"
kill "$wd" 2>/dev/null
wait "$wd" 2>/dev/null
echo "server_err=$(head -c 300 "$work/server.err" | tr '\n' '|')"
# What is left in this sandbox's namespaces.
echo "segments=$(tail -n +2 /proc/sysvipc/shm | awk '{ printf "%s(key %s, %s bytes) ", $2, $1, $4 }')"
echo "info_left=$(ls -A "$info" | tr '\n' ' ')"
left=""
for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = 1 ] || [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
    c=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
    case $c in *host_steps.sh* | "") continue ;; esac
    left+="$p:$c; "
done
echo "processes_left=$left"
