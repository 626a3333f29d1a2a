#!/usr/bin/env bash
# Runs every test: unit tests, the gRPC/mTLS plugin tests, the client and simulator tests, and
# the acceptance tests that drive the real Terraform CLI (1.0.3, installed into .tools/ by the
# tests themselves, and any other `terraform` on PATH); and it compiles the provider and the
# simulator for Windows and macOS (scripts/check-targets.sh), which cannot be run here.
#
#   scripts/test.sh          # everything (what CI runs)
#   scripts/test.sh --fast   # the fast tier only: no Terraform, no release builds, no fault
#                            # matrix, no other platforms
#
# Tests run under cargo-nextest with the bounds in .config/nextest.toml: a hung test fails by
# name. Property tests use a fixed seed (scripts/explore-properties.sh explores with fresh ones).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=default
if [[ "${1:-}" == "--fast" ]]; then
  profile=fast
  shift
fi

# cargo-nextest comes with this machine's toolchain; install it (pinned) where it is missing.
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "==> installing cargo-nextest into .tools/cargo" >&2
  cargo install --locked --quiet cargo-nextest@0.9.143 --root .tools/cargo
  export PATH="$PWD/.tools/cargo/bin:$PATH"
fi

if [[ $profile == default ]]; then
  # Fetch Terraform 1.0.3 up front so that a network problem shows up as itself.
  scripts/install-terraform.sh >/dev/null
  # The release tests (tests/release.rs) check what scripts/release.sh makes. Its toolchain and
  # its two static LTO builds take minutes from cold: make them once here, outside the tests'
  # time bounds, with the version and cargo target dir the tests use, so that each test
  # process's own release.sh run finds the builds fresh and only packages.
  scripts/release-tools.sh all
  # The Windows and macOS builds of the release workflow cannot run here; they must compile.
  scripts/check-targets.sh
  echo "==> building the release binaries (scripts/release.sh, as tests/release.rs does)" >&2
  RELEASE_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/release-build" \
    scripts/release.sh 0.9.0 --dist "${CARGO_TARGET_DIR:-$PWD/target}/release-warmup" >/dev/null
fi
cargo nextest run --workspace --all-features --lib --bins --tests --locked --profile "$profile" "$@"
if [[ $profile == default ]]; then
  # The criterion benchmarks, once each in test mode: they must build and run.
  timeout 600 cargo test --workspace --all-features --benches --locked --quiet
fi
