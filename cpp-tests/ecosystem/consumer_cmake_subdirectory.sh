# Consumer (1): add_subdirectory(<isoprobe source>) and the targets server,
# client, isoprobe::server, isoprobe::client. Shares this build's cargo
# output (ISOPROBE_CARGO_TARGET_DIR), so cargo has nothing to compile.
source "$(dirname "$0")/consumer_lib.sh"
: "${ISOPROBE_CARGO:?}" "${ISOPROBE_CARGO_TARGET_DIR:?}"

archive="$ISOPROBE_CARGO_TARGET_DIR/release/libisoprobe.a"
[ -f "$archive" ] || fail "$archive is missing: build the project first"
before=$(stat -c %Y.%s "$archive")

step "configure the consumer with add_subdirectory"
quiet "$ISOPROBE_CMAKE" -S "$consumer_src" -B "$work/build" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DISOPROBE_CONSUMER_MODE=subdirectory -DISOPROBE_SOURCE_DIR="$ISOPROBE_SOURCE_DIR" \
  -DISOPROBE_BUILD_TESTS=OFF -DISOPROBE_CARGO="$ISOPROBE_CARGO" \
  -DISOPROBE_CARGO_TARGET_DIR="$ISOPROBE_CARGO_TARGET_DIR"
step "build"
quiet "$ISOPROBE_CMAKE" --build "$work/build" -j2

[ "$(stat -c %Y.%s "$archive")" = "$before" ] ||
  fail "cargo rebuilt the archive: the build tree was stale (run cmake --build first)"
grep -q "ISOPROBE_BUILD_TESTS:BOOL=OFF" "$work/build/CMakeCache.txt" || fail "tests were not switched off"
[ ! -e "$work/build/isoprobe/libserver.a" ] || fail "a subproject should not make install archives"

check_apps "$work/build"
echo "PASS"
