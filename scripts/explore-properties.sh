#!/usr/bin/env bash
# Runs the property tests with fresh randomness, to look for new bugs (CI runs them with a fixed
# seed, so that a commit always gets the same verdict). The seed is printed first: rerun a
# failure with PROPTEST_RNG_SEED=<seed>. A failure is also saved to
# tests/properties.proptest-regressions; commit it with the fix, and CI replays it from then on.
#   scripts/explore-properties.sh                 # 2,000 cases per property
#   PROPTEST_CASES=20000 scripts/explore-properties.sh
set -euo pipefail
cd "$(dirname "$0")/.."

seed=${PROPTEST_RNG_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}
cases=${PROPTEST_CASES:-2000}
echo "property tests: PROPTEST_RNG_SEED=$seed PROPTEST_CASES=$cases"
PROPTEST_RNG_SEED=$seed PROPTEST_CASES=$cases cargo test --locked --features internals --test properties "$@"
