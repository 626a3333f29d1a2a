#!/usr/bin/env bash
# Builds, packages, checksums, signs and lays out a release of terraform-provider-hss in the
# Terraform Registry's format, plus a packed filesystem mirror and a network mirror made from the
# same zips. docs/release.md explains every option, variable and layout.
#
#   scripts/release.sh VERSION [--namespace NS] [--host HOST]... [--targets LIST] [--dist DIR]
#                              [--no-build] [--no-tools]
#
# By default it builds linux_amd64 and linux_arm64 (x86_64- and aarch64-unknown-linux-musl, fully
# static, with cargo-zigbuild and zig as the C toolchain of aws-lc-sys). On macOS and Windows it
# builds that machine's own targets natively (--targets darwin_arm64 etc.; the release workflow
# does this, it is not tested here). --no-build only re-derives SHA256SUMS, manifest, signature
# and mirrors from the zips already in the dist directory: the release workflow's merge job.
#
# Environment (each option's default): RELEASE_NAMESPACE, RELEASE_HOSTS (space or comma
# separated), RELEASE_TARGETS, DIST_DIR, RELEASE_TARGET_DIR (cargo's target dir, default
# target/release-build, apart from target/ so that it never fights a debug build),
# SOURCE_DATE_EPOCH (default: the commit time of HEAD), GPG_FINGERPRINT (sign with this key;
# unset: no .sig), GPG_PASSPHRASE (optional), GNUPGHOME (gpg's own).
#
# Bash, not POSIX sh, and bash 3.2 compatible (the macOS runners' /bin/bash): no associative
# arrays, no ${x,,}.
# -e: a failed build, zip or signature stops the release instead of publishing a partial one;
# -u: an unset variable is a bug, not an empty string (a typo must not sign nothing silently);
# -o pipefail: `cmd | sort` fails when cmd fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

PROVIDER=hss
NAME=terraform-provider-$PROVIDER

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

die() {
  echo "release: $*" >&2
  exit 1
}

# ---- arguments ---------------------------------------------------------------------------
version=""
namespace=${RELEASE_NAMESPACE:-hss-community}
hosts=${RELEASE_HOSTS:-registry.terraform.io}
hosts_given=""
targets=${RELEASE_TARGETS:-linux_amd64,linux_arm64}
dist=${DIST_DIR:-$root/dist}
target_dir=${RELEASE_TARGET_DIR:-$root/target/release-build}
build=1
tools=1
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace=${2:?--namespace needs a value}; shift 2 ;;
    --namespace=*) namespace=${1#*=}; shift ;;
    --host) hosts_given="$hosts_given ${2:?--host needs a value}"; shift 2 ;;
    --host=*) hosts_given="$hosts_given ${1#*=}"; shift ;;
    --targets) targets=${2:?--targets needs a value}; shift 2 ;;
    --targets=*) targets=${1#*=}; shift ;;
    --dist) dist=${2:?--dist needs a value}; shift 2 ;;
    --dist=*) dist=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    --no-tools) tools=0; shift ;;
    -h | --help) usage ;;
    -*) echo "release: unknown option $1" >&2; usage ;;
    *)
      [ -z "$version" ] || die "one VERSION only (got $version and $1)"
      version=$1
      shift
      ;;
  esac
done
[ -n "$version" ] || usage
[ -n "$hosts_given" ] && hosts=$hosts_given
# Commas to spaces, runs of blanks to one (unquoted echo: the values are validated below).
# shellcheck disable=SC2086
hosts=$(echo $hosts | tr ',' ' ')
# shellcheck disable=SC2086
targets=$(echo $targets | tr ',' ' ')
# A tag `v1.2.3` gives version 1.2.3: the registry's file names carry no `v`.
version=${version#v}
# Terraform accepts only semantic versions (a pre-release suffix is fine, build metadata not).
echo "$version" | grep -Eq '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$' ||
  die "VERSION must be semver like 1.2.3 or 1.2.3-rc.1, got '$version'"
echo "$namespace" | grep -Eq '^[0-9A-Za-z][0-9A-Za-z-]{0,63}$' || die "bad namespace '$namespace'"
for h in $hosts; do
  echo "$h" | grep -Eq '^[0-9A-Za-z.-]+(:[0-9]+)?$' || die "bad host '$h'"
done
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null) ||
    die "SOURCE_DATE_EPOCH is unset and $root is not a git checkout"
fi
export SOURCE_DATE_EPOCH

python=$(command -v python3 || command -v python || true)
[ -n "$python" ] || die "python3 is needed (zips, hashes, mirror JSON)"

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# ---- the platforms -------------------------------------------------------------------------
# Go's os_arch -> Rust target, how it is built, the executable's suffix.
rust_target() {
  case "$1" in
    linux_amd64) echo x86_64-unknown-linux-musl ;;
    linux_arm64) echo aarch64-unknown-linux-musl ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64) echo x86_64-pc-windows-msvc ;;
    windows_arm64) echo aarch64-pc-windows-msvc ;;
    *) die "unknown target '$1' (linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64 windows_arm64)" ;;
  esac
}
exe_suffix() { case "$1" in windows_*) echo .exe ;; *) echo "" ;; esac; }

zig_triples=""
native_triples=""
for t in $targets; do
  triple=$(rust_target "$t")
  case "$t" in
    linux_*) zig_triples="$zig_triples $triple" ;;
    *) native_triples="$native_triples $triple" ;;
  esac
done

# ---- the embedded helper: deterministic zips, h1 hashes, mirror JSON ------------------------
# Python's zipfile gives full control over entry metadata, which `zip` does not (it stores the
# file's mtime, uid/gid extra fields and the umask's permissions).
read_helper() {
  cat <<'PY'
import base64, calendar, hashlib, json, os, sys, time, zipfile

def zip_one(binary, archive, name, epoch):
    # Zip times are local-free DOS times with 2-second resolution, from 1980 on.
    t = time.gmtime(max(int(epoch), 315532800))
    info = zipfile.ZipInfo(name, date_time=(t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec & ~1))
    info.create_system = 3  # Unix, so that the mode below is honoured
    info.external_attr = (0o100755 << 16)  # regular file, rwxr-xr-x
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, "rb") as f:
        data = f.read()
    tmp = archive + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z:
        z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    os.replace(tmp, archive)

def h1(archive):
    # Go's golang.org/x/mod/sumdb/dirhash.Hash1 over the zip's files, as Terraform computes it.
    lines = []
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            lines.append("%s  %s\n" % (hashlib.sha256(z.read(info)).hexdigest(), info.filename))
    lines.sort(key=lambda l: l.split("  ", 1)[1])
    return "h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode()

def zh(archive):
    with open(archive, "rb") as f:
        return "zh:" + hashlib.sha256(f.read()).hexdigest()

def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)

def version_key(v):
    core, _, pre = v.partition("-")
    return ([int(x) for x in core.split(".")], pre == "", pre)

def network_mirror(directory, name, version):
    # {version}.json for the zips of this version in `directory`, then index.json for every
    # {version}.json there (so versions accumulate when one dist/ serves several releases).
    prefix = "%s_%s_" % (name, version)
    archives = {}
    for f in sorted(os.listdir(directory)):
        if f.startswith(prefix) and f.endswith(".zip"):
            platform = f[len(prefix):-len(".zip")]
            path = os.path.join(directory, f)
            archives[platform] = {"url": f, "hashes": [h1(path), zh(path)]}
    write_json(os.path.join(directory, version + ".json"), {"archives": archives})
    versions = sorted((f[:-5] for f in os.listdir(directory) if f.endswith(".json") and f != "index.json"), key=version_key)
    write_json(os.path.join(directory, "index.json"), {"versions": {v: {} for v in versions}})

cmd = sys.argv[1]
if cmd == "zip":
    zip_one(*sys.argv[2:6])
elif cmd == "h1":
    print(h1(sys.argv[2]))
elif cmd == "network-mirror":
    network_mirror(*sys.argv[2:5])
else:
    sys.exit("unknown helper command " + cmd)
PY
}
helper=$(read_helper)
py() { "$python" -c "$helper" "$@"; }

# ---- clean this version's outputs (never other versions') --------------------------------------
prefix="${NAME}_${version}"
if [ "$build" = 1 ]; then
  rm -f "$dist/${prefix}"_*
else
  # --no-build keeps the zips (they are its input) and re-derives the rest.
  rm -f "$dist/${prefix}_SHA256SUMS" "$dist/${prefix}_SHA256SUMS.sig" "$dist/${prefix}_manifest.json"
fi
rm -f "$dist"/mirror/*/*/"$PROVIDER/${prefix}"_*.zip
rm -f "$dist"/network-mirror/*/*/"$PROVIDER/${prefix}"_*.zip "$dist"/network-mirror/*/*/"$PROVIDER/$version.json"

# ---- build ------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  if [ "$tools" = 1 ] && [ -n "$zig_triples" ]; then
    "$root/scripts/release-tools.sh" build
  fi
  export PATH="$root/.tools/release/venv/bin:$PATH"
  for triple in $native_triples; do
    rustup target list --installed | grep -qx "$triple" || rustup target add "$triple"
  done

  cargo_home=${CARGO_HOME:-$HOME/.cargo}
  rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
  # Reproducibility: paths of this checkout, of cargo's registry sources, of the toolchain and
  # of the target dir would otherwise end up in panic messages and file!() strings. One flag per \x1f-separated
  # field of CARGO_ENCODED_RUSTFLAGS, which survives spaces in paths and overrides RUSTFLAGS.
  sep=$(printf '\037')
  # The target dir too: generated code (the protocol's .rs files in OUT_DIR) is include!d from it.
  mkdir -p "$target_dir"
  target_dir=$(cd "$target_dir" && pwd)
  rustflags="--remap-path-prefix=$root=/build/$NAME${sep}--remap-path-prefix=$cargo_home=/cargo${sep}--remap-path-prefix=$rustup_home=/rustup${sep}--remap-path-prefix=$target_dir=/target"
  unset RUSTFLAGS
  export CARGO_ENCODED_RUSTFLAGS="$rustflags"
  # The same for the C sources of aws-lc-sys (assertion strings carry __FILE__).
  cflags="-ffile-prefix-map=$root=/build/$NAME -ffile-prefix-map=$cargo_home=/cargo -ffile-prefix-map=$target_dir=/target"
  for triple in $zig_triples; do
    var="CFLAGS_$(echo "$triple" | tr '-' '_')"
    export "$var=$cflags"
  done
  export CARGO_TARGET_DIR="$target_dir"
  # The version the binary reports (--version, User-Agent): src/lib.rs reads it at compile time.
  export HSS_PROVIDER_VERSION="$version"

  start=$(date +%s)
  if [ -n "$zig_triples" ]; then
    command -v cargo-zigbuild >/dev/null || die "cargo-zigbuild missing: run scripts/release-tools.sh build"
    target_args=""
    for triple in $zig_triples; do target_args="$target_args --target $triple"; done
    echo "release: cargo zigbuild --release$target_args (target dir ${target_dir#"$root"/})" >&2
    # One cargo run for both targets: build scripts and proc macros are compiled once.
    # shellcheck disable=SC2086
    cargo zigbuild --release --locked -p "$NAME" --bin "$NAME" $target_args
  fi
  for triple in $native_triples; do
    echo "release: cargo build --release --target $triple" >&2
    cargo build --release --locked -p "$NAME" --bin "$NAME" --target "$triple"
  done
  echo "release: built in $(($(date +%s) - start)) s" >&2

  host_os=$(uname -s | tr '[:upper:]' '[:lower:]')
  host_arch=$(uname -m)
  for t in $targets; do
    triple=$(rust_target "$t")
    suffix=$(exe_suffix "$t")
    binary="$target_dir/$triple/release/$NAME$suffix"
    [ -f "$binary" ] || die "no binary at $binary"
    case "$t" in
      linux_*)
        # Static or nothing: a binary with an interpreter fails in Alpine-based images with
        # `fork/exec ...: no such file or directory`.
        if command -v readelf >/dev/null; then
          if readelf -l "$binary" | grep -q 'INTERP' || readelf -d "$binary" | grep -q '(NEEDED)'; then
            die "$binary is not static"
          fi
        fi
        ;;
    esac
    # The binary must report the release version; checked where it can run.
    if { [ "$t" = linux_amd64 ] && [ "$host_os" = linux ] && [ "$host_arch" = x86_64 ]; } ||
      { [ "$t" = darwin_arm64 ] && [ "$host_os" = darwin ] && [ "$host_arch" = arm64 ]; } ||
      { [ "$t" = darwin_amd64 ] && [ "$host_os" = darwin ] && [ "$host_arch" = x86_64 ]; }; then
      got=$("$binary" --version)
      [ "$got" = "$NAME $version" ] || die "$binary --version says '$got', want '$NAME $version'"
    fi
    py zip "$binary" "$dist/${prefix}_$t.zip" "${NAME}_v$version$suffix" "$SOURCE_DATE_EPOCH"
  done
fi

# ---- manifest, SHA256SUMS, signature -------------------------------------------------------
# The names are ours (no blanks), so a word list is safe; sorted bytewise, like the SUMS lines.
# shellcheck disable=SC2012,SC2086
zips=$(cd "$dist" && ls "${prefix}"_*.zip 2>/dev/null | LC_ALL=C sort) || true
[ -n "$zips" ] || die "no ${prefix}_*.zip in $dist"
printf '%s' '{"version":1,"metadata":{"protocol_versions":["6.0"]}}' >"$dist/${prefix}_manifest.json"
sums="$dist/${prefix}_SHA256SUMS"
: >"$sums.tmp"
# shellcheck disable=SC2086
for f in $(printf '%s\n' $zips "${prefix}_manifest.json" | LC_ALL=C sort); do
  printf '%s  %s\n' "$(sha256 "$dist/$f")" "$f" >>"$sums.tmp"
done
mv "$sums.tmp" "$sums"

if [ -n "${GPG_FINGERPRINT:-}" ]; then
  command -v gpg >/dev/null || die "GPG_FINGERPRINT is set but gpg is missing"
  if [ -n "${GPG_PASSPHRASE:-}" ]; then
    gpg --batch --yes --pinentry-mode loopback --passphrase-fd 0 --local-user "$GPG_FINGERPRINT" \
      --output "$sums.sig" --detach-sign "$sums" <<<"$GPG_PASSPHRASE"
  else
    gpg --batch --yes --local-user "$GPG_FINGERPRINT" --output "$sums.sig" --detach-sign "$sums"
  fi
  gpg --batch --verify "$sums.sig" "$sums" 2>/dev/null || die "the new signature does not verify"
else
  echo "release: GPG_FINGERPRINT unset: no ${prefix}_SHA256SUMS.sig (the registry needs one)" >&2
fi

# ---- mirrors ----------------------------------------------------------------------------
# Hard links where the file system allows (same bytes, no extra space), copies otherwise.
place() { ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"; }
for h in $hosts; do
  fs="$dist/mirror/$h/$namespace/$PROVIDER"
  net="$dist/network-mirror/$h/$namespace/$PROVIDER"
  mkdir -p "$fs" "$net"
  for f in $zips; do
    place "$dist/$f" "$fs/$f"
    place "$dist/$f" "$net/$f"
  done
  py network-mirror "$net" "$NAME" "$version"
done

# ---- report -----------------------------------------------------------------------------
echo "release: $NAME $version for $namespace/$PROVIDER on $hosts (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)" >&2
(cd "$dist" && for f in $zips "${prefix}_manifest.json" "${prefix}_SHA256SUMS" "${prefix}_SHA256SUMS.sig"; do
  if [ -f "$f" ]; then printf '  %10s  %s\n' "$(wc -c <"$f" | tr -d ' ')" "$f"; fi
done) >&2
for f in $zips; do
  echo "  $(py h1 "$dist/$f")  $f" >&2
done
echo "$dist"
