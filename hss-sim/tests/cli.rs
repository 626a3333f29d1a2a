//! The `hss-sim` command line: it serves on the address it prints, checks credentials, exits
//! cleanly on SIGTERM, and refuses bad flags without echoing secrets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_hss-sim");
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
/// Bound on every wait: generous for a loaded 2-core machine, short enough to fail by name.
const WAIT: Duration = Duration::from_secs(30);

/// One HTTP/1.0 GET (the connection closes after the answer): status line and body.
fn get(addr: &str, target: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let auth = token.map(|t| format!("X-Auth-Token: {t}\r\n")).unwrap_or_default();
    write!(stream, "GET {target} HTTP/1.0\r\nHost: {addr}\r\n{auth}\r\n").expect("writes");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn serves_and_exits_cleanly() {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--generate", "h=5", "--token", "SECRET-tok", "--seed", "4", "--verbose"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hss-sim starts");
    // The first stdout line is the URL. Readers run on threads so that every wait is bounded.
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let (url_tx, url_rx) = mpsc::channel();
    let (rest_tx, rest_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = stdout.lines();
        let _ = url_tx.send(lines.next().and_then(Result::ok).unwrap_or_default());
        let _ = rest_tx.send(lines.map_while(Result::ok).collect::<Vec<_>>());
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let (err_tx, err_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = err_tx.send(text);
    });
    let url = url_rx.recv_timeout(WAIT).expect("hss-sim prints its URL");
    let addr = url.strip_prefix("http://").expect("an http URL").trim_end_matches('/');
    let target = format!("/v5/{PROJECT}/asset/ports?host_id=h");
    let (status, body) = get(addr, &target, Some("SECRET-tok"));
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(page["total_num"], 5);
    assert_eq!(page["data_list"].as_array().map(Vec::len), Some(5));
    assert_eq!(get(addr, &target, None).0, 401);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let stderr = err_rx.recv_timeout(WAIT).expect("hss-sim closes stderr at exit");
    let rest = rest_rx.recv_timeout(WAIT).expect("hss-sim closes stdout at exit");
    let exit = child.wait().expect("hss-sim exits");
    assert!(exit.success(), "{exit:?}");
    assert!(rest.is_empty(), "the URL is printed once, and nothing else: {rest:?}");
    assert_eq!(stderr.lines().filter(|l| l.contains("/asset/ports")).count(), 2, "{stderr}");
    assert!(!url.contains("SECRET") && !stderr.contains("SECRET"), "{stderr}");
}

#[test]
fn help_and_bad_flags() {
    let help = Command::new(BIN).arg("--help").output().expect("runs");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in ["--listen", "--url-file", "--generate", "--fixture", "--rate-drop", "--drift", "--verbose"] {
        assert!(text.contains(flag), "{flag} missing from --help");
    }
    for args in [&["--bogus"][..], &["--rate-429", "2"], &["--secret-key", "SK-hidden"], &["--listen"]] {
        let out = Command::new(BIN).args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("hss-sim: "), "{stderr}");
        assert!(!stderr.contains("SK-hidden"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}
