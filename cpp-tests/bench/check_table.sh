#!/bin/sh
# check_table.sh ISOPROBE_BENCH: runs the bench in --quick mode and checks the
# shape of what it prints (never its numbers): the machine line, the table
# header, at least one well-formed row for each of B1-B7, and the cleanup note.
set -u
bench=$1
out=$(mktemp "${TMPDIR:-/tmp}/isoprobe-bench-smoke.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
"$bench" --quick >"$out"
rc=$?
cat "$out"
[ "$rc" -eq 0 ] || { echo "check_table: isoprobe_bench exited $rc" >&2; exit 1; }
awk '
  NR == 1 { if ($0 !~ /^Machine: nproc=[0-9]+, CPU: .+, kernel: .+/) bad("first line is not the machine line") }
  $0 == "| row | case | result | target | met |" { header = NR }
  header && NR == header + 1 && $0 != "|---|---|---|---|---|" { bad("no separator under the header") }
  /^\| B[1-7] \|/ {
    if (!header) bad("row before the header")
    n = split($0, cells, " [|] ")
    if ($0 !~ / \|$/ || n != 5) bad("malformed row: " $0)
    for (i = 2; i <= 5; i++) if (cells[i] ~ /^ *$/) bad("empty cell: " $0)
    seen[substr($0, 3, 2)] = 1
  }
  /^- cleanup: every segment was removed by its server; temporary directory removed/ { clean = 1 }
  END {
    if (!header) bad("no table header")
    for (i = 1; i <= 7; i++) if (!seen["B" i]) bad("no B" i " row")
    if (!clean) bad("no clean cleanup note")
    exit failed
  }
  function bad(why) { print "check_table: " why > "/dev/stderr"; failed = 1 }
' "$out"
