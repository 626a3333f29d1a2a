//! `make install` (scripts/install.sh) and the README's instructions around it: the script
//! installs the binary from wherever cargo builds it (`CARGO_TARGET_DIR` included), and the
//! README's `dev_overrides` and simulator commands work as written. The script runs with a
//! stand-in `cargo` first in `PATH`, so that the test takes milliseconds, not a release build.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `cargo` that answers `metadata` with `CARGO_TARGET_DIR` (or `target` beside the manifest)
/// as the target directory, and whose `build` writes a marker "binary" there.
fn fake_cargo(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = r#"#!/bin/sh
target=${CARGO_TARGET_DIR:-$PWD/target}
case "$1" in
  build) mkdir -p "$target/release" && echo "fake provider built in $target" > "$target/release/terraform-provider-hss" ;;
  metadata) printf '{"packages":[],"target_directory":"%s","version":1}\n' "$target" ;;
  *) echo "fake cargo: unexpected $*" >&2; exit 2 ;;
esac
"#;
    let path = bin.join("cargo");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// Runs scripts/install.sh from `cwd` with `target_dir` as `CARGO_TARGET_DIR`; returns the
/// installed file's content.
fn install(tmp: &Path, cwd: &Path, target_dir: &str) -> String {
    let bin = fake_cargo(tmp);
    let plugins = tmp.join("plugins");
    let out = Command::new(repo().join("scripts/install.sh"))
        .current_dir(cwd)
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("CARGO_TARGET_DIR", target_dir)
        .env("PLUGIN_DIR", &plugins)
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "install.sh failed:\n{said}");
    let installed = said
        .lines()
        .find_map(|l| l.strip_prefix("installed "))
        .unwrap_or_else(|| panic!("no 'installed' line:\n{said}"));
    assert!(Path::new(installed).starts_with(&plugins), "{installed}");
    std::fs::read_to_string(installed).unwrap()
}

#[test]
fn install_takes_the_binary_from_cargo_target_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("elsewhere");
    let installed = install(tmp.path(), &repo(), target.to_str().unwrap());
    assert_eq!(installed.trim(), format!("fake provider built in {}", target.display()));
}

#[test]
fn a_relative_cargo_target_dir_is_relative_to_where_install_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let installed = install(tmp.path(), tmp.path(), "relative-target");
    assert_eq!(installed.trim(), format!("fake provider built in {}", tmp.path().join("relative-target").display()));
}

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// The fenced blocks of `text` in `lang`, each as its lines.
fn blocks<'a>(text: &'a str, lang: &str) -> Vec<Vec<&'a str>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(tag)) if tag.trim() == lang => current = Some(Vec::new()),
            (Some(_), Some("")) => out.extend(current.take()),
            (Some(block), _) => block.push(line),
            _ => {}
        }
    }
    out
}

#[test]
fn readme_dev_overrides_point_at_what_install_builds() {
    let readme = readme();
    let overrides: Vec<&str> =
        blocks(&readme, "hcl").into_iter().flatten().filter(|l| l.contains("\"local/hss\" =")).collect();
    assert_eq!(overrides.len(), 1, "{overrides:?}");
    let path = overrides[0].split('"').nth(3).expect("a quoted path");
    // `make install` builds the release binary.
    assert!(path.ends_with("/target/release"), "dev_overrides points at {path}, which `make install` does not build");
    let script = std::fs::read_to_string(repo().join("scripts/install.sh")).unwrap();
    assert!(script.contains("cargo build --release"), "install.sh builds the release binary");
}

#[test]
fn readme_simulator_commands_run_in_the_background() {
    let readme = readme();
    let mut seen = 0;
    for block in blocks(&readme, "sh") {
        // Join continuation lines into commands.
        let mut commands: Vec<String> = Vec::new();
        let mut pending = String::new();
        for line in block {
            let line = line.split(" # ").next().unwrap_or(line).trim_end();
            match line.strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => {
                    pending.push_str(line);
                    commands.push(std::mem::take(&mut pending));
                }
            }
        }
        for (i, command) in commands.iter().enumerate() {
            if !command.contains("hss-sim --") && !command.contains("-p hss-sim") {
                continue;
            }
            seen += 1;
            assert!(!command.contains("--bin hss-sim"), "hss-sim is not the workspace's default package: {command}");
            let rest = &commands[i + 1..];
            if rest.iter().any(|c| !c.trim().is_empty()) {
                // Lines follow in the same shell: the simulator must not hold the foreground.
                assert!(command.trim_end().ends_with('&'), "runs in the foreground, blocking what follows: {command}");
            }
        }
    }
    assert!(seen >= 1, "the README shows how to run the simulator");
}
