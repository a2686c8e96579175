#!/usr/bin/env bash
# scripts/check-msrv.sh [CACHE_DIR]: builds the whole workspace (every
# target: library, programs, tests, build script) with the toolchain that
# Cargo.toml's rust-version names, so the declared minimum is a fact, not a
# guess. rustup cannot fetch another toolchain here; Debian's archive can:
# trixie ships rustc and cargo 1.85. They go into a private root under
# CACHE_DIR/msrv (default .lab-cache), made by mmdebstrap in a mount
# namespace of its own; the system's toolchain, apt sources and libc are
# untouched. The dependencies come from `cargo vendor` (the lock file, no
# network inside the root).
#
# Exit codes: 0 built; 77 cannot be checked here (reason on stderr: not
# root, no mmdebstrap, archive unreachable, the archive's rustc is another
# version); 1 the build failed or another error.
set -euo pipefail

prog=check-msrv.sh
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'msrv: %s\n' "$*"; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
unavailable() { printf '%s: unavailable: %s\n' "$prog" "$*" >&2; exit 77; }

[ $# -le 1 ] || die "usage: check-msrv.sh [CACHE_DIR]"
cache=${1:-$repo/.lab-cache}
mirror=${ISOPROBE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${ISOPROBE_MSRV_SUITE:-trixie}

want=$(sed -n 's/^rust-version = "\([0-9.]*\)"$/\1/p' "$repo/Cargo.toml" | head -n1)
[ -n "$want" ] || die "Cargo.toml declares no rust-version"
((EUID == 0)) || unavailable "building a Debian root needs root (mmdebstrap, chroot)"
command -v mmdebstrap >/dev/null || unavailable "no mmdebstrap (apt install mmdebstrap)"
host_cargo=$(command -v cargo) || die "no cargo on PATH to vendor the dependencies with"

dir=$cache/msrv
mkdir -p "$dir" || die "cannot create $dir"
exec 9>"$dir/.lock"
flock 9

root=$dir/$suite-rust
work=$root/work
tmp=""
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The root, made once per suite and mirror (a change of either remakes it).
stamp=$(printf '%s\n' "$suite" "$mirror" rustc cargo gcc libc6-dev | sha256sum | cut -c1-16)
if [ "$(cat "$root/.complete" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$root" "$root.tmp"
    tmp=$root.tmp
    say "mmdebstrap $suite with rustc, cargo, gcc (about a minute)"
    t0=$EPOCHSECONDS
    # mmdebstrap mounts /proc, /sys and /dev in the root while it works: in
    # a mount namespace of its own those mounts end with it, also when it
    # is killed. Ten minutes is far beyond a normal run.
    if ! timeout 600 unshare --mount --propagation private -- \
        mmdebstrap --quiet --variant=apt --include=rustc,cargo,gcc,libc6-dev \
        --aptopt='Acquire::Check-Valid-Until "false";' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        "$suite" "$tmp" "$mirror" >"$dir/mmdebstrap.log" 2>&1; then
        tail -n 5 "$dir/mmdebstrap.log" >&2
        unavailable "mmdebstrap $suite from $mirror failed (log: $dir/mmdebstrap.log)"
    fi
    # getaddrinfo("localhost") in the tests' build scripts and programs.
    cp /etc/hosts "$tmp/etc/hosts"
    printf '%s\n' "$stamp" >"$tmp/.complete"
    mv "$tmp" "$root"
    tmp=""
    say "root ready in $((EPOCHSECONDS - t0)) s"
fi

have=$(chroot "$root" rustc --version) || die "rustc does not run in $root"
case $have in
    "rustc $want."*) ;;
    *) unavailable "$suite's rustc is '$have', not the declared $want" ;;
esac

# The working tree's tracked files (uncommitted edits included), the
# vendored dependencies, and a config that points cargo at them.
rm -rf "$work/src"
mkdir -p "$work/src/.cargo" "$work/target"
(cd "$repo" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$work/src"
say "cargo vendor (the locked dependencies)"
(cd "$work/src" && "$host_cargo" vendor --locked vendor >.cargo/config.toml 2>"$dir/vendor.log") \
    || die "cargo vendor failed (log: $dir/vendor.log)"
grep -q 'replace-with = "vendored-sources"' "$work/src/.cargo/config.toml" \
    || die "cargo vendor printed no source replacement"

say "building the workspace, all targets, with $have"
t0=$EPOCHSECONDS
# /proc for the compilers; the target folder stays in the cache, so a
# second run builds only what changed.
if ! unshare --mount --propagation private -- sh -c '
        mount -t proc proc "$1/proc" && exec chroot "$1" env HOME=/tmp CARGO_HOME=/tmp/cargo-home \
            CARGO_TARGET_DIR=/work/target sh -c "cd /work/src && cargo build --workspace --all-targets --locked --offline"
    ' sh "$root" >"$dir/build.log" 2>&1; then
    grep -E '^(error|warning)' -A8 "$dir/build.log" | head -n 40 >&2
    die "the workspace does not build with $have (log: $dir/build.log)"
fi
say "ok: $have (Debian $suite) built every target of the workspace in $((EPOCHSECONDS - t0)) s"
