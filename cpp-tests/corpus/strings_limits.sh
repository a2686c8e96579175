#!/usr/bin/env bash
# ctest strings.limits: the list of what cannot match std::string in
# docs/strings.md is true and its workarounds are valid course code.
# - Every line of the block after "<!-- strings-limits: fails -->" compiles
#   against the course's std::string headers and does not compile against
#   isoprobe's (C++17 and C++20): the compiler reports a diagnostic on it.
# - The block after "<!-- strings-limits: workarounds -->" compiles without
#   warnings against both, in both standards, and both builds print the same.
# Works in a private temporary directory (not the build tree, which the
# suite-in-container run shares read-only).
# usage: strings_limits.sh DOC CXX ISOPROBE_INCLUDE COURSE_INCLUDE RUST_LIB
set -euo pipefail
doc=$1 cxx=$2 iso=$3 course=$4 rust_lib=$5
# The suite also runs where only the built tests are (a container image with
# no compiler): this test compiles, so it cannot run there.
if ! command -v "$cxx" > /dev/null || ! command -v awk > /dev/null; then
  echo "SKIP: needs the C++ compiler $cxx and awk, not available here"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/isoprobe-strings-limits.XXXXXX")
trap 'rm -rf "$work"' EXIT

block() {
  awk -v mark="<!-- strings-limits: $1 -->" '
    $0 == mark { armed = 1; next }
    armed && /^```cpp$/ { inside = 1; next }
    inside && /^```$/ { exit }
    inside { print }' "$doc"
}
block fails > "$work/fails.txt"
block workarounds > "$work/workarounds.cpp"
[ -s "$work/fails.txt" ] && [ -s "$work/workarounds.cpp" ] || {
  echo "FAIL: $doc lacks the strings-limits blocks"
  exit 1
}

# All listed forms in one file, each in a function of its own: the course
# build must compile all of them, and the isoprobe build must report a
# diagnostic on every one of their lines.
{
  cat <<'PRELUDE'
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>

#include "server.h"

void takes_either(const std::string &);
void takes_either(std::string_view);
void fill(std::string &);
PRELUDE
  n=0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    n=$((n + 1))
    printf 'void limit_%d(server_setup_information &setup, std::string &text, bool flag) {\n' "$n"
    printf '  (void)setup, (void)text, (void)flag;\n'
    printf '  %s  // LIMIT\n}\n' "$line"
  done < "$work/fails.txt"
} > "$work/fails.cpp"

status=0
for std in 17 20; do
  if ! "$cxx" -std=c++$std -fsyntax-only -I"$course" "$work/fails.cpp" 2> "$work/course-$std.log"; then
    echo "FAIL (c++$std): a listed form is not valid course code:"
    cat "$work/course-$std.log"
    status=1
  fi
  "$cxx" -std=c++$std -fsyntax-only -I"$iso" "$work/fails.cpp" 2> "$work/isoprobe-$std.log" && {
    echo "FAIL (c++$std): every listed form compiles with isoprobe"
    status=1
  }
  while IFS=: read -r lineno text; do
    if ! grep -q "fails.cpp:$lineno:" "$work/isoprobe-$std.log"; then
      echo "FAIL (c++$std): compiles with isoprobe, so the page should not list it: ${text%  // LIMIT}"
      status=1
    fi
  done < <(grep -n '  // LIMIT$' "$work/fails.cpp")
done
echo "$(grep -c '  // LIMIT$' "$work/fails.cpp") listed forms: valid course code, refused by isoprobe_string"

for std in 17 20; do
  "$cxx" -std=c++$std -Wall -Wextra -Werror -I"$course" "$work/workarounds.cpp" -o "$work/course-$std"
  "$cxx" -std=c++$std -Wall -Wextra -Werror -I"$iso" "$work/workarounds.cpp" -o "$work/isoprobe-$std" \
    "$rust_lib" -lpthread -ldl -lm
  "$work/course-$std" > "$work/course-$std.out"
  "$work/isoprobe-$std" > "$work/isoprobe-$std.out"
  if ! cmp -s "$work/course-$std.out" "$work/isoprobe-$std.out"; then
    echo "FAIL (c++$std): the workarounds print differently"
    diff "$work/course-$std.out" "$work/isoprobe-$std.out" || true
    status=1
  fi
done
echo "workarounds: the same output with both headers in C++17 and C++20"
exit $status
