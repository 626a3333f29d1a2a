#!/usr/bin/env bash
# The performance benchmark (`make bench`): builds the release binaries, then runs the real
# Terraform CLI (1.0.3 from scripts/install-terraform.sh, or $TERRAFORM) with `terraform plan`
# against hss-sim on loopback with added latency, and prints one table row per scenario and
# concurrency: requests, median wall time, physical floor, reads, provider share, peak RSS,
# start-to-handshake time and binary size. Scenarios (a)-(d) read single hosts; (e) and (f) are the
# fleet: hss_fleet_port_drift over 1,000 servers, and for_each over hss_hosts.ids with
# hss_host_port_drift as the baseline. scripts/bench.py does the runs; docs/performance.md
# explains the method and holds the measured table.
#
#   scripts/bench.sh [--latency-ms N] [--runs N] [--quick] [--scenarios a,b,c,d,e,f] [--out FILE]
#                    [--logs DIR]
#
# Environment: BENCH_LATENCY_MS (default 50), BENCH_RUNS (default 5; 1 with BENCH_QUICK=1),
# BENCH_QUICK=1 (one timed run, 5 handshake samples), BENCH_SCENARIOS, BENCH_OUT (write the
# table there too), BENCH_LOGS (keep the logged runs' Terraform logs there), TERRAFORM.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

latency=${BENCH_LATENCY_MS:-50}
quick=${BENCH_QUICK:-0}
runs=${BENCH_RUNS:-}
scenarios=${BENCH_SCENARIOS:-a,b,c,d,e,f}
out=${BENCH_OUT:-}
logs=${BENCH_LOGS:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --latency-ms) latency=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  runs=${runs:-1}
  samples=5
else
  runs=${runs:-5}
  samples=21
fi
case "$latency$runs" in *[!0-9]*) echo "bench: --latency-ms and --runs take whole numbers" >&2; exit 2 ;; esac

python=$(command -v python3 || true)
if [ -z "$python" ]; then
  echo "bench: python3 is needed" >&2
  exit 1
fi

echo "==> building the release binaries (cargo build --release --bins)" >&2
cargo build --quiet --release --workspace --bins
terraform=${TERRAFORM:-$(scripts/install-terraform.sh)}

work=$(mktemp -d)
py_pid=""
cleanup() {
  # bench.py stops its simulator and any running Terraform itself when signalled; the pid file
  # catches a simulator left behind anyway.
  if [ -n "$py_pid" ] && kill -0 "$py_pid" 2>/dev/null; then
    kill -TERM "$py_pid" 2>/dev/null || true
    wait "$py_pid" 2>/dev/null || true
  fi
  if [ -s "$work/sim.pid" ]; then
    kill "$(cat "$work/sim.pid")" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# In the background with `wait`, so that a signal to this script runs the trap at once instead
# of after the whole benchmark.
"$python" scripts/bench.py --root "$root" --work "$work" --terraform "$terraform" \
  --latency-ms "$latency" --runs "$runs" --handshake-samples "$samples" \
  --scenarios "$scenarios" ${out:+--out "$out"} ${logs:+--logs "$logs"} &
py_pid=$!
status=0
wait "$py_pid" || status=$?
py_pid=""
exit "$status"
