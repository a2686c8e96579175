#!/usr/bin/env bash
# scripts/grade.sh SUBMISSION_DIR [--report FILE.json] [--gradescope FILE]
#                  [--envs host,container,apptainer,vm] [--keep]
# scripts/grade.sh --batch DIR_OF_SUBMISSIONS --csv FILE [-j N]
# Grades EX5 submissions (see README, "Grading submissions"). Builds the
# reference programs first when the build directory lacks them
# ($ISOPROBE_BUILD_DIR, default build/grade). Exit: 0 every required check
# passed, 1 a check failed, 2 usage or build error.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build/grade
args=("$@")
for ((i = 0; i < $#; i++)); do
    case ${args[$i]} in
        --build-dir) build=${args[$((i + 1))]:-$build} ;;
        --build-dir=*) build=${args[$i]#*=} ;;
        -h | --help) exec python3 "$repo/scripts/grade/grade.py" --help ;;
    esac
done
build=${ISOPROBE_BUILD_DIR:-$build}
for tool in python3 g++ make unshare setpriv prlimit strace; do
    command -v "$tool" >/dev/null || { echo "grade: '$tool' not found (scripts/setup.sh installs it)" >&2; exit 2; }
done
if [ ! -x "$build/cpp-tests/course_server" ] || [ ! -x "$build/cpp-tests/course_client" ] \
    || [ ! -x "$build/cpp-tests/course_server_static" ]; then
    echo "grade: building the reference programs in $build" >&2
    { cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
        && cmake --build "$build" -j2 --target course_server course_client course_server_static; } >&2 \
        || { echo "grade: cannot build the reference programs" >&2; exit 2; }
fi
exec python3 "$repo/scripts/grade/grade.py" --build-dir "$build" "$@"
