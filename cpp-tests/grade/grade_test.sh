#!/usr/bin/env bash
# grade_test.sh CASE --build-dir DIR --lib LIBISOPROBE_A: one ctest of the
# grading kit (label grade).
#   project        this project as a submission (submissions/isoprobe/ with the
#                  built library and include/), every environment: exit 0 and
#                  no failed or warned check; skips only with a reason.
#   student        the reference-quality student submission, host only: the same.
#   flawed-*       student + flawed-*.patch, host only: the non-passing checks
#                  are exactly those in flawed-*.expect (id and status).
#   sandbox-cap    a fork bomb in the sandbox stops at the run's task cap.
#   batch          --batch over student, flawed-format and one that does not
#                  build, with --csv and the
#                  per-submission reports; --gradescope on one of them.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
case=$1
shift
build="" lib=""
while (($#)); do
    case $1 in
        --build-dir) build=$2; shift ;;
        --lib) lib=$2; shift ;;
    esac
    shift
done
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/grade-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
subs=$here/submissions
grade=("$repo/scripts/grade.sh" --build-dir "$build")

# student_variant NAME [PATCH]: the student submission (patched) in $work/NAME
student_variant() {
    cp -r "$subs/student" "$work/$1" || exit 1
    if [ -n "${2:-}" ]; then patch -s -d "$work/$1" -p1 <"$2" || { echo "FAIL: $2 does not apply"; exit 1; }; fi
}
# non_passing REPORT: "id status" for every check that did not pass, sorted.
non_passing() {
    python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["checks"]:
    if c["status"] not in ("pass",): print(c["id"], c["status"])' "$1" | LC_ALL=C sort
}
fail=0
expect_clean() { # REPORT RC: exit 0, no fail or warn; skips are listed with reasons
    local rep=$1 rc=$2
    [ "$rc" = 0 ] || { echo "FAIL: grade.sh exited $rc"; fail=1; }
    local bad
    bad=$(non_passing "$rep" | grep -v ' skip$')
    [ -z "$bad" ] || { echo "FAIL: checks that did not pass:"; echo "$bad"; fail=1; }
    python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["checks"]:
    if c["status"] == "skip": print("skipped:", c["id"], "-", c["detail"])' "$rep"
}

case $case in
    sandbox-cap)
        # A fork bomb in a sandboxed run stops at the run's own task cap
        # (pids cgroup), is counted in the report's summary, and its cgroup
        # and processes are gone afterwards.
        mkdir -p "$work/empty"
        python3 - "$repo/scripts/grade" "$work/empty" "$build" <<'PY'
import argparse, glob, os, sys
sys.path.insert(0, sys.argv[1])
import grade
why = grade.PidsCgroups().usable
if why is not None:
    print("SKIP: no pids cgroup here: " + why)
    sys.exit(77)
args = argparse.Namespace(build_dir=sys.argv[3], keep=False, envs=[])
g = grade.Grader(sys.argv[2], args)
try:
    g.prepare()
    bomb = ("import os\n"
            "n = 0\n"
            "try:\n"
            "    while True:\n"
            "        if os.fork() == 0:\n"
            "            os.pause()\n"
            "            os._exit(0)\n"
            "        n += 1\n"
            "except BlockingIOError:\n"
            "    print(n)\n")
    r = g.sandbox(["python3", "-c", bomb], 60)
    forked = int(r.out.strip() or -1)
    print("forked %d children before fork failed; cap %d tasks; cap hit %d time(s)"
          % (forked, grade.PIDS_MAX, g.cgroups.hits))
    print("sandbox: " + g.sandbox_how())
    ok = True
    if not 0 < forked < grade.PIDS_MAX:
        print("FAIL: the bomb was not stopped by the cap (exit %s, stderr %s)" % (r.rc, r.err.strip()[:200]))
        ok = False
    if g.cgroups.hits < 1:
        print("FAIL: pids.events counted no hit")
        ok = False
    left = glob.glob(os.path.join(g.cgroups.parent, "isoprobe-grade.%d.*" % os.getpid()))
    if left or g.cgroups.left:
        print("FAIL: cgroups left: %s" % (left or g.cgroups.left))
        ok = False
finally:
    g.cgroups.release_left()
    import shutil
    shutil.rmtree(g.scratch, ignore_errors=True)
sys.exit(0 if ok else 1)
PY
        exit $?
        ;;
    project)
        mkdir -p "$work/isoprobe" && cp "$subs/isoprobe/Makefile" "$lib" "$work/isoprobe/" \
            && cp -r "$repo/include" "$work/isoprobe/" || exit 1
        start=$EPOCHREALTIME
        "${grade[@]}" "$work/isoprobe" --envs host,container,apptainer,vm --report "$work/r.json"
        rc=$?
        echo "grade.sh: all environments in $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
        expect_clean "$work/r.json" "$rc"
        ;;
    student)
        student_variant student
        listing() { (cd "$work/student" && find . -printf '%p %s %T@ %m\n' | LC_ALL=C sort | sha256sum); }
        before=$(listing)
        "${grade[@]}" "$work/student" --envs host --report "$work/r.json"
        expect_clean "$work/r.json" $?
        # The kit builds a scratch copy: the submission stays as it was.
        [ "$(listing)" = "$before" ] || { echo "FAIL: grading changed the submission directory"; fail=1; }
        ;;
    flawed-*)
        student_variant "$case" "$subs/$case.patch"
        # valgrind only where a flaw needs it (it costs 10-20 s).
        vg=--no-valgrind
        grep -q '^hygiene.valgrind' "$subs/$case.expect" && vg=""
        "${grade[@]}" "$work/$case" --envs host $vg --report "$work/r.json"
        rc=$?
        [ "$rc" = 1 ] || { echo "FAIL: grade.sh exited $rc, expected 1 (a required check failed)"; fail=1; }
        got=$(non_passing "$work/r.json")
        want=$(grep -v '^#' "$subs/$case.expect" | grep . | grep -v '?$' | LC_ALL=C sort)
        # "ID STATUS?": that status or a pass, as the reference
        # implementation on the other side decides (not the submission).
        while read -r id st; do
            [ -n "$id" ] || continue
            got=$(grep -vx "$id ${st%\?}" <<<"$got")
        done < <(grep -v '^#' "$subs/$case.expect" | grep '?$')
        if [ "$got" != "$want" ]; then
            echo "FAIL: non-passing checks differ from $case.expect:"
            diff <(echo "$want") <(echo "$got") | sed 's/^/  /'
            fail=1
        else
            echo "OK: exactly the expected non-passing checks:"
            echo "$got" | sed 's/^/  /'
        fi
        ;;
    batch)
        mkdir -p "$work/batch"
        student_variant batch/alice
        student_variant batch/bob "$subs/flawed-format.patch"
        student_variant batch/carol
        echo 'this is not C++' >>"$work/batch/carol/client.cpp"
        mkdir -p "$work/batch/not-a-submission"
        "${grade[@]}" --batch "$work/batch" --csv "$work/grades.csv" --envs none --no-valgrind -j 2
        rc=$?
        [ "$rc" = 0 ] || { echo "FAIL: --batch exited $rc"; fail=1; }
        cat "$work/grades.csv"
        python3 - "$work/grades.csv" <<'PY' || fail=1
import csv, sys
rows = {r["submission"]: r for r in csv.DictReader(open(sys.argv[1]))}
assert sorted(rows) == ["alice", "bob", "carol"], "rows: %s" % sorted(rows)
assert rows["carol"]["result"] == "build-error" and rows["carol"]["exit"] == "2", rows["carol"]
assert rows["carol"]["failed_checks"] == "build", rows["carol"]
assert rows["alice"]["result"] == "pass" and rows["alice"]["fail"] == "0", rows["alice"]
assert rows["bob"]["result"] == "fail", rows["bob"]
assert "error.ErrorContract.BindFailure" in rows["bob"]["failed_checks"].split(), rows["bob"]
assert float(rows["bob"]["score"]) < float(rows["alice"]["score"]) == float(rows["alice"]["max_score"]), rows
print("OK: batch CSV")
PY
        # Gradescope results.json for one submission.
        "${grade[@]}" "$work/batch/bob" --envs none --no-valgrind --gradescope "$work/results.json" >/dev/null
        python3 - "$work/results.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
assert isinstance(r["score"], float) and r["tests"], r
for t in r["tests"]:
    assert set(t) == {"name", "score", "max_score", "status", "output"}, t
    assert t["status"] in ("passed", "failed"), t
bind = [t for t in r["tests"] if t["name"].startswith("error.ErrorContract.BindFailure")][0]
assert bind["status"] == "failed" and bind["score"] == 0 and bind["max_score"] > 0, bind
assert "Error: bind" in bind["output"], bind
assert r["score"] == sum(t["score"] for t in r["tests"]) < sum(t["max_score"] for t in r["tests"]), r["score"]
print("OK: gradescope results.json, score %.0f of %.0f" % (r["score"], sum(t["max_score"] for t in r["tests"])))
PY
        ;;
    *) echo "unknown case $case"; exit 2 ;;
esac
exit $fail
