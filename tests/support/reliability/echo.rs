//! A loopback HTTP server that answers every request with an error echoing the request's headers
//! back, as a misconfigured proxy or gateway may: credentials sent in headers come back in the
//! response, and the provider must still never show them.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Where the echoed headers go in the answer.
#[derive(Clone, Copy, Debug)]
pub enum Echo {
    /// `400` with the Huawei error JSON, headers in `error_msg`.
    ErrorMsg,
    /// `400` with the Huawei error JSON, headers in `error_code`.
    ErrorCode,
    /// `502` with an HTML page quoting the headers (a gateway's error page).
    Html,
    /// `200` with a JSON body that quotes the headers and is cut short.
    Malformed,
}

pub struct EchoServer {
    pub url: String,
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The request's header lines, those carrying credentials first, so that they fall within the
/// part of a body that error messages quote.
fn echoed(head: &str) -> String {
    let mut lines: Vec<&str> = head.lines().skip(1).filter(|l| !l.is_empty()).collect();
    lines.sort_by_key(|l| {
        let l = l.to_ascii_lowercase();
        !(l.starts_with("x-auth-token") || l.starts_with("x-security-token") || l.starts_with("authorization"))
    });
    lines.join("; ")
}

fn answer(mode: Echo, head: &str) -> Vec<u8> {
    let headers = echoed(head);
    let (status, body) = match mode {
        Echo::ErrorMsg => {
            ("400 Bad Request", serde_json::json!({"error_code": "PROXY.0400", "error_msg": headers}).to_string())
        }
        Echo::ErrorCode => {
            ("400 Bad Request", serde_json::json!({"error_code": headers, "error_msg": "bad request"}).to_string())
        }
        Echo::Html => ("502 Bad Gateway", format!("<html><body><pre>{headers}</pre></body></html>")),
        Echo::Malformed => {
            let full = serde_json::json!({"echo": headers, "total_num": 1}).to_string();
            ("200 OK", full[..full.len() - 3].to_owned())
        }
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn serve(mut stream: TcpStream, mode: Echo, heads: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(buf) = crate::support::loopback::read_request_head_blocking(&mut stream) else { return };
    let head = String::from_utf8_lossy(&buf).into_owned();
    let _ = stream.write_all(&answer(mode, &head));
    heads.lock().expect("heads").push(head);
}

impl EchoServer {
    /// Listens on an ephemeral loopback port, answering every request as `mode` says.
    pub fn start(mode: Echo) -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (heads.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, mode, &h);
                }
            }
        });
        EchoServer { url: format!("http://{addr}"), addr, heads, stop, thread: Some(thread) }
    }

    /// The request heads received so far.
    pub fn requests(&self) -> Vec<String> {
        self.heads.lock().expect("heads").clone()
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
