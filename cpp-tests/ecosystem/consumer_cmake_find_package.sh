# Consumer (2): `cmake --install` of this build, then find_package(isoprobe
# CONFIG REQUIRED) from a project that knows only the prefix.
source "$(dirname "$0")/consumer_lib.sh"

install_prefix
prefix="$work/prefix"

step "installed layout"
for f in include/globals.h include/server.h include/client.h bin/isoprobe-server bin/isoprobe-client; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
libdir=$(dirname "$(find "$prefix" -name libserver.a)")
[ -f "$libdir/libclient.a" ] || fail "libclient.a is not beside libserver.a"
[ -f "$libdir/cmake/isoprobe/isoprobeConfig.cmake" ] || fail "isoprobeConfig.cmake is not installed"
[ -f "$libdir/cmake/isoprobe/isoprobeConfigVersion.cmake" ] || fail "isoprobeConfigVersion.cmake is not installed"
[ "$("$prefix/bin/isoprobe-client" --version)" = "isoprobe-client $ISOPROBE_VERSION" ] ||
  fail "installed isoprobe-client --version: $("$prefix/bin/isoprobe-client" --version)"
if command -v objdump >/dev/null; then
  ! objdump -h "$libdir/libserver.a" | grep -q ' \.debug_' || fail "installed libserver.a still has debug sections"
fi
echo "installed archive: $(stat -c %s "$libdir/libserver.a") bytes" \
     "(build tree: $(stat -c %s "${ISOPROBE_CARGO_TARGET_DIR:-}/release/libisoprobe.a" 2>/dev/null || echo '?') bytes)"

step "configure the consumer with find_package"
quiet "$ISOPROBE_CMAKE" -S "$consumer_src" -B "$work/build" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DISOPROBE_CONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$prefix"
found=$(sed -n 's/^isoprobe_DIR:PATH=//p' "$work/build/CMakeCache.txt")
[ "$found" = "$libdir/cmake/isoprobe" ] || fail "find_package found $found, not the installed package"
step "build"
quiet "$ISOPROBE_CMAKE" --build "$work/build" -j2

check_apps "$work/build"
echo "PASS"
