//! The client's one error type: what went wrong (HTTP status, Huawei error code and message,
//! request id, a hint for the user) with query methods, so callers never parse error text.
//! Error text never contains secrets: requests are described by method, path and offset only.

use std::fmt;

/// Hint for HTTP 401 / `APIGW.0301`.
pub const HINT_CREDENTIALS: &str =
    "check the credentials (token or AK/SK) and that this machine's clock is correct (AK/SK signatures expire)";
/// Hint for HTTP 403.
pub const HINT_PERMISSIONS: &str = "check the IAM permissions for HSS and the enterprise_project_id";
/// Hint for HTTP 404.
pub const HINT_NOT_FOUND: &str = "check the project_id and the region or endpoint";
/// Hint for a server certificate that cannot be verified.
pub const HINT_CERTIFICATE: &str = "the endpoint's TLS certificate cannot be verified (for example, it was issued by a \
     CA this machine does not trust); set cacert_file (HW_CACERT_FILE) to a PEM file with the CA that issued it, or, \
     against a test endpoint only, insecure = true (HW_INSECURE); retrying cannot help";
/// Hint for a TLS handshake that cannot succeed for other reasons than the certificate.
pub const HINT_TLS: &str = "the endpoint does not speak a TLS version or cipher suite the provider supports; \
     check the endpoint (an http:// service reached with https://, or a proxy in between); retrying cannot help";
/// Hint for an answer larger than the client reads.
pub const HINT_TOO_LARGE: &str = "a page of 200 ports is a few hundred KiB at most; check that endpoint points at \
     the HSS API and not at another service, a proxy or a captive portal";
/// Hint for a JSON answer of the wrong shape.
pub const HINT_SHAPE: &str = "the endpoint answered JSON that is not HSS's port list; check that endpoint points \
     at the HSS API; retrying cannot help";
/// Hint for a list longer than the API can page through.
pub const HINT_TOO_MANY_RECORDS: &str = "HSS reports more ports than its API can page through; narrow the query \
     (port, type, status or category) so that fewer ports match";

/// An error from the HSS client.
#[derive(Debug)]
pub struct Error {
    kind: Box<ErrorKind>,
    hint: Option<String>,
}

/// What kind of error happened. Use the query methods on [`Error`] where possible.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client configuration or query is invalid; nothing was sent.
    Config(String),
    /// The API answered with a non-2xx status.
    Api {
        /// HTTP status code.
        status: u16,
        /// `error_code` from the body, if any.
        error_code: Option<String>,
        /// `error_msg` from the body, if any.
        error_msg: Option<String>,
        /// First ~200 bytes of a body that was not the JSON error format.
        body: Option<String>,
        /// The `X-Request-Id` response header.
        request_id: Option<String>,
        /// How many times the request was retried before giving up.
        retries: u32,
    },
    /// A 2xx answer whose body is not JSON, or is cut short (retried).
    Malformed {
        /// HTTP status code.
        status: u16,
        /// Why decoding failed.
        reason: String,
        /// First ~200 bytes of the body (lossy UTF-8).
        body: String,
        /// The `X-Request-Id` response header.
        request_id: Option<String>,
        /// How many times the request was retried before giving up.
        retries: u32,
    },
    /// A 2xx answer that is JSON, but not of the expected shape (not retried).
    UnexpectedShape {
        /// HTTP status code.
        status: u16,
        /// The field at fault, e.g. `total_num` or `data_list[3].port`.
        field: String,
        /// What is wrong with it.
        reason: String,
        /// The `X-Request-Id` response header.
        request_id: Option<String>,
    },
    /// An answer larger than the client reads (not retried).
    ResponseTooLarge {
        /// HTTP status code.
        status: u16,
        /// The limit, in bytes.
        limit: u64,
        /// The `Content-Length` the server declared, when it was over the limit.
        declared: Option<u64>,
        /// The `X-Request-Id` response header.
        request_id: Option<String>,
    },
    /// The TLS handshake failed in a way no retry can fix: the server's certificate cannot be
    /// verified, or no TLS version or cipher suite is shared (not retried).
    Tls {
        /// Description of the failure (with its causes).
        message: String,
        /// Whether the certificate is at fault (then `cacert_file` or `insecure` can help).
        certificate: bool,
    },
    /// The request could not be sent or its answer not received (connection refused, reset,
    /// a body cut short...).
    Transport {
        /// Description of the failure (with its causes).
        message: String,
        /// How many times the request was retried before giving up.
        retries: u32,
    },
    /// One HTTP request took longer than `request_timeout`.
    Timeout {
        /// The per-request timeout that elapsed.
        timeout: std::time::Duration,
        /// How many times the request was retried before giving up.
        retries: u32,
    },
    /// The operation was cancelled by the caller.
    Cancelled,
    /// The pages read do not add up to a complete, consistent list, even after re-reading.
    Incomplete {
        /// Which list: `port list`, `host list`, ...
        list: &'static str,
        /// What was inconsistent.
        detail: String,
        /// How many times the whole list was read.
        attempts: u32,
    },
    /// `total_num` is larger than the API's maximum offset lets a client page through.
    TooManyRecords {
        /// The `total_num` HSS reported.
        total_num: u64,
        /// The offset the last page would need.
        last_offset: u64,
        /// The API's maximum offset.
        max_offset: u64,
    },
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        let hint = hint_for(&kind);
        Error { kind: Box::new(kind), hint }
    }

    pub(crate) fn config(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config(msg.into()))
    }

    pub(crate) fn cancelled() -> Self {
        Error::new(ErrorKind::Cancelled)
    }

    pub(crate) fn incomplete(list: &'static str, detail: impl Into<String>, attempts: u32) -> Self {
        Error::new(ErrorKind::Incomplete { list, detail: detail.into(), attempts })
    }

    /// Builds the error for a non-2xx answer from its status, body and `X-Request-Id`.
    pub(crate) fn from_response(status: u16, body: &[u8], request_id: Option<String>) -> Self {
        #[derive(serde::Deserialize)]
        struct ApiErrorBody {
            error_code: Option<serde_json::Value>,
            error_msg: Option<serde_json::Value>,
        }
        let as_text = |v: serde_json::Value| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        let (error_code, error_msg, body) = match serde_json::from_slice::<ApiErrorBody>(body) {
            Ok(b) if b.error_code.is_some() || b.error_msg.is_some() => {
                (b.error_code.map(as_text), b.error_msg.map(as_text), None)
            }
            _ if body.iter().all(u8::is_ascii_whitespace) => (None, None, None),
            _ => (None, None, Some(snippet(body))),
        };
        Error::new(ErrorKind::Api { status, error_code, error_msg, body, request_id, retries: 0 })
    }

    /// Records how many retries were made before this error was final.
    pub(crate) fn with_retries(mut self, n: u32) -> Self {
        match &mut *self.kind {
            ErrorKind::Api { retries, .. }
            | ErrorKind::Malformed { retries, .. }
            | ErrorKind::Transport { retries, .. }
            | ErrorKind::Timeout { retries, .. } => *retries = n,
            _ => {}
        }
        self.hint = hint_for(&self.kind);
        self
    }

    /// Lets the client rewrite text fields (e.g. to redact secrets); the hint is recomputed.
    pub(crate) fn map_text(mut self, f: impl FnOnce(&mut ErrorKind)) -> Self {
        f(&mut self.kind);
        self.hint = hint_for(&self.kind);
        self
    }

    /// Applies `f` to every text of the error, whoever chose it (the server, a proxy, the
    /// network stack): what scrubbing secrets needs, so that no kind can be forgotten.
    pub(crate) fn map_all_text(self, f: impl Fn(&mut String)) -> Self {
        self.map_text(|kind| match kind {
            ErrorKind::Config(message) => f(message),
            ErrorKind::Api { error_code, error_msg, body, request_id, .. } => {
                for text in [error_code, error_msg, body, request_id].into_iter().flatten() {
                    f(text);
                }
            }
            ErrorKind::Malformed { reason, body, request_id, .. } => {
                f(reason);
                f(body);
                request_id.iter_mut().for_each(&f);
            }
            ErrorKind::UnexpectedShape { field, reason, request_id, .. } => {
                f(field);
                f(reason);
                request_id.iter_mut().for_each(&f);
            }
            ErrorKind::ResponseTooLarge { request_id, .. } => request_id.iter_mut().for_each(&f),
            ErrorKind::Tls { message, .. } | ErrorKind::Transport { message, .. } => f(message),
            ErrorKind::Incomplete { detail, .. } => f(detail),
            ErrorKind::Timeout { .. } | ErrorKind::Cancelled | ErrorKind::TooManyRecords { .. } => {}
        })
    }

    /// Whether another attempt may succeed: 429, 500/502/503/504, a 2xx body that is not JSON
    /// or is cut short, transport failures and timeouts. Never an answer that would be the
    /// same again: other statuses, JSON of the wrong shape, an oversized answer, a TLS
    /// certificate or version that cannot be agreed on.
    pub(crate) fn is_retryable(&self) -> bool {
        match &*self.kind {
            ErrorKind::Api { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            ErrorKind::Malformed { .. } | ErrorKind::Transport { .. } | ErrorKind::Timeout { .. } => true,
            _ => false,
        }
    }

    /// The kind of error, for matching.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Whether the API answered with an HTTP error status.
    pub fn is_status(&self) -> bool {
        matches!(*self.kind, ErrorKind::Api { .. })
    }

    /// The HTTP status of the answer this error came from, if there was one.
    pub fn status(&self) -> Option<u16> {
        match &*self.kind {
            ErrorKind::Api { status, .. }
            | ErrorKind::Malformed { status, .. }
            | ErrorKind::UnexpectedShape { status, .. }
            | ErrorKind::ResponseTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `X-Request-Id` of the failing answer (quote it to Huawei support).
    pub fn request_id(&self) -> Option<&str> {
        match &*self.kind {
            ErrorKind::Api { request_id, .. }
            | ErrorKind::Malformed { request_id, .. }
            | ErrorKind::UnexpectedShape { request_id, .. }
            | ErrorKind::ResponseTooLarge { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The Huawei `error_code`, e.g. `APIGW.0301`.
    pub fn error_code(&self) -> Option<&str> {
        match &*self.kind {
            ErrorKind::Api { error_code, .. } => error_code.as_deref(),
            _ => None,
        }
    }

    /// The Huawei `error_msg`.
    pub fn error_msg(&self) -> Option<&str> {
        match &*self.kind {
            ErrorKind::Api { error_msg, .. } => error_msg.as_deref(),
            _ => None,
        }
    }

    /// How many times the failing request was retried (0 when not applicable).
    pub fn retries(&self) -> u32 {
        match &*self.kind {
            ErrorKind::Api { retries, .. }
            | ErrorKind::Malformed { retries, .. }
            | ErrorKind::Transport { retries, .. }
            | ErrorKind::Timeout { retries, .. } => *retries,
            _ => 0,
        }
    }

    /// What the user should check, when there is something useful to say.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// Whether a single HTTP request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(*self.kind, ErrorKind::Timeout { .. })
    }

    /// Whether the caller cancelled the operation.
    pub fn is_cancelled(&self) -> bool {
        matches!(*self.kind, ErrorKind::Cancelled)
    }

    /// Whether the pages did not add up to a complete list.
    pub fn is_incomplete(&self) -> bool {
        matches!(*self.kind, ErrorKind::Incomplete { .. })
    }

    /// Whether the error is about the configuration or query (nothing was sent).
    pub fn is_config(&self) -> bool {
        matches!(*self.kind, ErrorKind::Config(_))
    }

    /// Whether the request failed on the way (connection refused/reset, TLS, DNS...).
    pub fn is_transport(&self) -> bool {
        matches!(*self.kind, ErrorKind::Transport { .. } | ErrorKind::Tls { .. })
    }

    /// Whether the TLS handshake failed in a way no retry can fix (certificate, version).
    pub fn is_tls(&self) -> bool {
        matches!(*self.kind, ErrorKind::Tls { .. })
    }

    /// Whether an answer was larger than the client reads.
    pub fn is_response_too_large(&self) -> bool {
        matches!(*self.kind, ErrorKind::ResponseTooLarge { .. })
    }

    /// Whether a 2xx answer was JSON of the wrong shape; [`Error::field`] names the field.
    pub fn is_unexpected_shape(&self) -> bool {
        matches!(*self.kind, ErrorKind::UnexpectedShape { .. })
    }

    /// The field at fault in an answer of the wrong shape.
    pub fn field(&self) -> Option<&str> {
        match &*self.kind {
            ErrorKind::UnexpectedShape { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Whether `total_num` is more than the API's offsets can page through.
    pub fn is_too_many_records(&self) -> bool {
        matches!(*self.kind, ErrorKind::TooManyRecords { .. })
    }
}

fn hint_for(kind: &ErrorKind) -> Option<String> {
    let text = match kind {
        ErrorKind::Api { status, error_code, retries, .. } => {
            let code = error_code.as_deref().unwrap_or("");
            if *status == 401 || code == "APIGW.0301" {
                HINT_CREDENTIALS
            } else if *status == 429 || code == "APIGW.0308" {
                let unit = if *retries == 1 { "retry" } else { "retries" };
                return Some(format!(
                    "throttled after {retries} {unit}; lower max_concurrent_requests or set requests_per_second"
                ));
            } else if *status == 403 {
                HINT_PERMISSIONS
            } else if *status == 404 {
                HINT_NOT_FOUND
            } else {
                return None;
            }
        }
        ErrorKind::Timeout { .. } => {
            "the HSS endpoint did not answer in time; check the network and proxy settings, or raise the request timeout"
        }
        ErrorKind::Transport { .. } => {
            "check the endpoint or region, the network and proxy settings, and the TLS settings (cacert, insecure)"
        }
        ErrorKind::Incomplete { .. } => "the list kept changing while it was read; try again later",
        ErrorKind::Tls { certificate: true, .. } => HINT_CERTIFICATE,
        ErrorKind::Tls { certificate: false, .. } => HINT_TLS,
        ErrorKind::ResponseTooLarge { .. } => HINT_TOO_LARGE,
        ErrorKind::UnexpectedShape { .. } => HINT_SHAPE,
        ErrorKind::TooManyRecords { .. } => HINT_TOO_MANY_RECORDS,
        _ => return None,
    };
    Some(text.to_owned())
}

/// `after 1 retry` / `after N retries`.
fn after_retries(retries: u32) -> String {
    if retries == 1 { "after 1 retry".to_owned() } else { format!("after {retries} retries") }
}

/// `, after N retries` when there were retries.
fn retries_suffix(f: &mut fmt::Formatter<'_>, retries: u32) -> fmt::Result {
    if retries == 0 { Ok(()) } else { write!(f, ", {}", after_retries(retries)) }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.kind {
            ErrorKind::Config(msg) => write!(f, "invalid HSS client configuration: {msg}")?,
            ErrorKind::Api { status, error_code, error_msg, body, request_id, retries } => {
                write!(f, "HSS API returned HTTP {status}")?;
                if let Some(reason) = http_reason(*status) {
                    write!(f, " {reason}")?;
                }
                match (error_code, error_msg) {
                    (Some(c), Some(m)) => write!(f, ": {c}: {m}")?,
                    (Some(c), None) => write!(f, ": {c}")?,
                    (None, Some(m)) => write!(f, ": {m}")?,
                    (None, None) => {}
                }
                if let Some(b) = body {
                    write!(f, "; the body is not the JSON error format: {b:?}")?;
                }
                f.write_str(" (")?;
                match request_id {
                    Some(id) => write!(f, "request id {id}")?,
                    None => f.write_str("no request id")?,
                }
                retries_suffix(f, *retries)?;
                f.write_str(")")?;
            }
            ErrorKind::Malformed { status, reason, body, request_id, retries } => {
                write!(
                    f,
                    "HSS API returned HTTP {status} with a body that is not the expected JSON ({reason}): {body:?} ("
                )?;
                match request_id {
                    Some(id) => write!(f, "request id {id}")?,
                    None => f.write_str("no request id")?,
                }
                retries_suffix(f, *retries)?;
                f.write_str(")")?;
            }
            ErrorKind::UnexpectedShape { status, field, reason, request_id } => {
                write!(f, "HSS API returned HTTP {status} with JSON of an unexpected shape: {field}: {reason} (")?;
                match request_id {
                    Some(id) => write!(f, "request id {id}")?,
                    None => f.write_str("no request id")?,
                }
                f.write_str(")")?;
            }
            ErrorKind::ResponseTooLarge { status, limit, declared, request_id } => {
                write!(f, "HSS API returned HTTP {status} with a body larger than the {} limit", bytes(*limit))?;
                if let Some(d) = declared {
                    write!(f, " (Content-Length {d})")?;
                }
                f.write_str(" (")?;
                match request_id {
                    Some(id) => write!(f, "request id {id}")?,
                    None => f.write_str("no request id")?,
                }
                f.write_str(")")?;
            }
            ErrorKind::Tls { message, .. } => write!(f, "HSS API TLS handshake failed: {message}")?,
            ErrorKind::TooManyRecords { total_num, last_offset, max_offset } => write!(
                f,
                "HSS port list cannot be read whole: total_num {total_num} would need offsets up to {last_offset}, \
                 beyond the API's maximum offset of {max_offset}"
            )?,
            ErrorKind::Transport { message, retries } => {
                write!(f, "HSS API request failed: {message}")?;
                if *retries > 0 {
                    write!(f, " ({})", after_retries(*retries))?;
                }
            }
            ErrorKind::Timeout { timeout, retries } => {
                write!(f, "HSS API request timed out after {:.1}s", timeout.as_secs_f64())?;
                if *retries > 0 {
                    write!(f, " ({})", after_retries(*retries))?;
                }
            }
            ErrorKind::Cancelled => f.write_str("HSS API request cancelled")?,
            ErrorKind::Incomplete { list, detail, attempts } => write!(
                f,
                "HSS {list} incomplete after reading it {attempts} {}: {detail}",
                if *attempts == 1 { "time" } else { "times" }
            )?,
        }
        if let Some(h) = &self.hint {
            write!(f, "; hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

fn http_reason(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

/// `16 MiB`, `512 KiB` or `100 bytes`.
fn bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// Problems found in one answer, for an error message: the first `limit`, then a count of the
/// rest (`a; b; and 3 more`).
pub(crate) fn problems_text(mut problems: Vec<String>, limit: usize) -> String {
    let more = problems.len().saturating_sub(limit);
    problems.truncate(limit);
    let mut text = problems.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

/// The first ~200 bytes of a body, lossy UTF-8, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    const MAX: usize = 200;
    let cut = &body[..body.len().min(MAX)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if body.len() > MAX {
        s.push('…');
    }
    s
}

/// The error for a request that got no (whole) answer: a TLS failure no retry can fix, a
/// request that could not be built, or a transport failure (retried).
pub(crate) fn request_error(e: &reqwest::Error) -> Error {
    let message = chain(e);
    if let Some(certificate) = tls_failure(e) {
        return Error::new(ErrorKind::Tls { message, certificate });
    }
    if e.is_builder() {
        return Error::config(message);
    }
    Error::new(ErrorKind::Transport { message, retries: 0 })
}

/// `Some(true)` when a TLS handshake failed on the server's certificate, `Some(false)` when it
/// failed for want of a common version or cipher suite, `None` otherwise (including TLS errors
/// that a new connection may not meet, such as a connection reset mid-handshake).
fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<bool> {
    let mut current = Some(e);
    while let Some(err) = current {
        // `io::Error` hides the error it wraps from `source()`, and the TLS stack wraps one
        // `io::Error` in another: look inside each.
        let mut inner = Some(err);
        while let Some(candidate) = inner {
            if let Some(tls) = candidate.downcast_ref::<rustls::Error>() {
                return match tls {
                    rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::UnsupportedNameType
                    | rustls::Error::InvalidCertRevocationList(_) => Some(true),
                    rustls::Error::PeerIncompatible(_) => Some(false),
                    _ => None,
                };
            }
            inner = candidate.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map(|wrapped| {
                let wrapped: &(dyn std::error::Error + 'static) = wrapped;
                wrapped
            });
        }
        current = err.source();
    }
    None
}

/// An error and its causes, `: `-separated, without the URL.
pub(crate) fn chain(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts: Vec<String> = Vec::new();
    let top = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "error reading the response".to_owned()
    } else {
        "error sending the request".to_owned()
    };
    parts.push(top);
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p == &text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_text_names_the_first_few_and_counts_the_rest() {
        let p = |n: usize| (1..=n).map(|i| format!("p{i}")).collect::<Vec<_>>();
        assert_eq!(problems_text(p(2), 3), "p1; p2");
        assert_eq!(problems_text(p(3), 3), "p1; p2; p3");
        assert_eq!(problems_text(p(5), 3), "p1; p2; p3; and 2 more");
    }

    #[test]
    fn parses_huawei_error_body() {
        let e = Error::from_response(
            401,
            br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#,
            Some("req-123".into()),
        );
        assert!(e.is_status());
        assert_eq!(e.status(), Some(401));
        assert_eq!(e.error_code(), Some("APIGW.0301"));
        assert_eq!(e.error_msg(), Some("Incorrect IAM authentication information"));
        assert_eq!(e.request_id(), Some("req-123"));
        assert_eq!(e.hint(), Some(HINT_CREDENTIALS));
        assert!(!e.is_retryable());
        let text = e.to_string();
        for part in ["401", "APIGW.0301", "Incorrect IAM authentication information", "req-123", HINT_CREDENTIALS] {
            assert!(text.contains(part), "{text:?} lacks {part:?}");
        }
    }

    #[test]
    fn apigw_0301_gets_credentials_hint_even_on_other_status() {
        let e = Error::from_response(400, br#"{"error_code":"APIGW.0301"}"#, None);
        assert_eq!(e.hint(), Some(HINT_CREDENTIALS));
        assert!(e.to_string().contains("no request id"));
    }

    #[test]
    fn forbidden_hint() {
        let e = Error::from_response(403, br#"{"error_code":"HSS.0004","error_msg":"no"}"#, None);
        assert_eq!(e.hint(), Some(HINT_PERMISSIONS));
        assert!(e.to_string().contains(HINT_PERMISSIONS));
    }

    #[test]
    fn throttled_hint_counts_retries() {
        let e =
            Error::from_response(429, br#"{"error_code":"APIGW.0308","error_msg":"slow down"}"#, None).with_retries(5);
        assert!(e.is_retryable());
        assert_eq!(
            e.hint(),
            Some("throttled after 5 retries; lower max_concurrent_requests or set requests_per_second")
        );
        let text = e.to_string();
        assert!(
            text.contains("throttled after 5 retries; lower max_concurrent_requests or set requests_per_second"),
            "{text}"
        );
        assert_eq!(text.matches("hint:").count(), 1, "{text}");
        let e = Error::from_response(400, br#"{"error_code":"APIGW.0308"}"#, None).with_retries(1);
        assert!(e.to_string().contains("throttled after 1 retry;"));
    }

    #[test]
    fn non_json_body_is_quoted() {
        let mut body = b"<html>Bad gateway \xff".to_vec();
        body.extend(std::iter::repeat_n(b'x', 500));
        let e = Error::from_response(502, &body, Some("r".into()));
        assert!(e.is_retryable());
        let text = e.to_string();
        assert!(text.contains("<html>Bad gateway \u{fffd}"), "{text}");
        assert!(text.contains("not the JSON error format"));
        assert!(text.len() < 400, "{}", text.len());
        // JSON without the error fields is quoted too.
        let e = Error::from_response(500, br#"{"message":"x"}"#, None);
        assert!(e.to_string().contains(r#"{\"message\":\"x\"}"#), "{e}");
        // Empty body: just the status.
        let e = Error::from_response(503, b"", None);
        assert_eq!(e.to_string(), "HSS API returned HTTP 503 Service Unavailable (no request id)");
    }

    #[test]
    fn numeric_error_code_is_kept_as_text() {
        let e = Error::from_response(400, br#"{"error_code":12,"error_msg":"bad"}"#, None);
        assert_eq!(e.error_code(), Some("12"));
    }

    #[test]
    fn other_kinds() {
        assert!(Error::cancelled().is_cancelled());
        let e = Error::incomplete("port list", "page at offset 400 returned 150 records, expected 200", 3);
        assert!(e.is_incomplete());
        assert!(e.to_string().contains("HSS port list incomplete after reading it 3 times: page at offset 400"), "{e}");
        let e = Error::new(ErrorKind::Timeout { timeout: std::time::Duration::from_secs(30), retries: 0 });
        assert!(e.is_timeout() && e.is_retryable());
        assert_eq!(e.to_string(), format!("HSS API request timed out after 30.0s; hint: {}", e.hint().unwrap()));
        let e = e.with_retries(1);
        assert!(e.to_string().starts_with("HSS API request timed out after 30.0s (after 1 retry); hint:"), "{e}");
        let e = Error::new(ErrorKind::Transport { message: "cannot connect".into(), retries: 0 }).with_retries(3);
        assert!(e.is_transport() && e.is_retryable());
        assert!(e.to_string().starts_with("HSS API request failed: cannot connect (after 3 retries); hint:"), "{e}");
        assert!(!Error::config("x").is_retryable());
    }

    #[test]
    fn answers_that_would_be_the_same_again_are_not_retried() {
        let shape = Error::new(ErrorKind::UnexpectedShape {
            status: 200,
            field: "data_list[3].port".into(),
            reason: "expected an integer or null, got a string".into(),
            request_id: Some("r".into()),
        });
        assert!(!shape.is_retryable() && shape.is_unexpected_shape());
        assert_eq!(shape.field(), Some("data_list[3].port"));
        assert_eq!(
            shape.to_string(),
            format!(
                "HSS API returned HTTP 200 with JSON of an unexpected shape: data_list[3].port: expected an integer \
                 or null, got a string (request id r); hint: {HINT_SHAPE}"
            )
        );
        let large = Error::new(ErrorKind::ResponseTooLarge {
            status: 200,
            limit: 4 << 20,
            declared: Some(1 << 30),
            request_id: None,
        });
        assert!(!large.is_retryable() && large.is_response_too_large());
        assert!(large.to_string().starts_with(
            "HSS API returned HTTP 200 with a body larger than the 4 MiB limit (Content-Length 1073741824) (no request id)"
        ));
        let tls =
            Error::new(ErrorKind::Tls { message: "invalid peer certificate: UnknownIssuer".into(), certificate: true });
        assert!(!tls.is_retryable() && tls.is_tls() && tls.is_transport());
        let text = tls.to_string();
        assert!(text.contains("cacert_file") && text.contains("insecure"), "{text}");
        let too_many = Error::new(ErrorKind::TooManyRecords {
            total_num: 3_000_000,
            last_offset: 2_999_799,
            max_offset: 2_000_000,
        });
        assert!(!too_many.is_retryable() && too_many.is_too_many_records() && !too_many.is_incomplete());
        let text = too_many.to_string();
        assert!(text.contains("beyond the API's maximum offset of 2000000"), "{text}");
        assert!(!text.contains("kept changing"), "the list did not change: {text}");
    }

    #[test]
    fn every_text_can_be_scrubbed() {
        let scrub = |s: &mut String| *s = s.replace("SECRET", "***");
        let kinds = vec![
            ErrorKind::Config("SECRET".into()),
            ErrorKind::Api {
                status: 400,
                error_code: Some("SECRET".into()),
                error_msg: Some("SECRET".into()),
                body: Some("SECRET".into()),
                request_id: Some("SECRET".into()),
                retries: 0,
            },
            ErrorKind::Malformed {
                status: 200,
                reason: "SECRET".into(),
                body: "SECRET".into(),
                request_id: Some("SECRET".into()),
                retries: 0,
            },
            ErrorKind::UnexpectedShape {
                status: 200,
                field: "SECRET".into(),
                reason: "SECRET".into(),
                request_id: Some("SECRET".into()),
            },
            ErrorKind::ResponseTooLarge { status: 200, limit: 1, declared: None, request_id: Some("SECRET".into()) },
            ErrorKind::Tls { message: "SECRET".into(), certificate: false },
            ErrorKind::Transport { message: "SECRET".into(), retries: 0 },
            ErrorKind::Incomplete { list: "port list", detail: "SECRET".into(), attempts: 1 },
        ];
        for kind in kinds {
            let e = Error::new(kind).map_all_text(scrub);
            assert!(!format!("{e} {e:?}").contains("SECRET"), "{e:?}");
        }
    }

    #[test]
    fn tls_failures_are_classified_through_io_errors() {
        use rustls::{CertificateError, Error as Tls};
        // As the TLS stack reports it: an `io::Error` around an `io::Error` around the TLS error.
        let wrap = |e: Tls| std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
        assert_eq!(tls_failure(&wrap(Tls::InvalidCertificate(CertificateError::UnknownIssuer))), Some(true));
        assert_eq!(tls_failure(&Tls::NoCertificatesPresented), Some(true));
        assert_eq!(
            tls_failure(&wrap(Tls::PeerIncompatible(rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13))),
            Some(false)
        );
        assert_eq!(tls_failure(&wrap(Tls::General("reset".into()))), None);
        assert_eq!(tls_failure(&std::io::Error::other("connection reset")), None);
    }
}
