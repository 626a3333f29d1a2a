#!/usr/bin/env bash
# Installs what scripts/release.sh and tests/release.rs need, from the registries this project
# uses, and nothing when it is all there already (a second run takes well under a second):
#
#   build: the rustup targets x86_64- and aarch64-unknown-linux-musl, and a C toolchain for
#          aws-lc-sys for both: cargo-zigbuild and zig (PyPI packages `cargo-zigbuild` and
#          `ziglang`, pinned below) in a venv under .tools/release/ (git-ignored); also the
#          rustup targets scripts/check-targets.sh compiles for (Windows, macOS).
#   test:  qemu-user (qemu-aarch64, to run the arm64 binary), gnupg (signing), binutils
#          (readelf), from Debian's packages; apt-get needs root.
#
# Usage: scripts/release-tools.sh [build|test|all]   (default: all)
# Quiet when nothing is missing; what it installs it reports on stderr. release.sh puts
# .tools/release/venv/bin first on PATH itself.
#
# -e: stop at the first failed install instead of building with half a toolchain;
# -u: a typo in a variable name is an error, not an empty string;
# -o pipefail: a failing command in a pipeline fails the pipeline.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
case "$what" in
  build | test | all) ;;
  *)
    echo "usage: $0 [build|test|all]" >&2
    exit 2
    ;;
esac

# Pinned so that two machines (and two months) build the same bytes. Bumping either changes the
# aws-lc objects in the binaries, so it changes the release zips: do it deliberately.
CARGO_ZIGBUILD_VERSION=0.24.1
ZIGLANG_VERSION=0.15.2
RUST_TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
# Compiled (not linked, not run) by scripts/check-targets.sh: the release workflow builds these
# platforms natively on GitHub, where this project's CI cannot go.
CHECK_TARGETS=(x86_64-pc-windows-gnu aarch64-apple-darwin)

# One install at a time: the release tests run in several processes at once (nextest), and on a
# fresh machine each would otherwise create the same venv and run apt-get side by side. The
# others wait (at most 15 minutes) and then find everything installed.
mkdir -p "$root/.tools"
exec 9>"$root/.tools/release-tools.lock"
if ! flock -w 900 9; then
  echo "release-tools: another install held .tools/release-tools.lock for 15 minutes" >&2
  exit 1
fi

venv="$root/.tools/release/venv"
stamp="$venv/.installed"
want_stamp="cargo-zigbuild==$CARGO_ZIGBUILD_VERSION ziglang==$ZIGLANG_VERSION"

say() { echo "release-tools: $*" >&2; }

install_build() {
  # rustup targets: `rustup target list --installed` is quick; `rustup target add` is not
  # (it checks the network even when the target is there).
  local installed missing=()
  installed=$(rustup target list --installed)
  for t in "${RUST_TARGETS[@]}" "${CHECK_TARGETS[@]}"; do
    grep -qx "$t" <<<"$installed" || missing+=("$t")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "rustup target add ${missing[*]}"
    rustup target add "${missing[@]}" >&2
  fi

  # cargo-zigbuild and zig from PyPI: both ship as binary wheels, so this takes seconds (a
  # `cargo install cargo-zigbuild` would compile for a minute or two on every fresh CI machine).
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] && [ -x "$venv/bin/cargo-zigbuild" ]; then
    return 0
  fi
  local python
  python=$(command -v python3 || command -v python || true)
  if [ -z "$python" ]; then
    say "python3 is needed to install cargo-zigbuild and ziglang from PyPI"
    exit 1
  fi
  say "installing $want_stamp into ${venv#"$root"/}"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION" "ziglang==$ZIGLANG_VERSION" >&2
  "$venv/bin/python" -m ziglang version >/dev/null
  echo "$want_stamp" >"$stamp"
}

install_test() {
  # Debian packages, by command: only what is missing, so a machine that has them needs no root.
  local pkgs=()
  command -v qemu-aarch64 >/dev/null || pkgs+=(qemu-user)
  command -v gpg >/dev/null || pkgs+=(gnupg)
  command -v readelf >/dev/null || pkgs+=(binutils)
  command -v chroot >/dev/null || pkgs+=(coreutils)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing ${pkgs[*]}: install them with apt-get (as root)"
    exit 1
  fi
  say "apt-get install ${pkgs[*]}"
  # --no-install-recommends: qemu-user alone, without qemu-user-binfmt's kernel registration
  # (the tests call qemu-aarch64 by name). An old or empty package list is refreshed once.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
  fi
}

case "$what" in
  build) install_build ;;
  test) install_test ;;
  all)
    install_build
    install_test
    ;;
esac
