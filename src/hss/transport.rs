//! The transport: the HTTP client and everything one request needs (endpoint, credentials,
//! provider-wide limits), and one attempt at a request: wait for the limits, build and sign a
//! fresh request, send it with its own timeout, read the body (bounded), decode it.
//!
//! Classifying the outcome (what may be retried, the server's `Retry-After`) is done here;
//! deciding whether to retry is `retry`'s job, and paging sits on top of that. Dependencies run
//! one way: `client` → `paging` → `retry` → `transport`.
//!
//! # What is retried
//!
//! | outcome | kind | retried |
//! |---|---|---|
//! | connection refused or reset, body cut short mid-transfer | `Transport` | yes |
//! | no answer within `request_timeout` | `Timeout` | yes |
//! | 2xx body that is not JSON, or JSON cut short | `Malformed` | yes |
//! | 2xx JSON of the wrong shape (names the field) | `UnexpectedShape` | no |
//! | body over [`MAX_RESPONSE_BYTES`] (declared or read) | `ResponseTooLarge` | no |
//! | certificate not verifiable, no common TLS version | `Tls` | no |
//! | 429, 500, 502, 503, 504 | `Api` | yes |
//! | any other status | `Api` | no |
//!
//! # The HTTP client
//!
//! [`http_client`] builds the one `reqwest` client: TLS roots (`cacert_file`, `insecure`) and
//! proxies. Proxies come from `HTTPS_PROXY`/`https_proxy`, `HTTP_PROXY`/`http_proxy` and
//! `ALL_PROXY`/`all_proxy`, except for the hosts in `NO_PROXY`/`no_proxy` and, always, for
//! loopback (`127.0.0.0/8`, `::1`, `localhost` and its subdomains) and link-local addresses
//! (`169.254.0.0/16`, `fe80::/10`, where the ECS metadata service lives): those are reached
//! directly, as Terraform's own HTTP client does for loopback, so that a token sent to a local
//! endpoint never passes through a proxy. The variables are read through a function, so that
//! tests need not change the process environment.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::time::Instant;

use super::config::ClientConfig;
use super::error::{Error, ErrorKind, chain, request_error, snippet};
use super::limits::Limits;
use super::model::{MAX_RESPONSE_BYTES, Page, PageError, Record};
use super::request::{self, Auth, Endpoint};
use crate::logging;

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

/// Hosts always reached without a proxy (see the module docs), in `NO_PROXY` syntax.
pub(crate) const ALWAYS_DIRECT: &str = "127.0.0.0/8, ::1/128, localhost, 169.254.0.0/16, fe80::/10";

/// The HTTP client for `config`: User-Agent, connection pool, TLS roots and proxies, with the
/// proxy variables read through `env` (the process environment in production). `base_url`
/// is only for the log.
pub(crate) fn http_client(
    config: &ClientConfig,
    base_url: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<reqwest::Client, Error> {
    let builder = |empty_roots: bool| -> Result<reqwest::ClientBuilder, Error> {
        let mut builder = reqwest::Client::builder()
            .user_agent(super::client::user_agent(config.terraform_version.as_deref()))
            .pool_max_idle_per_host(config.max_concurrent_requests);
        if empty_roots {
            builder = builder.tls_certs_only(Vec::new());
        }
        if let Some(pem) = &config.cacert_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::config(format!("cacert is not a valid PEM certificate bundle: {e}")))?;
            if certs.is_empty() {
                return Err(Error::config("cacert contains no PEM certificates"));
            }
            builder = builder.tls_certs_merge(certs);
        }
        if config.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        // Never reqwest's own reading of the environment: it would send loopback through a proxy.
        builder = builder.no_proxy();
        for proxy in proxies(env) {
            builder = builder.proxy(proxy);
        }
        Ok(builder)
    };
    if config.insecure {
        tracing::warn!(
            endpoint = %base_url,
            "TLS certificate verification is disabled (insecure = true); do not use this in production"
        );
    }
    let failed = |e: reqwest::Error| Error::config(format!("cannot create the HTTP client: {e}"));
    match builder(false)?.build() {
        Ok(client) => Ok(client),
        // A static binary in a bare container (scratch, distroless, an empty chroot) has no
        // system root store, and the platform verifier refuses to start without one. The
        // provider must still start there: plain HTTP endpoints (the simulator, a local gateway)
        // work, and an HTTPS endpoint fails with an unknown-issuer error that `cacert` fixes.
        Err(e) if config.cacert_pem.is_none() && !config.insecure => {
            tracing::warn!(
                endpoint = %base_url,
                error = %e,
                "no system root certificates were found; HTTPS endpoints will not verify unless `cacert` is set"
            );
            builder(true)?.build().map_err(failed)
        }
        Err(e) => Err(failed(e)),
    }
}

/// The proxies the environment asks for, each with the `NO_PROXY` hosts and [`ALWAYS_DIRECT`]
/// exempted. Follows the usual reading of the variables (as curl and reqwest do): the upper-case
/// name wins when set, even empty; `ALL_PROXY` stands in for a scheme without its own; under CGI
/// (`REQUEST_METHOD` set) none is used. A variable that is not a usable proxy URL is ignored
/// with a warning naming it (never its value, which may hold a password).
fn proxies(env: &dyn Fn(&str) -> Option<String>) -> Vec<reqwest::Proxy> {
    if env("REQUEST_METHOD").is_some() {
        return Vec::new();
    }
    let first = |names: [&'static str; 2]| {
        names.into_iter().find_map(|n| env(n).map(|v| (n, v))).filter(|(_, v)| !v.trim().is_empty())
    };
    let all = first(["ALL_PROXY", "all_proxy"]);
    let no_proxy = match first(["NO_PROXY", "no_proxy"]) {
        Some((_, list)) => format!("{list}, {ALWAYS_DIRECT}"),
        None => ALWAYS_DIRECT.to_owned(),
    };
    let mut out = Vec::new();
    for (scheme, names) in [("http", ["HTTP_PROXY", "http_proxy"]), ("https", ["HTTPS_PROXY", "https_proxy"])] {
        let Some((name, url)) = first(names).or_else(|| all.clone()) else { continue };
        let proxy = if scheme == "http" { reqwest::Proxy::http(url.trim()) } else { reqwest::Proxy::https(url.trim()) };
        match proxy {
            Ok(p) => {
                tracing::debug!(scheme, variable = name, always_direct = ALWAYS_DIRECT, "HSS requests use a proxy");
                out.push(p.no_proxy(reqwest::NoProxy::from_string(&no_proxy)));
            }
            Err(_) => tracing::warn!(variable = name, "ignoring a proxy variable that is not a proxy URL"),
        }
    }
    out
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

/// Why a body was not read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over the limit: declared so by `Content-Length` (nothing read), or found so while reading.
    TooLarge { declared: Option<u64> },
    /// The transfer failed part-way (connection reset, body cut short): worth another attempt.
    Read(reqwest::Error),
}

/// Reads a response body of at most `limit` bytes. A `Content-Length` over the limit is refused
/// before reading anything; otherwise the chunks are read as they come and the read stops as
/// soon as they pass the limit, so that at most `limit` bytes are ever held.
pub(crate) async fn read_body(resp: &mut reqwest::Response, limit: u64) -> Result<Vec<u8>, BodyError> {
    let declared = resp.content_length();
    if let Some(n) = declared
        && n > limit
    {
        return Err(BodyError::TooLarge { declared: Some(n) });
    }
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut body = Vec::with_capacity(declared.map_or(0, |n| usize::try_from(n).unwrap_or(0)).min(cap));
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if body.len().saturating_add(chunk.len()) > cap {
            return Err(BodyError::TooLarge { declared: None });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One GET of a page of the list at `endpoint` with `pairs` as query. `offset` and `attempt`
/// (1-based) are only for logs. Cancel by dropping the future: the concurrency slot and the
/// connection are released at once.
pub(crate) async fn get_page<T: Record>(
    inner: &Transport,
    endpoint: &Endpoint,
    pairs: &[(String, String)],
    offset: u64,
    attempt: u32,
) -> Result<Page<T>, Failure> {
    let cfg = &inner.config;
    let permit = inner.limits.acquire().await;
    // Signed after waiting for the limits, so the signing time is fresh.
    let built = request::build(endpoint, &inner.auth, &cfg.project_id, pairs, SystemTime::now())?;
    inner.protect_secrets();
    let path = built.url.path().to_owned();
    let req = inner
        .http
        .get(built.url)
        .headers(built.headers)
        .build()
        .map_err(|e| Error::config(format!("cannot build the request: {}", chain(&e))))?;
    let started = Instant::now();
    let exchange = async {
        let mut resp = inner.http.execute(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = read_body(&mut resp, MAX_RESPONSE_BYTES).await;
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
            let error = inner.redact(request_error(&e));
            tracing::debug!(method = "GET", %path, offset, attempt, latency_ms, error = %error, "HSS request failed");
            return Err(error.into());
        }
        Ok(Ok(r)) => r,
    };
    let request_id = request_id(&headers).map(|id| inner.scrub(&id).into_owned());
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
    let body = match body {
        Ok(body) => body,
        Err(BodyError::TooLarge { declared }) => {
            let error =
                Error::new(ErrorKind::ResponseTooLarge { status, limit: MAX_RESPONSE_BYTES, declared, request_id });
            return Err(inner.redact(error).into());
        }
        Err(BodyError::Read(e)) => {
            let error = inner.redact(request_error(&e));
            tracing::debug!(offset, attempt, error = %error, "HSS response cut short");
            return Err(error.into());
        }
    };
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
    Page::<T>::from_json(&body).map_err(|e| {
        let kind = match e {
            PageError::NotJson(reason) => {
                ErrorKind::Malformed { status, reason, body: snippet(&body), request_id, retries: 0 }
            }
            PageError::Shape { field, reason } => ErrorKind::UnexpectedShape { status, field, reason, request_id },
        };
        inner.redact(Error::new(kind)).into()
    })
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, SystemTime::now()))
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

impl Transport {
    /// The client's secrets as they are now (temporary credentials rotate), longest first.
    fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = self.auth.secrets().iter().map(|s| s.expose().to_owned()).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets
    }

    /// Registers the client's secrets with the logger, which scrubs them from every line it
    /// writes (also those of dependencies); see `crate::logging`.
    fn protect_secrets(&self) {
        for secret in self.auth.secrets() {
            logging::protect(secret.expose());
        }
    }

    /// `text` without the client's secrets.
    pub(crate) fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        logging::scrub(text, &self.secrets())
    }

    /// Removes the client's secrets from every text of `error`: the server's (a proxy or
    /// gateway may echo request headers into an error page, a body or `X-Request-Id`) and the
    /// network stack's. Secrets too short to be removed safely are left (see `crate::logging`).
    pub(crate) fn redact(&self, error: Error) -> Error {
        let secrets = self.secrets();
        if !secrets.iter().any(|s| logging::redactable(s)) {
            return error;
        }
        error.map_all_text(|text| {
            if let Cow::Owned(clean) = logging::scrub(text, &secrets) {
                *text = clean;
            }
        })
    }
}

impl super::Client {
    /// A warning for the user when a configured secret (token, secret key, security token) is
    /// too short to be scrubbed from logs and error messages (fewer than 4 characters; see
    /// `crate::logging`), `None` otherwise. Meant for a warning diagnostic when the provider is
    /// configured; the logger also warns once, at the first request.
    pub fn short_secret_warning(&self) -> Option<String> {
        let short = self.secrets().iter().filter(|s| !s.is_empty() && !logging::redactable(s.expose())).count();
        (short > 0).then(|| {
            format!(
                "{short} of the configured credentials (token, secret_key or security_token) {} shorter than {} \
                 characters: too short to be hidden from logs and error messages, where hiding it would blank out \
                 ordinary text. Real tokens and keys are far longer; check the value.",
                if short == 1 { "is" } else { "are" },
                logging::MIN_REDACTED_CHARS
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A loopback server answering every request with `200 ok`; returns its port and the
    /// request heads it received.
    async fn server(bind: &str) -> (u16, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind(bind).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    seen.lock().unwrap().push(String::from_utf8_lossy(&buf).into_owned());
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").await;
                });
            }
        });
        (port, heads)
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |k| map.get(k).cloned()
    }

    #[tokio::test]
    async fn loopback_never_goes_through_a_proxy() {
        let (target, target_heads) = server("127.0.0.1:0").await;
        let (target6, target6_heads) = server("[::1]:0").await;
        let (proxy, proxy_heads) = server("127.0.0.1:0").await;
        let proxy_url = format!("http://127.0.0.1:{proxy}");
        let config = ClientConfig::default();
        for vars in [
            vec![("HTTP_PROXY", proxy_url.as_str())],
            vec![("http_proxy", proxy_url.as_str())],
            vec![("ALL_PROXY", proxy_url.as_str()), ("HTTPS_PROXY", proxy_url.as_str())],
            vec![("all_proxy", proxy_url.as_str()), ("NO_PROXY", "example.com")],
        ] {
            let http = http_client(&config, "test", &env(&vars)).unwrap();
            for url in [
                format!("http://127.0.0.1:{target}/"),
                format!("http://localhost:{target}/"),
                format!("http://[::1]:{target6}/"),
            ] {
                let resp = http.get(&url).header("x-auth-token", "token-for-loopback-only").send().await.unwrap();
                assert_eq!(resp.status(), 200, "{vars:?} {url}");
            }
            // Elsewhere, the proxy is used (the proxy answers itself; nothing leaves loopback).
            let resp = http.get("http://hss.example.invalid/v5").send().await.unwrap();
            assert_eq!(resp.status(), 200, "{vars:?}");
        }
        let proxied = proxy_heads.lock().unwrap().clone();
        assert_eq!(proxied.len(), 4, "only the non-loopback requests: {proxied:?}");
        assert!(proxied.iter().all(|h| h.starts_with("GET http://hss.example.invalid/v5 ")), "{proxied:?}");
        assert!(!proxied.iter().any(|h| h.contains("token-for-loopback-only")), "{proxied:?}");
        assert_eq!(target_heads.lock().unwrap().len(), 8);
        assert_eq!(target6_heads.lock().unwrap().len(), 4);
    }

    #[test]
    fn proxy_variables_are_read_as_usual() {
        let url = "http://127.0.0.1:3128";
        let count = |vars: &[(&str, &str)]| proxies(&env(vars)).len();
        assert_eq!(count(&[]), 0);
        assert_eq!(count(&[("HTTP_PROXY", url)]), 1);
        assert_eq!(count(&[("https_proxy", url)]), 1);
        assert_eq!(count(&[("ALL_PROXY", url)]), 2, "ALL_PROXY stands in for both schemes");
        assert_eq!(count(&[("HTTP_PROXY", url), ("REQUEST_METHOD", "GET")]), 0, "CGI: no proxy");
        // Set but empty: the lower-case one is not looked at, as curl and reqwest do.
        assert_eq!(count(&[("HTTP_PROXY", ""), ("http_proxy", url)]), 0);
        assert_eq!(count(&[("HTTP_PROXY", "http://[not a url")]), 0, "ignored, with a warning");
        // The user's NO_PROXY is kept, and loopback and link-local are added to it. (Requests are
        // not made here: a direct request to a name outside loopback would leave the machine.)
        let shown = format!("{:?}", proxies(&env(&[("HTTP_PROXY", url), ("no_proxy", ".corp.example")])));
        assert!(shown.contains(".corp.example") && shown.contains(ALWAYS_DIRECT), "{shown}");
        let shown = format!("{:?}", proxies(&env(&[("HTTPS_PROXY", url)])));
        assert!(shown.contains(ALWAYS_DIRECT), "{shown}");
    }
}
