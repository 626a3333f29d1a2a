//! Processes as /proc shows them (children running a given executable, liveness, peak memory),
//! and a Terraform command started in the background, for tests that interrupt it.

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::terraform::Workspace;

/// `(state, parent pid)` from `/proc/PID/stat`; the command name may hold spaces and parentheses,
/// so the fields are read after its closing parenthesis.
fn stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Whether `pid` is a live process (not gone, not a zombie waiting to be reaped).
pub fn is_running(pid: u32) -> bool {
    matches!(stat(pid), Some((state, _)) if state != 'Z' && state != 'X')
}

/// `(pid, parent pid)` of every live process.
fn processes() -> Vec<(u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| match stat(pid) {
            Some((state, parent)) if state != 'Z' && state != 'X' => Some((pid, parent)),
            _ => None,
        })
        .collect()
}

/// The live descendants of `root` (children, their children, ...) whose executable is `exe`.
/// Terraform 1.0 runs its work in a child copy of itself, which starts the providers.
pub fn descendants_running(root: u32, exe: &Path) -> Vec<u32> {
    let exe = exe.canonicalize().unwrap_or_else(|_| exe.to_owned());
    let all = processes();
    let mut family = vec![root];
    let mut i = 0;
    while let Some(&parent) = family.get(i) {
        family.extend(all.iter().filter(|(_, pp)| *pp == parent).map(|(pid, _)| *pid));
        i += 1;
    }
    family
        .into_iter()
        .skip(1)
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe))
        .collect()
}

/// Peak resident memory of `pid` in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The provider binary cargo built for these tests.
pub fn provider_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-hss"))
}

/// Starts `terraform ARGS` in `ws` with the same controlled environment as `Workspace::run`,
/// plus `env`, in a process group of its own (as a shell job is, so that [`interrupt_group`]
/// acts like Ctrl-C); stdout and stderr go to `stdout.txt` and `stderr.txt` in the workspace.
pub fn spawn_terraform(ws: &Workspace, env: &[(&str, &str)], args: &[&str]) -> Child {
    let dir = ws.dir.path();
    let mut cmd = Command::new(&ws.terraform.path);
    cmd.args(args).current_dir(dir).env_clear();
    for key in ["PATH", "HOME", "TMPDIR", "USER"] {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    cmd.env("TF_CLI_CONFIG_FILE", dir.join("terraformrc"))
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("CHECKPOINT_DISABLE", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = File::create(dir.join("stdout.txt")).expect("stdout file");
    let err = File::create(dir.join("stderr.txt")).expect("stderr file");
    cmd.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0).spawn().expect("start terraform")
}

/// Sends SIGINT to every process of the group `pgid`, as a terminal does on Ctrl-C.
pub fn interrupt_group(pgid: u32) {
    let status = Command::new("kill").args(["-INT", "--", &format!("-{pgid}")]).status().expect("kill");
    assert!(status.success(), "kill -INT -- -{pgid}");
}
