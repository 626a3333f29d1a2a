#!/usr/bin/env bash
# Builds the release binary and installs it where `terraform init` finds it without a registry:
# the implied local mirror ~/.terraform.d/plugins (or $PLUGIN_DIR), under the address local/hss.
# The binary is taken from where cargo builds it: target/release, or $CARGO_TARGET_DIR/release
# (or a build.target-dir from cargo's configuration), as `cargo metadata` reports it.
set -euo pipefail
# A relative CARGO_TARGET_DIR is relative to where the script was started, as for cargo itself.
if [ -n "${CARGO_TARGET_DIR:-}" ] && [ "${CARGO_TARGET_DIR#/}" = "$CARGO_TARGET_DIR" ]; then
  export CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR"
fi
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
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
if [ -z "$target_dir" ]; then
  echo "install: cannot tell where cargo put the binary (cargo metadata gave no target_directory)" >&2
  exit 1
fi
binary="$target_dir/release/terraform-provider-hss"
mkdir -p "$dest"
install -m 0755 "$binary" "$dest/terraform-provider-hss_v$version"
echo "installed $dest/terraform-provider-hss_v$version"
echo "use it with: required_providers { hss = { source = \"local/hss\", version = \"$version\" } }"
