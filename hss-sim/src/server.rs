//! The hyper HTTP/1.1 service: connection handling, routing, authentication, validation,
//! fault injection, paging and the `/_sim/*` control paths.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::auth::{self, AUTH_ERROR_CODE, AuthConfig, RequestParts};
use super::config::{Drift, Faults};
use super::data::Store;
use super::faults::{Decision, Outcome, PageFault, SALT_SHORT_LEN, decide, mix};
use super::stats::Recorder;
use super::validate::{INVALID_PARAM_CODE, parse_pairs, percent_decode, validate};

/// State shared by all connections and the [`super::SimHandle`].
pub(crate) struct Shared {
    pub project_id: String,
    pub seed: u64,
    pub auth: AuthConfig,
    pub faults: Mutex<Faults>,
    pub store: Mutex<Store>,
    pub rec: Mutex<Recorder>,
    /// Counts every request (API and control) for `X-Request-Id`.
    pub request_ids: AtomicU64,
    /// Counts fault-eligible requests (those that passed auth and validation).
    pub fault_seq: AtomicU64,
    /// The fleet APIs' view of the store.
    pub fleet: super::fleet::Fleet,
    /// The simulated IAM and ECS metadata service ([`super::iam`]).
    pub iam: super::iam::IamState,
}

/// Locks a mutex, ignoring poisoning (the data stays consistent: no panics while locked).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

type Body = Full<Bytes>;

const JSON: &str = "application/json;charset=UTF-8";

/// Accepts connections until the task is aborted; aborting it also aborts the connections.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                conns.spawn(serve_conn(stream, shared.clone()));
            }
            Err(e) => {
                tracing::warn!(target: "hss_sim", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

async fn serve_conn(stream: TcpStream, shared: Arc<Shared>) {
    let drop_now = Arc::new(Notify::new());
    let svc = {
        let drop_now = drop_now.clone();
        service_fn(move |req| handle(shared.clone(), drop_now.clone(), req))
    };
    let conn =
        http1::Builder::new().timer(TokioTimer::new()).keep_alive(true).serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        r = conn => {
            if let Err(e) = r {
                tracing::debug!(target: "hss_sim", "connection error: {e}");
            }
        }
        // Dropping the connection closes the socket without writing any response.
        _ = drop_now.notified() => {}
    }
}

/// Decrements `in_flight` even when the request future is dropped.
struct InFlight<'a>(&'a Shared);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(&self.0.rec).end();
    }
}

async fn handle(
    shared: Arc<Shared>,
    drop_now: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let n = shared.request_ids.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = format!("{:016x}{:016x}", mix(shared.seed, n, 0x1d), n);
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let mut resp = if let Some(what) = path.strip_prefix("/_sim/") {
        control(&shared, req.method(), what)
    } else if super::iam::handles(&path) {
        // IAM and the metadata service: not counted in the HSS statistics, no HSS faults.
        let started = Instant::now();
        let method = req.method().clone();
        let resp = super::iam::handle(&shared.iam, &shared.auth, req, &path, &raw_query).await;
        tracing::info!(
            target: "hss_sim",
            "{method} {path} -> {} ({} ms)",
            resp.status().as_u16(),
            started.elapsed().as_millis()
        );
        resp
    } else {
        let started = Instant::now();
        lock(&shared.rec).begin(&raw_query);
        let _in_flight = InFlight(&shared);
        let latency = lock(&shared.faults).latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let resp = api(&shared, &drop_now, &req, &path, &raw_query).await;
        lock(&shared.rec).status(resp.status().as_u16());
        tracing::info!(
            target: "hss_sim",
            "{} {}{}{} -> {} ({} ms)",
            req.method(),
            path,
            if raw_query.is_empty() { "" } else { "?" },
            raw_query,
            resp.status().as_u16(),
            started.elapsed().as_millis()
        );
        resp
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    Ok(resp)
}

/// The checks every HSS API request passes before its own validation, in the API's order:
/// authentication (`401`), then the project in the path against the credential's (`403`).
/// The refusal, or `None` when the request may go on.
pub(crate) fn denial(
    shared: &Shared,
    req: &Request<Incoming>,
    path: &str,
    raw_query: &str,
    project: &str,
) -> Option<Response<Body>> {
    let parts =
        RequestParts { method: req.method().as_str(), raw_path: path, raw_query, headers: req.headers(), body: b"" };
    if let Err(e) = auth::check(&shared.auth, &parts, SystemTime::now()) {
        return Some(error(StatusCode::UNAUTHORIZED, AUTH_ERROR_CODE, &e.to_string()));
    }
    if percent_decode(project) != shared.project_id {
        return Some(error(
            StatusCode::FORBIDDEN,
            "HSS.1003",
            "The project ID in the URI does not match the project of the credential",
        ));
    }
    None
}

/// The answer a fault gives in place of the data (a dropped connection never answers), or
/// `None` when the request is served (normally, or with a malformed body).
pub(crate) async fn refusal(
    shared: &Shared,
    drop_now: &Notify,
    decision: &Decision,
    faults: &Faults,
    path: &str,
    raw_query: &str,
) -> Option<Response<Body>> {
    let resp = match decision.outcome {
        Outcome::Drop => {
            lock(&shared.rec).fault();
            tracing::info!(target: "hss_sim", "GET {path}?{raw_query} -> connection dropped");
            drop_now.notify_one();
            return std::future::pending().await;
        }
        Outcome::Throttle => {
            let mut resp =
                error(StatusCode::TOO_MANY_REQUESTS, "APIGW.0308", "The throttling threshold has been reached");
            if let Some(secs) = faults.retry_after_secs {
                resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
            }
            resp
        }
        Outcome::ServerError(code) => {
            let (status, err_code, msg) = match code {
                502 => (StatusCode::BAD_GATEWAY, "APIGW.0502", "Bad gateway"),
                503 => (StatusCode::SERVICE_UNAVAILABLE, "APIGW.0503", "Service unavailable"),
                504 => (StatusCode::GATEWAY_TIMEOUT, "APIGW.0504", "Gateway timeout"),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "HSS.0500", "Internal server error"),
            };
            error(status, err_code, msg)
        }
        Outcome::Normal | Outcome::Malformed => return None,
    };
    lock(&shared.rec).fault();
    Some(resp)
}

/// The JSON answer with the page at `offset` of `records`, after the page fault; whether one
/// was injected.
pub(crate) fn page_body<T: Serialize>(
    records: &[T],
    offset: usize,
    limit: usize,
    fault: PageFault,
    seed: u64,
    n: u64,
) -> (serde_json::Result<Vec<u8>>, bool) {
    #[derive(Serialize)]
    struct Page<'a, T> {
        data_list: &'a [T],
        total_num: usize,
    }
    let total = records.len();
    let mut start = offset.min(total);
    let mut end = offset.saturating_add(limit).min(total);
    let mut injected = false;
    match fault {
        PageFault::Repeat => {
            let other = if offset >= limit {
                Some(offset - limit)
            } else if offset + limit < total {
                Some(offset + limit)
            } else {
                None
            };
            if let Some(o) = other {
                start = o.min(total);
                end = (o + limit).min(total);
                injected = true;
            }
        }
        PageFault::Short if end > start => {
            end = start + (mix(seed, n, SALT_SHORT_LEN) % (end - start) as u64) as usize;
            injected = true;
        }
        PageFault::Short | PageFault::None => {}
    }
    let page = Page { data_list: records.get(start..end).unwrap_or_default(), total_num: total };
    (serde_json::to_vec(&page), injected)
}

/// The `200` answer with `body` (cut in half for a malformed-body fault), counting the
/// `injected` faults (and that one) in the statistics.
pub(crate) fn served(
    shared: &Shared,
    decision: &Decision,
    body: serde_json::Result<Vec<u8>>,
    mut injected: u64,
) -> Response<Body> {
    let Ok(mut body) = body else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "HSS.0500", "serialization failed");
    };
    if decision.outcome == Outcome::Malformed {
        body.truncate(body.len() / 2);
        injected += 1;
    }
    if injected > 0 {
        let mut rec = lock(&shared.rec);
        for _ in 0..injected {
            rec.fault();
        }
    }
    json_response(StatusCode::OK, body)
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp
}

pub(crate) fn error(status: StatusCode, code: &str, msg: &str) -> Response<Body> {
    let body = serde_json::json!({ "error_code": code, "error_msg": msg });
    json_response(status, body.to_string().into_bytes())
}

pub(crate) fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, "APIGW.0101", "The API does not exist or has not been published in the environment")
}

fn control(shared: &Shared, method: &Method, what: &str) -> Response<Body> {
    if method != Method::GET {
        return not_found();
    }
    let body = match what {
        "stats" => serde_json::to_vec(&lock(&shared.rec).stats),
        "queries" => serde_json::to_vec(&lock(&shared.rec).queries),
        "iam" => serde_json::to_vec(&shared.iam.stats(&shared.auth)),
        _ => return not_found(),
    };
    match body {
        Ok(b) => json_response(StatusCode::OK, b),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "HSS.0500", "serialization failed"),
    }
}

/// `/v5/{project_id}/asset/ports` -> the raw project segment.
fn route(path: &str) -> Option<&str> {
    let project = path.strip_prefix("/v5/")?.strip_suffix("/asset/ports")?;
    (!project.is_empty() && !project.contains('/')).then_some(project)
}

async fn api(
    shared: &Shared,
    drop_now: &Notify,
    req: &Request<Incoming>,
    path: &str,
    raw_query: &str,
) -> Response<Body> {
    // The fleet APIs (hosts, port hosts, port statistics): fleet.rs.
    if let Some(resp) = super::fleet::api(shared, drop_now, req, path, raw_query).await {
        return resp;
    }
    // 1. Routing.
    let Some(project) = route(path) else {
        return not_found();
    };
    if req.method() != Method::GET {
        return not_found();
    }
    // 2. Authentication, 3. project.
    if let Some(resp) = denial(shared, req, path, raw_query, project) {
        return resp;
    }
    // 4. Validation.
    let q = match validate(&parse_pairs(raw_query)) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, INVALID_PARAM_CODE, &e.to_string()),
    };
    // 5. Faults.
    let n = shared.fault_seq.fetch_add(1, Ordering::Relaxed);
    let faults = lock(&shared.faults).clone();
    let seed = shared.seed;
    let decision = decide(&faults, seed, n);
    // The replacement due after this request, if any: applied once this request's page is read
    // (or would have been), so that it lands between two page reads.
    let replace = faults.replace.filter(|r| r.after_request == n + 1);
    let replace_now = |store: &mut Store| {
        if let Some(r) = replace
            && store.replace(seed, &q.host_id, n, r.remove_at, r.insert_at)
        {
            lock(&shared.rec).fault();
            tracing::info!(
                target: "hss_sim",
                "after request {}: host {:?} lost the record at {} and gained one at {}",
                n + 1,
                q.host_id,
                r.remove_at,
                r.insert_at
            );
        }
    };
    if decision.outcome != Outcome::Normal && decision.outcome != Outcome::Malformed {
        replace_now(&mut lock(&shared.store));
    }
    if let Some(resp) = refusal(shared, drop_now, &decision, &faults, path, raw_query).await {
        return resp;
    }
    // 6. Data.
    let mut injected = 0u64;
    let body = {
        let mut store = lock(&shared.store);
        if faults.drift == Drift::Always && store.drift_always(seed, &q.host_id, n) {
            injected += 1;
        }
        let selected = store.select(&q);
        let (body, shifted) = page_body(&selected, q.offset, q.limit, decision.page, seed, n);
        injected += u64::from(shifted);
        if faults.drift == Drift::Once
            && q.offset == 0
            && decision.outcome == Outcome::Normal
            && store.drift_once(seed, &q.host_id)
        {
            injected += 1;
        }
        replace_now(&mut store);
        body
    };
    served(shared, &decision, body, injected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing() {
        assert_eq!(route("/v5/p/asset/ports"), Some("p"));
        assert_eq!(route("/v5//asset/ports"), None);
        assert_eq!(route("/v5/a/b/asset/ports"), None);
        assert_eq!(route("/v5/p/asset/ports/"), None);
        assert_eq!(route("/v3/p/asset/ports"), None);
    }
}
