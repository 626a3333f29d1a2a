//! IAM and the ECS metadata service, served on the same listener as HSS (their paths do not
//! overlap), so that one simulator URL is the HSS endpoint, the IAM endpoint (`{url}/v3`) and
//! the metadata address:
//!
//! - `GET /v3/projects?name=NAME`: authenticated exactly like HSS requests ([`crate::auth`]);
//!   answers the configured projects of that name (`IamConfig::projects`), in IAM's shape.
//!   `IamConfig::deny_project_lookup` makes it `403`, as for credentials without IAM read access.
//! - `POST /v3.0/OS-CREDENTIAL/securitytokens` (`assume_role`): authenticated the same way
//!   (the JSON body is signed too); the agency must be one of `IamConfig::agencies`
//!   (`403` otherwise); `duration_seconds` must be 900 to 43200 (`400` otherwise). Answers
//!   `201 {"credential":{"access","secret","securitytoken","expires_at"}}`.
//! - `PUT /meta-data/latest/api/token` (with `X-Metadata-Token-Ttl-Seconds`, 1 to 21600) gives a
//!   session token; `GET /openstack/latest/securitykey` gives the ECS agency's credentials in
//!   the same shape, when `IamConfig::ecs_agency` is set (`404` otherwise). A request with an
//!   `X-Metadata-Token` must carry a valid one (`401`); one without is served too, as older
//!   metadata services do. `IamConfig::metadata_tokens = false` makes the token `PUT` a `404`.
//!
//! Issued credentials live `IamConfig::credential_lifetime` (else the requested duration, or a
//! day for the metadata service). HSS and IAM accept them, with their `X-Security-Token`, until
//! they expire, and answer `401` after that: renewal is really tested.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

use crate::auth::{self, AUTH_ERROR_CODE, AuthConfig, Issued, RequestParts};
use crate::faults::mix;
use crate::server::lock;
use crate::validate::parse_pairs;

const PROJECTS: &str = "/v3/projects";
const SECURITY_TOKENS: &str = "/v3.0/OS-CREDENTIAL/securitytokens";
const METADATA_TOKEN: &str = "/meta-data/latest/api/token";
const SECURITY_KEY: &str = "/openstack/latest/securitykey";
/// The largest request body read (an `assume_role` body is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;
/// The lifetime of metadata credentials when `credential_lifetime` is not set.
const METADATA_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// What the simulated IAM and metadata service know.
#[derive(Clone, Debug, Default)]
pub struct IamConfig {
    /// `(name, id)` of every project, such as `("cn-north-4", "0123...")`. Several projects may
    /// share a name (an ambiguous lookup).
    pub projects: Vec<(String, String)>,
    /// `(domain, agency)` pairs that may be assumed (a domain name or ID).
    pub agencies: Vec<(String, String)>,
    /// Lifetime of every issued credential; `None`: the requested duration (`assume_role`) or a
    /// day (metadata).
    pub credential_lifetime: Option<Duration>,
    /// Whether this "ECS" has an agency attached (the metadata service has credentials).
    pub ecs_agency: bool,
    /// Whether the metadata service offers session tokens (the `PUT`); default on.
    pub metadata_tokens: Option<bool>,
    /// `GET /v3/projects` answers 403.
    pub deny_project_lookup: bool,
}

/// Counters of the IAM and metadata paths (not part of [`crate::Stats`], which counts HSS).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct IamStats {
    /// `GET /v3/projects` requests, answered or not.
    pub project_lookups: u64,
    /// `POST .../securitytokens` requests.
    pub assume_role_requests: u64,
    /// Temporary credentials issued by `assume_role`.
    pub assume_role_issued: u64,
    /// `PUT .../api/token` requests.
    pub metadata_token_requests: u64,
    /// `GET .../securitykey` requests.
    pub metadata_key_requests: u64,
    /// Metadata credentials issued.
    pub metadata_issued: u64,
    /// Requests to these paths rejected with 401.
    pub unauthorized: u64,
    /// Requests (HSS and IAM) accepted with issued temporary credentials.
    pub temporary_accepted: u64,
}

/// IAM state shared by the connections.
pub(crate) struct IamState {
    pub cfg: IamConfig,
    seed: u64,
    issued: AtomicU64,
    metadata_tokens: Mutex<HashMap<String, SystemTime>>,
    stats: Mutex<IamStats>,
    /// Every secret issued, for tests that check none leaks.
    secrets: Mutex<Vec<String>>,
}

impl IamState {
    pub(crate) fn new(cfg: IamConfig, seed: u64) -> IamState {
        IamState {
            cfg,
            seed,
            issued: AtomicU64::new(0),
            metadata_tokens: Mutex::new(HashMap::new()),
            stats: Mutex::new(IamStats::default()),
            secrets: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn stats(&self, auth: &AuthConfig) -> IamStats {
        IamStats { temporary_accepted: auth.temporary.accepted(), ..lock(&self.stats).clone() }
    }

    pub(crate) fn secrets(&self) -> Vec<String> {
        lock(&self.secrets).clone()
    }

    fn count(&self, f: impl FnOnce(&mut IamStats)) {
        f(&mut lock(&self.stats));
    }

    /// A new credential valid for `lifetime`, registered with HSS's authentication.
    pub(crate) fn issue(&self, auth: &AuthConfig, lifetime: Duration) -> (String, String, String, SystemTime) {
        let n = self.issued.fetch_add(1, Ordering::Relaxed) + 1;
        let access = format!("TMPAK{n:011}{:04X}", mix(self.seed, n, 0xa1) & 0xffff);
        let secret = format!("tmp-sk-{:016x}{:016x}", mix(self.seed, n, 0xa2), mix(self.seed, n, 0xa3));
        let token = format!(
            "tmp-st-{:016x}{:016x}{:016x}{:016x}",
            mix(self.seed, n, 0xa4),
            mix(self.seed, n, 0xa5),
            mix(self.seed, n, 0xa6),
            mix(self.seed, n, 0xa7)
        );
        let expires_at = SystemTime::now() + lifetime;
        auth.temporary.insert(access.clone(), Issued { secret: secret.clone(), token: token.clone(), expires_at });
        lock(&self.secrets).extend([secret.clone(), token.clone()]);
        (access, secret, token, expires_at)
    }
}

/// Whether `path` is one of the paths this module serves.
pub(crate) fn handles(path: &str) -> bool {
    matches!(path, PROJECTS | SECURITY_TOKENS | METADATA_TOKEN | SECURITY_KEY)
}

type Body = Full<Bytes>;

fn json(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(value.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    resp
}

/// IAM's own error shape.
fn iam_error(status: StatusCode, message: &str) -> Response<Body> {
    let title = status.canonical_reason().unwrap_or("Error");
    json(status, serde_json::json!({ "error": { "code": status.as_u16(), "message": message, "title": title } }))
}

fn not_found() -> Response<Body> {
    json(
        StatusCode::NOT_FOUND,
        serde_json::json!({
            "error_code": "APIGW.0101",
            "error_msg": "The API does not exist or has not been published in the environment"
        }),
    )
}

fn rfc3339(t: SystemTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    time::OffsetDateTime::from(t).format(format).unwrap_or_default()
}

fn credential(access: &str, secret: &str, token: &str, expires_at: SystemTime) -> serde_json::Value {
    serde_json::json!({
        "credential": { "access": access, "secret": secret, "securitytoken": token, "expires_at": rfc3339(expires_at) }
    })
}

/// Serves one request to an IAM or metadata path.
pub(crate) async fn handle(
    iam: &IamState,
    auth_cfg: &AuthConfig,
    req: Request<Incoming>,
    path: &str,
    raw_query: &str,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return iam_error(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large"),
    };
    let method = parts.method.clone();
    // The 401 answer when authentication fails, else `None`.
    let rejected = || {
        let received =
            RequestParts { method: method.as_str(), raw_path: path, raw_query, headers: &parts.headers, body: &body };
        auth::check(auth_cfg, &received, SystemTime::now()).err().map(|e| {
            iam.count(|s| s.unauthorized += 1);
            json(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({ "error_code": AUTH_ERROR_CODE, "error_msg": e.to_string() }),
            )
        })
    };
    match (path, &method) {
        (PROJECTS, &Method::GET) => {
            iam.count(|s| s.project_lookups += 1);
            if let Some(resp) = rejected() {
                return resp;
            }
            if iam.cfg.deny_project_lookup {
                return iam_error(
                    StatusCode::FORBIDDEN,
                    "You are not authorized to perform the requested action: identity:projects:list.",
                );
            }
            let name = parse_pairs(raw_query).into_iter().find(|(k, _)| k == "name").map(|(_, v)| v);
            let projects: Vec<serde_json::Value> = iam
                .cfg
                .projects
                .iter()
                .filter(|(n, _)| name.as_deref().is_none_or(|want| want == n))
                .map(|(n, id)| {
                    serde_json::json!({
                        "id": id, "name": n, "domain_id": "d0m41n1d", "enabled": true, "is_domain": false,
                        "parent_id": "d0m41n1d", "description": ""
                    })
                })
                .collect();
            json(
                StatusCode::OK,
                serde_json::json!({
                    "projects": projects,
                    "links": { "self": format!("{path}?{raw_query}"), "next": null, "previous": null }
                }),
            )
        }
        (SECURITY_TOKENS, &Method::POST) => {
            iam.count(|s| s.assume_role_requests += 1);
            if let Some(resp) = rejected() {
                return resp;
            }
            assume_role(iam, auth_cfg, &body)
        }
        (METADATA_TOKEN, &Method::PUT) => {
            iam.count(|s| s.metadata_token_requests += 1);
            if iam.cfg.metadata_tokens == Some(false) {
                return not_found();
            }
            let ttl = parts
                .headers
                .get("x-metadata-token-ttl-seconds")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|t| (1..=21600).contains(t));
            let Some(ttl) = ttl else {
                return iam_error(StatusCode::BAD_REQUEST, "X-Metadata-Token-Ttl-Seconds must be 1 to 21600");
            };
            let n = iam.issued.fetch_add(1, Ordering::Relaxed) + 1;
            let token = format!("md-tok-{:016x}{:016x}", mix(iam.seed, n, 0xb1), mix(iam.seed, n, 0xb2));
            lock(&iam.metadata_tokens).insert(token.clone(), SystemTime::now() + Duration::from_secs(ttl));
            lock(&iam.secrets).push(token.clone());
            let mut resp = Response::new(Full::new(Bytes::from(token)));
            resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            resp
        }
        (SECURITY_KEY, &Method::GET) => {
            iam.count(|s| s.metadata_key_requests += 1);
            if let Some(token) = parts.headers.get("x-metadata-token") {
                let valid = token.to_str().ok().and_then(|t| lock(&iam.metadata_tokens).get(t).copied());
                if valid.is_none_or(|until| SystemTime::now() >= until) {
                    iam.count(|s| s.unauthorized += 1);
                    return iam_error(StatusCode::UNAUTHORIZED, "The metadata token is invalid or has expired");
                }
            }
            if !iam.cfg.ecs_agency {
                return iam_error(StatusCode::NOT_FOUND, "No agency is attached to this instance");
            }
            let lifetime = iam.cfg.credential_lifetime.unwrap_or(METADATA_LIFETIME);
            let (access, secret, token, expires_at) = iam.issue(auth_cfg, lifetime);
            iam.count(|s| s.metadata_issued += 1);
            json(StatusCode::OK, credential(&access, &secret, &token, expires_at))
        }
        _ => not_found(),
    }
}

fn assume_role(iam: &IamState, auth_cfg: &AuthConfig, body: &[u8]) -> Response<Body> {
    let bad = |message: &str| iam_error(StatusCode::BAD_REQUEST, message);
    let Ok(json_body) = serde_json::from_slice::<serde_json::Value>(body) else {
        return bad("The request body is not JSON");
    };
    let identity = &json_body["auth"]["identity"];
    let methods_ok = identity["methods"].as_array().is_some_and(|m| m.iter().any(|v| v == "assume_role"));
    if !methods_ok {
        return bad("auth.identity.methods must contain \"assume_role\"");
    }
    let role = &identity["assume_role"];
    let Some(agency) = role["agency_name"].as_str().filter(|a| !a.is_empty()) else {
        return bad("auth.identity.assume_role.agency_name is required");
    };
    let Some(domain) = role["domain_name"].as_str().or(role["domain_id"].as_str()).filter(|d| !d.is_empty()) else {
        return bad("auth.identity.assume_role.domain_name or domain_id is required");
    };
    let duration = match &role["duration_seconds"] {
        serde_json::Value::Null => 900,
        v => match v.as_u64().filter(|d| (900..=43200).contains(d)) {
            Some(d) => d,
            None => return bad("auth.identity.assume_role.duration_seconds must be 900 to 43200"),
        },
    };
    if !iam.cfg.agencies.iter().any(|(d, a)| d == domain && a == agency) {
        return iam_error(
            StatusCode::FORBIDDEN,
            &format!("The user has no permission to assume agency {agency:?} of domain {domain:?}"),
        );
    }
    let lifetime = iam.cfg.credential_lifetime.unwrap_or(Duration::from_secs(duration));
    let (access, secret, token, expires_at) = iam.issue(auth_cfg, lifetime);
    iam.count(|s| s.assume_role_issued += 1);
    json(StatusCode::CREATED, credential(&access, &secret, &token, expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_times() {
        assert!(handles(PROJECTS) && handles(SECURITY_TOKENS) && handles(METADATA_TOKEN) && handles(SECURITY_KEY));
        assert!(!handles("/v5/p/asset/ports") && !handles("/v3/projects/x"));
        let t = SystemTime::UNIX_EPOCH + Duration::from_micros(1_796_155_200_123_456);
        assert_eq!(rfc3339(t), "2026-12-01T20:00:00.123456Z");
    }
}
