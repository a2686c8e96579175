#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, runs the
# Rust unit tests and clippy over the workspace, builds with CMake and runs
# every ctest suite. Checks that `ipcs -m` looks the same before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh

segments() { ipcs -m | awk 'NR>3 && $1 ~ /^0x/ {print $2}' | sort; }
before=$(segments)

echo "== cargo test"
cargo test --workspace --locked --quiet

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings

echo "== cmake build"
build=${ISOPROBE_BUILD_DIR:-build/test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

echo "== ctest"
(cd "$build" && ctest --output-on-failure -j"$(nproc)" ${ISOPROBE_CTEST_ARGS:-})

after=$(segments)
if [ "$before" != "$after" ]; then
  echo "ipcs -m changed during the suite:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo "ipcs -m unchanged"
