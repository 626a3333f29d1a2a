#!/usr/bin/env bash
# The demo: builds the provider and the simulator, starts the simulator on loopback, and runs
# the real Terraform CLI (1.0.3, installed into .tools/ on first use; or $TERRAFORM) on the
# example configurations, printing the ports it reads and what the drift check says.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "==> building terraform-provider-hss and hss-sim"
cargo build --quiet --workspace --bins
terraform=${TERRAFORM:-$(scripts/install-terraform.sh)}
echo "==> using $("$terraform" version | head -n 1)"

work=$(mktemp -d)
sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

token="demo-token"
project="0123456789abcdef0123456789abcdef"
echo "==> starting hss-sim (the reference host, plus web-1 with 450 generated ports)"
target/debug/hss-sim --listen 127.0.0.1:0 --url-file "$work/url" --project-id "$project" \
  --token "$token" --generate web-1=450 >/dev/null &
sim_pid=$!
for _ in $(seq 1 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(cat "$work/url")
echo "    simulator at $url"

cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "local/hss" = "$root/target/debug"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
export HW_HSS_ENDPOINT="$url" HW_PROJECT_ID="$project" HW_AUTH_TOKEN="$token"
unset HW_ACCESS_KEY HW_SECRET_KEY HW_SECURITY_TOKEN

run_example() {
  local name=$1
  mkdir -p "$work/$name"
  cp "examples/$name"/*.tf "$work/$name/"
  (cd "$work/$name" && "$terraform" apply -auto-approve -no-color >/dev/null && "$terraform" output -no-color)
}

echo
echo "==> examples/data-sources/hss_host_ports: the reference host's open ports"
run_example data-sources/hss_host_ports

echo
echo "==> a host with 450 ports: read from 3 pages, concurrently"
mkdir -p "$work/big"
cat >"$work/big/main.tf" <<'TF'
terraform {
  required_providers {
    hss = { source = "local/hss" }
  }
}
provider "hss" {}
data "hss_host_ports" "web1" {
  host_id = "web-1"
}
output "total_num" { value = data.hss_host_ports.web1.total_num }
output "listed"    { value = length(data.hss_host_ports.web1.ports) }
output "first_three" {
  value = [for p in slice(data.hss_host_ports.web1.ports, 0, 3) : "${p.type}/${p.port} ${p.path}"]
}
TF
(cd "$work/big" && "$terraform" apply -auto-approve -no-color >/dev/null && "$terraform" output -no-color)

echo
echo "==> examples/drift-check: the reference host matches its allowed list"
run_example drift-check | grep '^drift'
echo
echo "==> the same check with only UDP/68 allowed: the plan fails and names the extra port"
if plan=$(cd "$work/drift-check" && "$terraform" plan -no-color -var 'allowed_ports=["UDP/68"]' 2>&1); then
  echo "demo: the drift check did not fail as expected" >&2
  exit 1
fi
echo "$plan" | sed -n '/^Error:/,$p' | sed 's/^/    /'
echo "    (the plan failed, as a drift check should)"
echo
echo "demo complete"
