#!/usr/bin/env bash
# Builds the release binary and installs it where `terraform init` finds it without a registry:
# the implied local mirror ~/.terraform.d/plugins (or $PLUGIN_DIR), under the address local/hss.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
plugins=${PLUGIN_DIR:-$HOME/.terraform.d/plugins}
dest="$plugins/registry.terraform.io/local/hss/$version/${os}_${arch}"

cargo build --release --locked --bin terraform-provider-hss
mkdir -p "$dest"
install -m 0755 target/release/terraform-provider-hss "$dest/terraform-provider-hss_v$version"
echo "installed $dest/terraform-provider-hss_v$version"
echo "use it with: required_providers { hss = { source = \"local/hss\", version = \"$version\" } }"
