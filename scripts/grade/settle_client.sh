#!/bin/sh
# settle_client.sh CLIENT INFO_DIR: the lab's client in grading runs. The lab
# starts its client once every info file is complete (closed or renamed into
# place, or four lines); a student server may still rewrite its file after
# closing it once (a header first, the fields later). The assignment lets the
# client assume every server has finished starting up (simplifying
# assumption 1), so this also waits (inotify, at most 10 s) until each info
# file holds its four fields, then runs CLIENT on the directory.
client=$1 dir=$2
end=$(($(date +%s) + 10))
while :; do
    ok=1
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        [ "$(wc -w <"$f")" -ge 4 ] || ok=0
    done
    [ "$ok" = 1 ] && break
    [ "$(date +%s)" -lt "$end" ] || break
    # Bounded: a write that lands between the check and the watch.
    inotifywait -qq -t 1 -e close_write -e moved_to "$dir" 2>/dev/null
done
exec "$client" "$dir"
