//! The transport: the HTTP client and everything one request needs (endpoint, credentials,
//! provider-wide limits), and one attempt at a request: wait for the limits, build and sign a
//! fresh request, send it with its own timeout, read and decode the body.
//!
//! Classifying the outcome (what may be retried, the server's `Retry-After`) is done here;
//! deciding whether to retry is `retry`'s job, and paging sits on top of that. Dependencies run
//! one way: `client` → `paging` → `retry` → `transport`.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::config::{ClientConfig, Credentials};
use super::error::{Error, ErrorKind, snippet};
use super::limits::Limits;
use super::request::{self, Auth, Endpoint};

/// What every request of one client shares. One per client, behind an `Arc`.
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) config: ClientConfig,
    pub(crate) endpoint: Endpoint,
    pub(crate) auth: Auth,
    pub(crate) limits: Limits,
}

/// A failed attempt: the error, plus the server's `Retry-After` when it gave one.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: Error,
    pub retry_after: Option<Duration>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure { error, retry_after: None }
    }
}

/// Parses `Retry-After`: delay-seconds (integer, or decimal as some gateways send) or an
/// HTTP-date (a date in the past means "now"). Not capped here.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(v.parse().unwrap_or(u64::MAX)));
    }
    if let Ok(f) = v.parse::<f64>() {
        return (f.is_finite() && f >= 0.0).then(|| Duration::from_secs_f64(f.min(1e9)));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// One GET of the port list with `pairs` as query, decoded as `T`. `offset` and `attempt`
/// (1-based) are only for logs. Cancel by dropping the future: the concurrency slot and the
/// connection are released at once.
pub(crate) async fn get_json<T: DeserializeOwned>(
    inner: &Transport,
    pairs: &[(String, String)],
    offset: u64,
    attempt: u32,
) -> Result<T, Failure> {
    get_json_at(inner, &inner.endpoint, pairs, offset, attempt).await
}

/// [`get_json`] for another API of the project: `endpoint` is [`Endpoint::with_path`].
pub(crate) async fn get_json_at<T: DeserializeOwned>(
    inner: &Transport,
    endpoint: &Endpoint,
    pairs: &[(String, String)],
    offset: u64,
    attempt: u32,
) -> Result<T, Failure> {
    let cfg = &inner.config;
    let permit = inner.limits.acquire().await;
    // Signed after waiting for the limits, so the signing time is fresh.
    let built = request::build(endpoint, &inner.auth, &cfg.project_id, pairs, SystemTime::now())?;
    let path = built.url.path().to_owned();
    let req = inner
        .http
        .get(built.url)
        .headers(built.headers)
        .build()
        .map_err(|e| Error::config(format!("cannot build the request: {}", chain(&e))))?;
    let started = Instant::now();
    let exchange = async {
        let resp = inner.http.execute(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?;
        Ok::<_, reqwest::Error>((status, headers, body))
    };
    let result = tokio::time::timeout(cfg.request_timeout, exchange).await;
    drop(permit);
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (status, headers, body) = match result {
        Err(_elapsed) => {
            tracing::debug!(method = "GET", %path, offset, attempt, latency_ms, "HSS request timed out");
            return Err(Error::new(ErrorKind::Timeout { timeout: cfg.request_timeout, retries: 0 }).into());
        }
        Ok(Err(e)) => {
            let message = chain(&e);
            tracing::debug!(method = "GET", %path, offset, attempt, latency_ms, error = %message, "HSS request failed");
            if e.is_builder() {
                return Err(Error::config(message).into());
            }
            return Err(Error::new(ErrorKind::Transport { message, retries: 0 }).into());
        }
        Ok(Ok(r)) => r,
    };
    let request_id = request_id(&headers);
    tracing::debug!(
        method = "GET",
        %path,
        offset,
        status,
        latency_ms,
        attempt,
        request_id = request_id.as_deref().unwrap_or(""),
        "HSS request"
    );
    tracing::trace!(offset, body_bytes = body.len(), "HSS response body");
    if !(200..300).contains(&status) {
        let retry_after = if status == 429 {
            inner.limits.on_throttled();
            retry_after(&headers)
        } else {
            None
        };
        let error = inner.redact(Error::from_response(status, &body, request_id));
        return Err(Failure { error, retry_after });
    }
    serde_json::from_slice(&body).map_err(|e| {
        inner
            .redact(Error::new(ErrorKind::Malformed {
                status,
                reason: e.to_string(),
                body: snippet(&body),
                request_id,
                retries: 0,
            }))
            .into()
    })
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, SystemTime::now()))
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// An error and its causes, `: `-separated, without the URL.
fn chain(e: &reqwest::Error) -> String {
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

impl Transport {
    /// Scrubs the client's secrets from every text the server sent back.
    /// Removes any configured secret from text the server sent back (defence in depth: a proxy
    /// could echo request headers into an error page).
    pub(crate) fn redact(&self, error: Error) -> Error {
        let secrets: Vec<&str> = match &self.config.credentials {
            Credentials::Token(t) => vec![t.expose()],
            Credentials::AkSk { secret_key, security_token, .. } => {
                let mut v = vec![secret_key.expose()];
                if let Some(t) = security_token {
                    v.push(t.expose());
                }
                v
            }
        };
        // Very short values would redact ordinary words; real secrets are long.
        let secrets: Vec<&str> = secrets.into_iter().filter(|s| s.len() >= 8).collect();
        if secrets.is_empty() {
            return error;
        }
        let scrub = |s: &mut String| {
            for secret in &secrets {
                if s.contains(secret) {
                    *s = s.replace(secret, "***");
                }
            }
        };
        error.map_text(|kind| match kind {
            // Every text the server chose: a server may echo request headers in any of them.
            ErrorKind::Api { error_code, error_msg, body, request_id, .. } => {
                for text in [error_code, error_msg, body, request_id].into_iter().flatten() {
                    scrub(text);
                }
            }
            ErrorKind::Malformed { body, reason, .. } => {
                scrub(body);
                scrub(reason);
            }
            _ => {}
        })
    }
}
