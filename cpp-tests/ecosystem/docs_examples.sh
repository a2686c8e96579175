# Every C and C++ example in docs/*.md that has a main() compiles against the
# headers, links with the library, and exits 0.
source "$(dirname "$0")/consumer_lib.sh"

archive="$work/libserver.a"
cp "${ISOPROBE_CARGO_TARGET_DIR:?}/release/libisoprobe.a" "$archive"

count=0
for page in "$ISOPROBE_SOURCE_DIR"/docs/*.md; do
  # Writes each fenced ```c / ```cpp block to its own file.
  awk -v out="$work/$(basename "$page" .md)" '
    /^```(c|cpp)$/ { lang = substr($0, 4); n++; file = out "-" n "." lang; inblock = 1; next }
    /^```/ && inblock { inblock = 0; close(file); next }
    inblock { print > file }
  ' "$page"
done
for src in "$work"/*.c "$work"/*.cpp; do
  [ -e "$src" ] || continue
  grep -q 'int main' "$src" || continue
  count=$((count + 1))
  step "$(basename "$src")"
  case "$src" in
    *.c) compiler=$CC; std=-std=c11 ;;
    *) compiler=$CXX; std=-std=c++17 ;;
  esac
  quiet "$compiler" $std -Wall -Wextra -Werror -I"$ISOPROBE_SOURCE_DIR/include" "$src" -o "$src.bin" \
    "$archive" -lpthread -ldl -lm
  "$src.bin" || fail "$(basename "$src") exited with $?"
done
[ "$count" -ge 2 ] || fail "found $count examples with a main(); expected the C and C++ ones of docs/strings.md"
echo "PASS ($count examples)"
