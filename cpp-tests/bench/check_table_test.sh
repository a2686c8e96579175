#!/bin/sh
# check_table_test.sh: check_table.sh can fail. Fake benches print a good
# table (accepted), a row whose client printed the wrong summary, a wrong
# output reported only on stderr, and a table missing a row (all refused).
set -u
here=$(dirname "$0")
work=$(mktemp -d "${TMPDIR:-/tmp}/isoprobe-check-table.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
failed=0

# fake NAME ROW_B1 [STDERR_LINE]: a bench printing a table with that B1 row.
fake() {
  cat >"$work/$1" <<SCRIPT
#!/bin/sh
echo "Machine: nproc=2, CPU: test, kernel: test"
echo
echo "| row | case | result | target | met |"
echo "|---|---|---|---|---|"
echo "$2"
for r in 2 3 4 5 6 7; do echo "| B\$r | case | 1 ms | ≤ 2 ms | yes |"; done
echo
echo "- cleanup: every segment was removed by its server; temporary directory removed"
[ -z "${3:-}" ] || echo "${3:-}" >&2
SCRIPT
  chmod +x "$work/$1"
}

expect() { # expect accept|refuse NAME
  sh "$here/check_table.sh" "$work/$2" >"$work/$2.log" 2>&1
  rc=$?
  case "$1:$rc" in
    accept:0 | refuse:[1-9]*) echo "ok: $2 ($1)" ;;
    *) echo "FAIL: check_table.sh should $1 $2 (status $rc):" >&2; cat "$work/$2.log" >&2; failed=1 ;;
  esac
}

fake good "| B1 | client run | 5.01 s | ≤ 5.5 s | yes |"
expect accept good
fake wrong_row "| B1 | client run | 5.01 s — wrong output: Total Servers: 1 | ≤ 5.5 s | no |"
expect refuse wrong_row
fake wrong_stderr "| B1 | client run | 5.01 s | ≤ 5.5 s | yes |" "isoprobe_bench: B1 K=20: 5.01 s (WRONG OUTPUT)"
expect refuse wrong_stderr
fake no_b1 "| B8 | other | 1 ms | recorded | — |"
expect refuse no_b1
exit $failed
