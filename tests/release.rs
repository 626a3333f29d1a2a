//! Acceptance tests of the release (issue 14): `scripts/release.sh` builds static linux_amd64 and
//! linux_arm64 binaries and lays out the registry files and both mirrors; these tests check what
//! a user gets from them.
//!
//! - The binaries are static; the amd64 one serves (handshake, AutoMTLS with P-521, schema, a
//!   read against the simulator) in an empty root holding nothing but itself, the stand-in for
//!   an Alpine image; the arm64 one does the same under `qemu-aarch64`.
//! - `terraform init` installs the release from the packed filesystem mirror and from the network
//!   mirror (HTTPS on loopback, a test CA trusted through SSL_CERT_FILE), on every Terraform the
//!   tests use, and a plan reads the simulator; the lock file's `h1:` is the one the mirror JSON
//!   publishes.
//! - SHA256SUMS covers every zip and the manifest, and its signature verifies.
//! - A second run gives byte-identical zips.
//!
//! The script runs once per test process (the first test to need it builds; the others wait),
//! into its own cargo target dir (`target/release-build`), which later runs reuse. From cold the
//! two LTO builds take about 4 minutes on 2 cores.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use hss_provider::value::Value;
use serde_json::Value as Json;
use support::grpc::{self, Provider, n, s};
use support::https::StaticHttps;
use support::plugin::{HANDSHAKE_LIMIT, Launch};
use support::proc;
use support::sim::{self, Sim};
use support::terraform::Workspace;

/// The version the tests release; scripts/test.sh builds the same one before the tests run.
const VERSION: &str = "0.9.0";
/// release.sh's default namespace and host.
const NAMESPACE: &str = "hss-community";
const HOST: &str = "registry.terraform.io";
const NAME: &str = "terraform-provider-hss";
const PLATFORMS: [&str; 2] = ["linux_amd64", "linux_arm64"];
/// The simulator's host and its number of generated ports.
const SIM_HOST: &str = "host-1";
const SIM_PORTS: usize = 3;

/// From cold, both LTO builds take about 4 minutes here; far more means something hangs.
const BUILD_LIMIT: Duration = Duration::from_secs(40 * 60);
const TOOLS_LIMIT: Duration = Duration::from_secs(15 * 60);
const SHORT_LIMIT: Duration = Duration::from_secs(60);
/// How long one gRPC call may take.
const CALL_LIMIT: Duration = Duration::from_secs(30);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// cargo's target dir for this checkout (where the tests keep their scratch files).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

fn zip_name(platform: &str) -> String {
    format!("{NAME}_{VERSION}_{platform}.zip")
}

fn binary_name() -> String {
    format!("{NAME}_v{VERSION}")
}

/// cargo's target dir for release.sh's builds, shared by every run (so later runs reuse it).
fn release_target_dir() -> String {
    std::env::var("RELEASE_TARGET_DIR").unwrap_or_else(|_| target_dir().join("release-build").display().to_string())
}

/// The release every test looks at, made once per process.
struct Release {
    work: PathBuf,
    dist: PathBuf,
    /// `SOURCE_DATE_EPOCH` as release.sh derived it: the commit time.
    epoch: i64,
    fingerprint: String,
    /// The signer's public key, armored, as a registry would publish it.
    public_key: PathBuf,
    /// The binaries, extracted from the zips (not taken from cargo's target dir).
    binaries: Vec<(String, PathBuf)>,
}

impl Release {
    fn binary(&self, platform: &str) -> &Path {
        &self.binaries.iter().find(|(p, _)| p == platform).expect("platform").1
    }

    fn network_mirror_dir(&self) -> PathBuf {
        self.dist.join("network-mirror").join(HOST).join(NAMESPACE).join("hss")
    }

    /// The `h1:` the network mirror's `{VERSION}.json` publishes for `platform`.
    fn published_h1(&self, platform: &str) -> String {
        let json: Json = read_json(&self.network_mirror_dir().join(format!("{VERSION}.json")));
        let hashes = json["archives"][platform]["hashes"].as_array().expect("hashes");
        hashes.iter().filter_map(|h| h.as_str()).find(|h| h.starts_with("h1:")).expect("an h1: hash").to_owned()
    }
}

fn release() -> &'static Release {
    static RELEASE: OnceLock<Result<Release, String>> = OnceLock::new();
    let made = RELEASE.get_or_init(|| {
        std::panic::catch_unwind(make_release).map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "panic".into())
        })
    });
    match made {
        Ok(release) => release,
        Err(e) => panic!("making the release failed (see the first failing test): {e}"),
    }
}

/// A scratch dir per test process under target/release-test/, with those of finished processes
/// removed (so that two `cargo test` runs at once never share one).
fn work_dir() -> PathBuf {
    let base = target_dir().join("release-test");
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let alive = name.strip_prefix("run-").is_some_and(|pid| Path::new("/proc").join(pid).exists());
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let work = base.join(format!("run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    work
}

/// release.sh with a clean environment for its own variables, so that the machine's settings
/// cannot change what the test checks.
fn release_sh(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/release.sh")).args(args).current_dir(root());
    for key in [
        "DIST_DIR",
        "RELEASE_NAMESPACE",
        "RELEASE_HOSTS",
        "RELEASE_TARGETS",
        "SOURCE_DATE_EPOCH",
        "GPG_FINGERPRINT",
        "GPG_PASSPHRASE",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(key);
    }
    cmd.env("RELEASE_TARGET_DIR", release_target_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn make_release() -> Release {
    let work = work_dir();
    let tools = proc::ok(
        Command::new("bash").arg(root().join("scripts/release-tools.sh")).arg("all"),
        TOOLS_LIMIT,
        "scripts/release-tools.sh all",
    );
    eprint!("{}", tools.stderr);

    // A throwaway signing key, in a GNUPGHOME of its own (short path: gpg-agent's socket lives
    // there), removed again once the release is signed.
    let gnupg = tempfile::Builder::new().prefix("hss-gpg").tempdir().expect("GNUPGHOME");
    let gpg = |args: &[&str], what: &str| {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", gnupg.path()).arg("--batch").args(args);
        proc::ok(&mut cmd, SHORT_LIMIT, what)
    };
    gpg(
        &[
            "--passphrase",
            "",
            "--quick-gen-key",
            "hss release test <release-test@example.invalid>",
            "ed25519",
            "sign",
            "1d",
        ],
        "gpg --quick-gen-key",
    );
    let listing = gpg(&["--with-colons", "--list-secret-keys"], "gpg --list-secret-keys").stdout;
    let fingerprint = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:").map(|r| r.trim_matches(':').to_owned()))
        .expect("a fingerprint");

    let dist = work.join("dist");
    let gnupg_home = gnupg.path().display().to_string();
    let mut cmd = release_sh(
        &[VERSION, "--dist", dist.to_str().expect("utf-8 path")],
        &[("GPG_FINGERPRINT", &fingerprint), ("GNUPGHOME", &gnupg_home)],
    );
    let built = proc::run(&mut cmd, BUILD_LIMIT, "scripts/release.sh").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(work.join("release-1.log"), &built.stderr).expect("log");
    assert!(
        built.success(),
        "scripts/release.sh {VERSION} failed ({}); log in {}:\n{}",
        built.status,
        work.join("release-1.log").display(),
        proc::tail(&built.stderr, 60)
    );
    eprintln!(
        "release.sh {VERSION}: {} s\n{}",
        built.elapsed.as_secs(),
        proc::tail(&built.stderr, 2 + 2 * PLATFORMS.len() + 2)
    );

    let public_key = work.join("signing-key.asc");
    let exported = gpg(&["--armor", "--export", &fingerprint], "gpg --export").stdout;
    std::fs::write(&public_key, exported).expect("write public key");
    let _ = Command::new("gpgconf").env("GNUPGHOME", gnupg.path()).args(["--kill", "all"]).status();
    drop(gnupg);

    // The time release.sh stamped (it reports it): the commit time of HEAD when it ran.
    let epoch = built
        .stderr
        .split("SOURCE_DATE_EPOCH=")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .expect("release.sh reports SOURCE_DATE_EPOCH");

    let mut binaries = Vec::new();
    for platform in PLATFORMS {
        let out = work.join(format!("extract-{platform}"));
        let zip = dist.join(zip_name(platform));
        python(
            "import sys, zipfile\nzipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])",
            &[zip.to_str().expect("path"), out.to_str().expect("path")],
        );
        let binary = out.join(binary_name());
        set_executable(&binary);
        binaries.push((platform.to_owned(), binary));
    }
    Release { work, dist, epoch, fingerprint, public_key, binaries }
}

fn python(script: &str, args: &[&str]) -> String {
    let py = proc::which("python3").expect("python3");
    proc::ok(Command::new(py).arg("-c").arg(script).args(args), SHORT_LIMIT, "python3").stdout
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn sha256_hex(data: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Go's dirhash.Hash1 of a package holding the one file `name`, computed here independently of
/// release.sh's Python.
fn h1_of_single_file(name: &str, data: &[u8]) -> String {
    let summary = format!("{}  {name}\n", sha256_hex(data));
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, summary.as_bytes());
    format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(digest.as_ref()))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

async fn bounded<T>(what: &str, limit: Duration, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, call).await.unwrap_or_else(|_| panic!("{what}: no answer in {limit:?}"))
}

/// Starts the provider as `launch` says, with the simulator's `HW_*` variables and `extra`, and
/// drives it as Terraform does: GetProviderSchema, ConfigureProvider (every attribute null: the
/// variables configure it) and a ReadDataSource of `hss_host_ports`. Returns it still running.
async fn serve_a_read(launch: &Launch, sim: &Sim, extra: &[(&str, &str)]) -> Provider {
    let env = sim_env(sim);
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend_from_slice(extra);
    let mut provider =
        bounded("handshake and GetProviderSchema", HANDSHAKE_LIMIT + CALL_LIMIT, Provider::launch(launch, &vars)).await;
    let diags = bounded("ConfigureProvider", CALL_LIMIT, provider.configure(&[])).await;
    assert!(diags.is_empty(), "ConfigureProvider diagnostics: {}; stderr:\n{}", grpc::text(&diags), provider.stderr());
    let state = bounded("ReadDataSource", CALL_LIMIT, provider.read(&[("host_id", s(SIM_HOST))]))
        .await
        .unwrap_or_else(|d| panic!("ReadDataSource: {}; stderr:\n{}", grpc::text(&d), provider.stderr()));
    let ports = state.get("ports").and_then(Value::as_elements).expect("ports list");
    assert_eq!(ports.len(), SIM_PORTS, "every port of {SIM_HOST}");
    assert_eq!(state.get("total_num"), Some(&n(SIM_PORTS as i64)));
    provider
}

fn sim_env(sim: &Sim) -> Vec<(&'static str, String)> {
    vec![
        ("HW_HSS_ENDPOINT", sim.url()),
        ("HW_PROJECT_ID", sim::PROJECT.to_owned()),
        ("HW_AUTH_TOKEN", sim::TOKEN.to_owned()),
    ]
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

#[test]
fn zips_hold_one_executable_with_fixed_metadata() {
    let r = release();
    // release.sh's default time is the commit time of HEAD (recent commits are allowed: in a
    // shared working tree one may land while the build runs).
    let log =
        proc::ok(Command::new("git").args(["log", "-5", "--format=%ct"]).current_dir(root()), SHORT_LIMIT, "git log");
    assert!(
        log.stdout.lines().any(|t| t.trim() == r.epoch.to_string()),
        "{} is a commit time: {}",
        r.epoch,
        log.stdout
    );
    for platform in PLATFORMS {
        let zip = r.dist.join(zip_name(platform));
        let listing = python(
            "import json, sys, time, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             t = time.gmtime(int(sys.argv[2]))\n\
             print(json.dumps({'entries': [[i.filename, i.external_attr >> 16, list(i.date_time), i.create_system, \
             i.compress_type] for i in z.infolist()], 'want': [t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, \
             t.tm_sec & ~1]}))",
            &[zip.to_str().expect("path"), &r.epoch.to_string()],
        );
        let json: Json = serde_json::from_str(&listing).expect("listing JSON");
        let entries = json["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 1, "{platform}: one entry: {entries:?}");
        let entry = &entries[0];
        assert_eq!(entry[0], binary_name().as_str(), "{platform}: entry name");
        assert_eq!(entry[1].as_u64(), Some(0o100755), "{platform}: a regular file, mode 0755");
        assert_eq!(entry[2], json["want"], "{platform}: the timestamp is the commit time");
        assert_eq!(entry[3].as_u64(), Some(3), "{platform}: made on Unix");
        assert_eq!(entry[4].as_u64(), Some(8), "{platform}: deflated");
    }
}

#[test]
fn binaries_are_static() {
    let r = release();
    let readelf = proc::which("readelf").expect("readelf (binutils)");
    for platform in PLATFORMS {
        let binary = r.binary(platform);
        let headers = proc::ok(Command::new(&readelf).arg("-lW").arg(binary), SHORT_LIMIT, "readelf -l").stdout;
        assert!(headers.contains("LOAD"), "{platform}: readelf -l shows program headers:\n{headers}");
        assert!(!headers.contains("INTERP"), "{platform}: an interpreter is requested:\n{headers}");
        let dynamic = proc::ok(Command::new(&readelf).arg("-dW").arg(binary), SHORT_LIMIT, "readelf -d").stdout;
        assert!(!dynamic.contains("(NEEDED)"), "{platform}: shared libraries are needed:\n{dynamic}");
        eprintln!(
            "{platform}: {} bytes, no INTERP, no NEEDED ({})",
            std::fs::metadata(binary).expect("binary").len(),
            dynamic.lines().next().unwrap_or("").trim()
        );
    }
}

#[test]
fn binaries_hold_no_build_paths() {
    let r = release();
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo"));
    let rustup_home = std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{home}/.rustup"));
    for platform in PLATFORMS {
        let bytes = std::fs::read(r.binary(platform)).expect("binary");
        for path in [root().display().to_string(), cargo_home.clone(), rustup_home.clone(), release_target_dir()] {
            assert!(!contains(&bytes, path.as_bytes()), "{platform}: the binary holds the build path {path}");
        }
    }
}

#[test]
fn version_flag_prints_the_release_version() {
    let r = release();
    let want = format!("{NAME} {VERSION}");
    let amd64 = proc::ok(Command::new(r.binary("linux_amd64")).arg("--version"), SHORT_LIMIT, "amd64 --version");
    assert_eq!(amd64.stdout.trim(), want);
    let qemu = proc::which("qemu-aarch64").expect("qemu-aarch64 (qemu-user)");
    let arm64 =
        proc::ok(Command::new(qemu).arg(r.binary("linux_arm64")).arg("--version"), SHORT_LIMIT, "arm64 --version");
    assert_eq!(arm64.stdout.trim(), want);
}

#[test]
fn amd64_serves_in_an_empty_root() {
    let r = release();
    if !is_root() {
        eprintln!("\n!!! SKIPPED amd64_serves_in_an_empty_root: chroot needs root, and this test is not root !!!\n");
        return;
    }
    let sim = Sim::start(Sim::config(&[(SIM_HOST, SIM_PORTS)]));
    // The root holds the binary and nothing else: no libc, no /tmp, no /etc, no /dev. The
    // provider makes its socket in `/`, which the test reaches as ROOT/pluginNNN.
    let dir = tempfile::Builder::new().prefix("hss-root").tempdir().expect("root dir");
    std::fs::copy(r.binary("linux_amd64"), dir.path().join(binary_name())).expect("copy the binary into the root");
    let chroot = proc::which("chroot").expect("chroot");
    let launch = Launch::chroot(&chroot, dir.path(), &format!("/{}", binary_name()));
    let provider = runtime().block_on(serve_a_read(&launch, &sim, &[("PLUGIN_UNIX_SOCKET_DIR", "/")]));
    let plugin = &provider.plugin;
    eprintln!("empty root: {}", plugin.handshake_line.chars().take(60).collect::<String>());
    assert_eq!(plugin.protocol, "6", "protocol version: {}", plugin.handshake_line);
    assert_eq!(plugin.network, "unix", "a unix socket: {}", plugin.handshake_line);
    let mut inside: Vec<String> = std::fs::read_dir(dir.path())
        .expect("root")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into())
        .collect();
    inside.sort();
    assert_eq!(inside.len(), 2, "the binary and its socket only: {inside:?}");
    assert!(inside.contains(&binary_name()) && inside.iter().any(|f| f.starts_with("plugin")), "{inside:?}");
}

#[test]
fn arm64_serves_under_qemu() {
    let r = release();
    let sim = Sim::start(Sim::config(&[(SIM_HOST, SIM_PORTS)]));
    let sockets = tempfile::Builder::new().prefix("hss-qemu").tempdir().expect("socket dir");
    let qemu = proc::which("qemu-aarch64").expect("qemu-aarch64 (qemu-user)");
    let launch = Launch::through(&qemu, r.binary("linux_arm64"));
    let socket_dir = sockets.path().display().to_string();
    let started = std::time::Instant::now();
    let provider = runtime().block_on(serve_a_read(&launch, &sim, &[("PLUGIN_UNIX_SOCKET_DIR", &socket_dir)]));
    let plugin = &provider.plugin;
    eprintln!(
        "qemu-aarch64: handshake, schema, configure and read after {} ms: {}",
        started.elapsed().as_millis(),
        plugin.handshake_line.chars().take(60).collect::<String>()
    );
    assert_eq!(plugin.protocol, "6");
}

#[test]
fn checksums_list_every_zip_and_the_manifest_and_the_signature_verifies() {
    let r = release();
    let prefix = format!("{NAME}_{VERSION}");
    let manifest = std::fs::read(r.dist.join(format!("{prefix}_manifest.json"))).expect("manifest");
    assert_eq!(manifest, br#"{"version":1,"metadata":{"protocol_versions":["6.0"]}}"#);
    let sums_path = r.dist.join(format!("{prefix}_SHA256SUMS"));
    let sums = std::fs::read_to_string(&sums_path).expect("SHA256SUMS");
    let mut listed: Vec<(String, String)> = Vec::new();
    for line in sums.lines() {
        let (hash, name) = line.split_once("  ").unwrap_or_else(|| panic!("bad SHA256SUMS line {line:?}"));
        assert_eq!(hash.len(), 64, "{line:?}");
        listed.push((name.to_owned(), hash.to_owned()));
    }
    let mut files: Vec<String> = std::fs::read_dir(&r.dist)
        .expect("dist")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with(&prefix) && (f.ends_with(".zip") || f.ends_with("_manifest.json")))
        .collect();
    files.sort();
    let names: Vec<&String> = listed.iter().map(|(n, _)| n).collect();
    assert_eq!(names, files.iter().collect::<Vec<_>>(), "SHA256SUMS lists exactly the zips and the manifest");
    assert_eq!(files.len(), PLATFORMS.len() + 1);
    for (name, hash) in &listed {
        let data = std::fs::read(r.dist.join(name)).expect("listed file");
        assert_eq!(&sha256_hex(&data), hash, "sha256 of {name}");
    }

    // Verify as a user does: a keyring holding only the published public key.
    let gnupg = tempfile::Builder::new().prefix("hss-gpg-verify").tempdir().expect("GNUPGHOME");
    let gpg = |args: &[&str]| {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", gnupg.path()).arg("--batch").args(args);
        proc::run(&mut cmd, SHORT_LIMIT, &format!("gpg {}", args.join(" "))).unwrap_or_else(|e| panic!("{e}"))
    };
    let imported = gpg(&["--import", r.public_key.to_str().expect("path")]);
    assert!(imported.success(), "gpg --import: {}", imported.stderr);
    let sig = r.dist.join(format!("{prefix}_SHA256SUMS.sig"));
    let bytes = std::fs::read(&sig).expect("SHA256SUMS.sig");
    assert!(!bytes.starts_with(b"-----BEGIN"), "the signature is binary, not armored");
    let verified =
        gpg(&["--status-fd", "1", "--verify", sig.to_str().expect("path"), sums_path.to_str().expect("path")]);
    let _ = Command::new("gpgconf").env("GNUPGHOME", gnupg.path()).args(["--kill", "all"]).status();
    assert!(verified.success(), "gpg --verify failed:\n{}\n{}", verified.stdout, verified.stderr);
    assert!(
        verified.stdout.lines().any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.contains(&r.fingerprint)),
        "a valid signature by {}:\n{}",
        r.fingerprint,
        verified.stdout
    );
    // And a changed SUMS does not verify.
    let tampered = r.work.join("tampered_SHA256SUMS");
    std::fs::write(&tampered, sums.replace(&listed[0].1, &"0".repeat(64))).expect("write");
    let bad = gpg(&["--verify", sig.to_str().expect("path"), tampered.to_str().expect("path")]);
    assert!(!bad.success(), "a tampered SHA256SUMS must not verify");
}

#[test]
fn network_mirror_json_is_what_terraform_expects() {
    let r = release();
    let dir = r.network_mirror_dir();
    assert_eq!(read_json(&dir.join("index.json")), serde_json::json!({ "versions": { VERSION: {} } }));
    let json = read_json(&dir.join(format!("{VERSION}.json")));
    let archives = json["archives"].as_object().expect("archives");
    assert_eq!(archives.len(), PLATFORMS.len(), "{json}");
    for platform in PLATFORMS {
        let archive = &archives[platform];
        assert_eq!(archive["url"], zip_name(platform).as_str(), "a URL relative to the JSON");
        assert!(dir.join(zip_name(platform)).is_file(), "the zip sits next to the JSON");
        let binary = std::fs::read(r.binary(platform)).expect("binary");
        assert_eq!(r.published_h1(platform), h1_of_single_file(&binary_name(), &binary), "{platform}: h1");
        let zip = std::fs::read(r.dist.join(zip_name(platform))).expect("zip");
        let zh = format!("zh:{}", sha256_hex(&zip));
        assert!(archive["hashes"].as_array().expect("hashes").iter().any(|h| h == zh.as_str()), "{platform}: zh");
        let packed = r.dist.join("mirror").join(HOST).join(NAMESPACE).join("hss").join(zip_name(platform));
        assert_eq!(std::fs::read(&packed).expect("packed mirror zip"), zip, "the packed mirror holds the same zip");
    }
}

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    hss = {
      source  = "hss-community/hss"
      version = "0.9.0"
    }
  }
}

provider "hss" {}

data "hss_host_ports" "h" {
  host_id = "host-1"
}

output "total_num" { value = data.hss_host_ports.h.total_num }
output "count" { value = length(data.hss_host_ports.h.ports) }
"#;

/// init, then check the lock file and the installed binary, then a plan that reads the simulator.
fn init_and_plan(r: &Release, ws: &Workspace, mirror: &str) {
    let init = ws.ok(&["init", "-no-color"]);
    eprintln!("--- terraform init from the {mirror} on Terraform {}:\n{}", ws.terraform.version, init.trim_end());
    let lock = std::fs::read_to_string(ws.dir.path().join(".terraform.lock.hcl")).expect("lock file");
    let h1: Vec<&str> = lock.split('"').filter(|s| s.starts_with("h1:")).collect();
    assert_eq!(h1, vec![r.published_h1("linux_amd64").as_str()], "the lock file's h1 ({mirror}):\n{lock}");
    assert!(lock.contains(&format!("\"{HOST}/{NAMESPACE}/hss\"")) && lock.contains(VERSION), "{lock}");
    let installed = ws
        .dir
        .path()
        .join(".terraform/providers")
        .join(HOST)
        .join(NAMESPACE)
        .join("hss")
        .join(VERSION)
        .join("linux_amd64")
        .join(binary_name());
    assert_eq!(
        std::fs::read(&installed).expect("installed provider"),
        std::fs::read(r.binary("linux_amd64")).expect("binary"),
        "Terraform installed the release binary"
    );
    ws.ok(&["plan", "-no-color", "-out=plan.out"]);
    let plan: Json = serde_json::from_str(&ws.ok(&["show", "-json", "plan.out"])).expect("plan JSON");
    let outputs = &plan["planned_values"]["outputs"];
    assert_eq!(outputs["total_num"]["value"].as_u64(), Some(SIM_PORTS as u64), "{outputs}");
    assert_eq!(outputs["count"]["value"].as_u64(), Some(SIM_PORTS as u64), "{outputs}");
}

#[test]
fn terraform_init_installs_from_the_filesystem_mirror() {
    let r = release();
    let sim = Sim::start(Sim::config(&[(SIM_HOST, SIM_PORTS)]));
    for tf in support::terraform::versions() {
        let cli = format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{HOST}/{NAMESPACE}/hss\"]\n  }}\n}}\n",
            r.dist.join("mirror").display()
        );
        let mut ws = Workspace::with_cli_config(tf, &cli, MAIN_TF);
        for (k, v) in sim_env(&sim) {
            ws = ws.env(k, &v);
        }
        init_and_plan(r, &ws, "filesystem mirror");
    }
}

#[test]
fn terraform_init_installs_from_the_network_mirror() {
    let r = release();
    let sim = Sim::start(Sim::config(&[(SIM_HOST, SIM_PORTS)]));
    let server = StaticHttps::start(&r.dist.join("network-mirror"));
    for tf in support::terraform::versions() {
        let cli = format!(
            "provider_installation {{\n  network_mirror {{\n    url     = \"https://{}/\"\n    include = [\"{HOST}/{NAMESPACE}/hss\"]\n  }}\n}}\n",
            server.addr
        );
        let mut ws = Workspace::with_cli_config(tf, &cli, MAIN_TF);
        let ca = ws.dir.path().join("test-ca.pem");
        std::fs::write(&ca, &server.ca_pem).expect("write CA");
        // Go reads SSL_CERT_FILE instead of the system's roots: only the test CA is trusted.
        ws = ws.env("SSL_CERT_FILE", ca.to_str().expect("path"));
        for (k, v) in sim_env(&sim) {
            ws = ws.env(k, &v);
        }
        let before = server.requests().len();
        init_and_plan(r, &ws, "network mirror");
        let served = server.requests()[before..].to_vec();
        let base = format!("/{HOST}/{NAMESPACE}/hss");
        for path in ["index.json".to_owned(), format!("{VERSION}.json"), zip_name("linux_amd64")] {
            let want = format!("GET {base}/{path} HTTP/1.1 -> 200 OK");
            assert!(served.contains(&want), "Terraform {} fetched {path}: {served:?}", tf.version);
        }
    }
}

#[test]
fn a_second_run_gives_byte_identical_zips() {
    let r = release();
    // Another namespace and host too: the zips do not depend on them, the mirror paths do.
    let dist2 = r.work.join("dist-2");
    let mut cmd = release_sh(
        &[
            VERSION,
            "--dist",
            dist2.to_str().expect("path"),
            "--namespace",
            "other-ns",
            "--host",
            "registry.opentofu.org",
        ],
        // The first run's time: a commit landing in between (in a shared working tree) must
        // not count as a difference. That the default is the commit time is checked above.
        &[("SOURCE_DATE_EPOCH", &r.epoch.to_string())],
    );
    let run = proc::run(&mut cmd, BUILD_LIMIT, "scripts/release.sh (second run)").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(r.work.join("release-2.log"), &run.stderr).expect("log");
    assert!(run.success(), "second release.sh failed:\n{}", proc::tail(&run.stderr, 60));
    eprintln!("second release.sh run: {} s", run.elapsed.as_secs());
    for platform in PLATFORMS {
        let first = std::fs::read(r.dist.join(zip_name(platform))).expect("first zip");
        let second = std::fs::read(dist2.join(zip_name(platform))).expect("second zip");
        assert!(
            first == second,
            "{platform}: the zips differ ({} vs {} bytes); did the sources change between the runs? (logs in {})",
            first.len(),
            second.len(),
            r.work.display()
        );
        let mirrored = dist2.join("mirror/registry.opentofu.org/other-ns/hss").join(zip_name(platform));
        assert!(mirrored.is_file(), "{} exists", mirrored.display());
    }
    let sums = |d: &Path| std::fs::read(d.join(format!("{NAME}_{VERSION}_SHA256SUMS"))).expect("SHA256SUMS");
    assert_eq!(sums(&r.dist), sums(&dist2), "the same SHA256SUMS");
    assert!(!dist2.join(format!("{NAME}_{VERSION}_SHA256SUMS.sig")).exists(), "no key, no signature");
    let index = read_json(&dist2.join("network-mirror/registry.opentofu.org/other-ns/hss/index.json"));
    assert_eq!(index, serde_json::json!({ "versions": { VERSION: {} } }));
}
