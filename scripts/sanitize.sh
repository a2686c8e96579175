#!/usr/bin/env bash
# The C/C++ tests once more, built with AddressSanitizer + UBSan
# (-DISOPROBE_SANITIZE=ON: the test binaries and the course-style programs
# they drive are instrumented) and run with leak detection. The Rust
# staticlib itself is not instrumented; its allocations still go through the
# sanitizer's malloc, so a leak across the C boundary is reported.
# The benchmarks (label bench) are left out: sanitizers distort their timings,
# and B4 runs the client under strace, where LeakSanitizer cannot work.
# ISOPROBE_CTEST_ARGS passes extra ctest arguments (e.g. "-L faults").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh

build=${ISOPROBE_SANITIZE_BUILD_DIR:-build/sanitize}
cmake -S . -B "$build" -DISOPROBE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$build" && ctest --output-on-failure -j"$(nproc)" -LE bench ${ISOPROBE_CTEST_ARGS:-})
