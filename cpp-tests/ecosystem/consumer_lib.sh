# Sourced by the consumer_*.sh tests. ctest passes the build's settings in the
# environment (see CMakeLists.txt). Gives a work directory removed on exit,
# fail/skip, an install step, and check_apps, which runs the three consumer
# programs and checks what they print.
set -euo pipefail

for var in ISOPROBE_SOURCE_DIR ISOPROBE_BUILD_DIR ISOPROBE_CMAKE ISOPROBE_VERSION CC CXX; do
  [ -n "${!var:-}" ] || { echo "FAIL: $var is not set (run this test through ctest)" >&2; exit 1; }
done

consumer_src="$ISOPROBE_SOURCE_DIR/cpp-tests/ecosystem/consumer"
work=$(mktemp -d "${TMPDIR:-/tmp}/isoprobe-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
step() { echo "== $*"; }

# Runs a command quietly; on failure shows its output and fails the test.
quiet() {
  local log="$work/last-command.log"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "command failed: $*"
  fi
}

# `cmake --install` of this build into $work/prefix.
install_prefix() {
  step "cmake --install $ISOPROBE_BUILD_DIR --prefix $work/prefix"
  quiet "$ISOPROBE_CMAKE" --install "$ISOPROBE_BUILD_DIR" --prefix "$work/prefix"
}

# check_apps DIR_WITH_PROGRAMS: server_app, client_app and both_app work.
check_apps() {
  local bin=$1 dir out expected
  step "server_app: course C++ server API"
  dir="$work/server-dir"
  mkdir "$dir"
  out=$("$bin/server_app" "$dir") || fail "server_app exited with $?"
  [ "$(sed -n 3p <<<"$out")" = "$dir" ] || fail "server_app's info file names another shm path: $out"
  [ "$(sed -n 4p <<<"$out")" = 42 ] || fail "server_app's info file names another proj id: $out"
  [ "$(wc -l <<<"$out")" = 4 ] || fail "server_app's info file is not 4 lines: $out"
  [ -z "$(ls -A "$dir")" ] || fail "server_app left files behind: $(ls -A "$dir")"

  step "client_app: C client API"
  dir="$work/client-dir"
  mkdir "$dir"
  out=$("$bin/client_app" "$dir") || fail "client_app exited with $?"
  expected=$'Total Servers: 0\nHost: 0\nContainer: 0\nVM: 0\nMessages:'
  [ "$out" = "$expected" ] || fail "client_app printed: $out"
  if "$bin/client_app" "$dir/missing" 2>"$work/client.err"; then
    fail "client_app succeeded on a missing directory"
  fi
  grep -q opendir "$work/client.err" || fail "client_app's error does not name opendir: $(cat "$work/client.err")"

  step "both_app: both libraries in one program"
  dir="$work/both-dir"
  mkdir "$dir"
  out=$("$bin/both_app" "$dir") || fail "both_app exited with $?"
  [ "$out" = "1 host from-both-app" ] || fail "both_app printed: $out"
  [ -z "$(ls -A "$dir")" ] || fail "both_app left files behind: $(ls -A "$dir")"
}
