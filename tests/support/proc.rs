//! Processes with a time limit: a hang fails the test with the command's name, never silently.

use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a finished command printed.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stdout and stderr together.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` (stdin closed, output captured) for at most `limit`; on time-out it kills the
/// process and returns an error naming `what`.
pub fn run(cmd: &mut Command, limit: Duration, what: &str) -> Result<Finished, String> {
    run_with_input(cmd, None, limit, what)
}

/// Like [`run`], with `input` written to stdin (then closed) when given.
pub fn run_with_input(cmd: &mut Command, input: Option<&str>, limit: Duration, what: &str) -> Result<Finished, String> {
    let start = Instant::now();
    let stdin = if input.is_some() { Stdio::piped() } else { Stdio::null() };
    cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("{what}: cannot start: {e}"))?;
    if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
        // A writer thread, so that a child that does not read cannot block the test; dropping
        // the pipe after writing closes stdin.
        let input = input.to_owned();
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = wait(&mut child, limit).ok_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        format!("{what}: still running after {} s, killed", limit.as_secs())
    })?;
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(Finished { status, stdout, stderr, elapsed: start.elapsed() })
}

/// Like [`run`], but panics unless the command succeeds.
pub fn ok(cmd: &mut Command, limit: Duration, what: &str) -> Finished {
    let done = run(cmd, limit, what).unwrap_or_else(|e| panic!("{e}"));
    assert!(done.success(), "{what} failed ({}):\n{}\n{}", done.status, done.stdout, done.stderr);
    done
}

/// Waits for `child` up to `limit`.
pub fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let mut status = None;
    super::wait::within(limit, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    status
}

/// Everything `pipe` gives until its end, lossy UTF-8.
fn read_all<R: Read>(pipe: Option<R>) -> String {
    let mut buf = Vec::new();
    if let Some(mut p) = pipe {
        let _ = p.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Reads `pipe` to its end on a thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || read_all(pipe))
}

/// Reads `pipe` to its end, for at most `limit` (a grandchild may hold it open): what came.
pub fn read_to_end_within<R: Read + Send + 'static>(pipe: Option<R>, limit: Duration) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_all(pipe));
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| format!("(nothing within {} s)", limit.as_secs()))
}

/// The first `name` in a directory of PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':').map(|dir| Path::new(dir).join(name)).find(|p| p.is_file())
}

/// The first `name` on PATH, then in the system directories (a test's PATH may lack sbin).
pub fn which(name: &str) -> Option<PathBuf> {
    on_path(name).or_else(|| {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].iter().map(|dir| Path::new(dir).join(name)).find(|p| p.is_file())
    })
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
