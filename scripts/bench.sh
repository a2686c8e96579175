#!/usr/bin/env bash
# The benchmark table (README "Benchmarks", issue 5) with one command:
#
#   scripts/bench.sh            # all rows B1-B8, Markdown table on stdout
#   scripts/bench.sh --quick    # one tiny case per row (what the bench ctest runs)
#   scripts/bench.sh --only B1,B3
#
# Installs what it needs (scripts/setup.sh), builds the Release configuration in
# build/bench (ISOPROBE_BENCH_BUILD_DIR overrides), then runs isoprobe_bench.
# Build output and progress go to stderr; stdout is only the table. Arguments
# are passed to isoprobe_bench (see its --help). Timings are never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh >&2

build=${ISOPROBE_BENCH_BUILD_DIR:-build/bench}
echo "== building isoprobe_bench in $build" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$build" -j"$(nproc)" --target isoprobe_bench >&2

echo "== running the benchmark" >&2
exec "$build/cpp-tests/bench/isoprobe_bench" "$@"
