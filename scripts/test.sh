#!/usr/bin/env bash
# Runs every test: unit tests, the gRPC/mTLS plugin tests, the client and simulator tests, and
# the acceptance tests that drive the real Terraform CLI (1.0.3, installed into .tools/ by the
# tests themselves, and any other `terraform` on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

# Fetch Terraform 1.0.3 up front so that a network problem shows up as itself.
scripts/install-terraform.sh >/dev/null
cargo test --workspace --all-targets --all-features --locked "$@"
