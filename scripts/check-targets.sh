#!/usr/bin/env bash
# Compiles and lints the provider for the platforms the release workflow builds on GitHub's
# native runners, which this project's CI cannot run: Windows (x86_64-pc-windows-gnu, the
# cross-compilable stand-in for the workflow's MSVC build) and macOS (aarch64-apple-darwin).
# The simulator too: users run hss-sim in their own CI, on whatever machines they have.
# `cargo zigbuild clippy` with zig as aws-lc-sys's C compiler: it type-checks every cfg'd path
# and fails on a warning, but links and runs nothing. scripts/test.sh runs it.
#
# Usage: scripts/check-targets.sh    (CARGO_TARGET_DIR is honoured; builds go to check-targets/)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/release-tools.sh build
export PATH="$root/.tools/release/venv/bin:$PATH"
target_dir="${CARGO_TARGET_DIR:-$root/target}/check-targets"
for target in x86_64-pc-windows-gnu aarch64-apple-darwin; do
  echo "==> cargo zigbuild clippy --target $target (compiles, lints; no link, no run)" >&2
  cargo-zigbuild clippy --quiet --locked -p terraform-provider-hss -p hss-sim --lib --bins \
    --target "$target" --target-dir "$target_dir" -- -D warnings
done
