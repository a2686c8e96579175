# Consumer (3): a course-style Makefile with -Iinclude -L. -lserver, with the
# headers and the two archives dropped into the project directory.
source "$(dirname "$0")/consumer_lib.sh"
command -v make >/dev/null || skip "make is not installed"

proj="$work/proj"
mkdir -p "$proj/include"
cp "$consumer_src"/Makefile "$consumer_src"/*.cpp "$consumer_src"/*.c "$proj/"
cp "$ISOPROBE_SOURCE_DIR"/include/{globals,server,client}.h "$proj/include/"
# The install archives when this build makes them, else the cargo archive
# under both names (what the repository's own `make` produces).
for name in server client; do
  if [ -f "$ISOPROBE_BUILD_DIR/lib$name.a" ]; then
    cp "$ISOPROBE_BUILD_DIR/lib$name.a" "$proj/"
  else
    cp "${ISOPROBE_CARGO_TARGET_DIR:?}/release/libisoprobe.a" "$proj/lib$name.a"
  fi
done

step "make"
quiet make -C "$proj" CC="$CC" CXX="$CXX"

check_apps "$proj"
echo "PASS"
