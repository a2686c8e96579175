#!/usr/bin/env bash
# Installs what building and testing isoprobe needs on Debian/Ubuntu:
# a C/C++ toolchain, CMake, GoogleTest, pkg-config, and the tools the
# environment lab uses (util-linux unshare, bubblewrap, iproute2, busybox,
# inotify-tools, valgrind; binutils for readelf, which checks the lab's VM
# kernel; mmdebstrap builds the lab's private Debian roots for Apptainer, see
# lab/apptainer/prepare.sh), and what the grading kit adds (strace, python3).
# Idempotent; quiet when everything is there.
set -euo pipefail

packages=(cmake g++ make libgtest-dev googletest pkg-config git util-linux
          bubblewrap iproute2 busybox-static inotify-tools valgrind strace procps mmdebstrap binutils python3
          ${ISOPROBE_EXTRA_PACKAGES:-})

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found (install a Rust toolchain, 1.85 or newer: Cargo.toml rust-version)" >&2; exit 1; }
# scripts/test.sh runs clippy; a rustup toolchain may lack the component.
if ! cargo clippy --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
  echo "setup: rustup component add clippy"
  rustup component add clippy >/dev/null
fi
