# pkg-config: `cmake --install` of this build, then C and C++ programs built
# with $(pkg-config --cflags --libs isoprobe-server / isoprobe-client) only.
source "$(dirname "$0")/consumer_lib.sh"
command -v pkg-config >/dev/null || skip "pkg-config is not installed"

install_prefix
pcdir=$(dirname "$(find "$work/prefix" -name isoprobe-server.pc)")
[ -f "$pcdir/isoprobe-client.pc" ] || fail "isoprobe-client.pc is not installed beside isoprobe-server.pc"
export PKG_CONFIG_PATH="$pcdir"

step "pkg-config metadata"
for pc in isoprobe-server isoprobe-client; do
  [ "$(pkg-config --modversion $pc)" = "$ISOPROBE_VERSION" ] || fail "$pc version: $(pkg-config --modversion $pc)"
  pkg-config --validate $pc || fail "$pc.pc does not validate"
done
echo "isoprobe-server: $(pkg-config --cflags --libs isoprobe-server)"

build() {  # build DIR: the three programs with pkg-config flags only
  local out=$1
  mkdir -p "$out"
  quiet "$CXX" "$consumer_src/server_app.cpp" -o "$out/server_app" $(pkg-config --cflags --libs isoprobe-server)
  quiet "$CC" "$consumer_src/client_app.c" -o "$out/client_app" $(pkg-config --cflags --libs isoprobe-client)
  quiet "$CXX" "$consumer_src/both_app.cpp" -o "$out/both_app" $(pkg-config --cflags --libs isoprobe-server isoprobe-client)
}

step "compile with pkg-config flags"
build "$work/bin"
check_apps "$work/bin"

step "the installed tree is relocatable"
mv "$work/prefix" "$work/moved"
export PKG_CONFIG_PATH="${pcdir/#$work\/prefix/$work/moved}"
pkg-config --cflags isoprobe-client | grep -q -- "$work/moved" || fail "flags do not follow the moved prefix: $(pkg-config --cflags isoprobe-client)"
quiet "$CC" "$consumer_src/client_app.c" -o "$work/moved-client" $(pkg-config --cflags --libs isoprobe-client)
echo "PASS"
