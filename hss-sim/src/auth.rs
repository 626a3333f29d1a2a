//! Authentication of API requests: `X-Auth-Token` and/or AK/SK (`SDK-HMAC-SHA256`) signatures
//! re-computed from the request as received by the simulator's own verifier ([`crate::signature`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::HeaderMap;

use crate::signature;

/// Largest accepted difference between `X-Sdk-Date` and the server clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// The error code of every authentication failure.
pub(crate) const AUTH_ERROR_CODE: &str = "APIGW.0301";

/// The accepted credentials. With neither configured, every request is accepted, except one
/// signed with expired temporary credentials.
#[derive(Clone, Default)]
pub(crate) struct AuthConfig {
    pub token: Option<String>,
    pub ak_sk: Option<(String, String)>,
    /// Temporary credentials issued by the simulated IAM and metadata service.
    pub temporary: Temporary,
}

/// One issued temporary credential: its secret key, its security token and its expiry.
#[derive(Clone)]
pub(crate) struct Issued {
    pub secret: String,
    pub token: String,
    pub expires_at: SystemTime,
}

/// The temporary credentials issued so far, by access key, and how many requests they
/// authenticated; shared by every clone.
#[derive(Clone, Default)]
pub(crate) struct Temporary(Arc<Mutex<HashMap<String, Issued>>>, Arc<AtomicU64>);

impl Temporary {
    pub(crate) fn insert(&self, access: String, issued: Issued) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(access, issued);
    }

    fn get(&self, access: &str) -> Option<Issued> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(access).cloned()
    }

    /// Requests accepted with temporary credentials.
    pub(crate) fn accepted(&self) -> u64 {
        self.1.load(Ordering::Relaxed)
    }
}

/// The parts of a request that authentication looks at.
pub(crate) struct RequestParts<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded form).
    pub raw_path: &'a str,
    /// The query as received, without `?`.
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    /// The request body (empty for GET).
    pub body: &'a [u8],
}

/// Why a request was rejected (never contains a secret); its `Display` is the `error_msg`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Incorrect IAM authentication information: {0}")]
pub(crate) struct AuthError(pub &'static str);

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    signature::constant_time_eq(a, b)
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the request against the configured credentials. Either mode succeeding is enough.
pub(crate) fn check(cfg: &AuthConfig, req: &RequestParts<'_>, now: SystemTime) -> Result<(), AuthError> {
    let authorization = header(req.headers, "authorization");
    // Temporary credentials: signed with their secret key, with their security token signed
    // too, and only until they expire.
    if let Some(auth) = authorization
        && let Some(parsed) = signature::parse_authorization(auth)
        && let Some(issued) = cfg.temporary.get(parsed.access)
    {
        verify_signature(parsed.access, &issued.secret, auth, req, now)?;
        if !parsed.signed_headers.iter().any(|n| n == "x-security-token") {
            return Err(AuthError("temporary credentials need a signed X-Security-Token header"));
        }
        let token = header(req.headers, "x-security-token").unwrap_or("");
        if !ct_eq(token.as_bytes(), issued.token.as_bytes()) {
            return Err(AuthError("the security token does not belong to this access key"));
        }
        if now >= issued.expires_at {
            return Err(AuthError("the temporary credentials have expired"));
        }
        cfg.temporary.1.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    if cfg.token.is_none() && cfg.ak_sk.is_none() {
        return Ok(());
    }
    let token = header(req.headers, "x-auth-token");
    let mut failure = None;
    if let (Some(expected), Some(got)) = (&cfg.token, token) {
        if ct_eq(expected.as_bytes(), got.as_bytes()) {
            return Ok(());
        }
        failure = Some(AuthError("the token is invalid"));
    }
    if let (Some((ak, sk)), Some(auth)) = (&cfg.ak_sk, authorization) {
        match verify_signature(ak, sk, auth, req, now) {
            Ok(()) => return Ok(()),
            Err(e) => failure = Some(e),
        }
    }
    Err(failure.unwrap_or(match (&cfg.token, &cfg.ak_sk) {
        (Some(_), None) => AuthError("the X-Auth-Token header is missing"),
        (None, _) => AuthError("the Authorization header is missing"),
        (Some(_), Some(_)) => AuthError("neither X-Auth-Token nor Authorization is present"),
    }))
}

/// Parses `YYYYMMDDTHHMMSSZ` into seconds since the epoch.
pub(crate) fn parse_sdk_date(s: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let parsed = time::PrimitiveDateTime::parse(s, format).ok()?;
    Some(parsed.assume_utc().unix_timestamp())
}

fn verify_signature(
    ak: &str,
    sk: &str,
    authorization: &str,
    req: &RequestParts<'_>,
    now: SystemTime,
) -> Result<(), AuthError> {
    let auth =
        signature::parse_authorization(authorization).ok_or(AuthError("the Authorization header is malformed"))?;
    if !ct_eq(auth.access.as_bytes(), ak.as_bytes()) {
        return Err(AuthError("the access key is unknown"));
    }
    let names = &auth.signed_headers;
    if !names.iter().any(|n| n == "host") || !names.iter().any(|n| n == "x-sdk-date") {
        return Err(AuthError("the signed headers must include host and x-sdk-date"));
    }
    let date = header(req.headers, "x-sdk-date").ok_or(AuthError("the X-Sdk-Date header is missing"))?;
    let signed_at = parse_sdk_date(date).ok_or(AuthError("the X-Sdk-Date header is malformed"))?;
    let now_secs = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    if signed_at.abs_diff(now_secs) > MAX_CLOCK_SKEW.as_secs() {
        return Err(AuthError("the X-Sdk-Date is more than 15 minutes away from the server time"));
    }
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        values.push(header(req.headers, name).ok_or(AuthError("a signed header is missing"))?);
    }
    let received = signature::Received {
        method: req.method,
        raw_path: req.raw_path,
        raw_query: req.raw_query,
        signed_header_values: values,
        body: req.body,
    };
    let canonical = signature::canonical_request(&received, names);
    let expected = signature::expected_signature(sk, &signature::string_to_sign(date, &canonical));
    if ct_eq(expected.as_bytes(), auth.signature.to_ascii_lowercase().as_bytes()) {
        Ok(())
    } else {
        Err(AuthError("the signature does not match"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{HeaderName, HeaderValue};

    fn headers(list: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in list {
            h.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn parts<'a>(h: &'a HeaderMap, q: &'a str) -> RequestParts<'a> {
        RequestParts { method: "GET", raw_path: "/v5/p/asset/ports", raw_query: q, headers: h, body: b"" }
    }

    /// Signs with this module's own canonical forms: these tests cover the plumbing (which key,
    /// which date, which query); `tests/signing_vectors.rs` checks the forms against Huawei's
    /// official signer.
    fn signed(ak: &str, sk: &str, date: &str, query: &str, host: &str) -> HeaderMap {
        let names = vec!["host".to_string(), "x-sdk-date".to_string()];
        let received = signature::Received {
            method: "GET",
            raw_path: "/v5/p/asset/ports",
            raw_query: query,
            signed_header_values: vec![host, date],
            body: b"",
        };
        let canonical = signature::canonical_request(&received, &names);
        let sig = signature::expected_signature(sk, &signature::string_to_sign(date, &canonical));
        headers(&[
            ("host", host),
            ("x-sdk-date", date),
            ("authorization", &format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders=host;x-sdk-date, Signature={sig}")),
        ])
    }

    fn sdk_date(t: SystemTime) -> String {
        let t = time::OffsetDateTime::from(t);
        let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        t.format(format).expect("formats")
    }

    #[test]
    fn sdk_date_parsing() {
        assert_eq!(parse_sdk_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_sdk_date("20240102T030405Z"), Some(1_704_164_645));
        assert_eq!(parse_sdk_date("20000229T000000Z"), Some(951_782_400));
        assert_eq!(parse_sdk_date("20230229T000000Z"), None);
        assert_eq!(parse_sdk_date("2024-01-02T03:04Z"), None);
        assert_eq!(parse_sdk_date("20240102T240000Z"), None);
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        assert_eq!(parse_sdk_date(&sdk_date(now)), Some(secs));
    }

    #[test]
    fn open_when_unconfigured() {
        let h = HeaderMap::new();
        assert_eq!(check(&AuthConfig::default(), &parts(&h, ""), SystemTime::now()), Ok(()));
    }

    #[test]
    fn token_mode() {
        let cfg = AuthConfig { token: Some("S3CRET".into()), ..Default::default() };
        let now = SystemTime::now();
        assert!(check(&cfg, &parts(&headers(&[("x-auth-token", "S3CRET")]), ""), now).is_ok());
        let e = check(&cfg, &parts(&headers(&[("x-auth-token", "W7ONG")]), ""), now).unwrap_err();
        assert!(!e.to_string().contains("S3CRET") && !e.to_string().contains("W7ONG"));
        assert!(check(&cfg, &parts(&HeaderMap::new(), ""), now).is_err());
    }

    #[test]
    fn temporary_credentials_until_they_expire() {
        let cfg = AuthConfig::default();
        let now = SystemTime::now();
        cfg.temporary.insert(
            "TMPAK".into(),
            Issued { secret: "tmp-sk".into(), token: "tmp-token".into(), expires_at: now + Duration::from_secs(3) },
        );
        let date = sdk_date(now);
        let names = vec!["host".to_string(), "x-sdk-date".to_string(), "x-security-token".to_string()];
        let sign = |token: &str| {
            let received = signature::Received {
                method: "GET",
                raw_path: "/v5/p/asset/ports",
                raw_query: "",
                signed_header_values: vec!["h", &date, token],
                body: b"",
            };
            let canonical = signature::canonical_request(&received, &names);
            let sig = signature::expected_signature("tmp-sk", &signature::string_to_sign(&date, &canonical));
            headers(&[
                ("host", "h"),
                ("x-sdk-date", &date),
                ("x-security-token", token),
                (
                    "authorization",
                    &format!(
                        "SDK-HMAC-SHA256 Access=TMPAK, SignedHeaders=host;x-sdk-date;x-security-token, Signature={sig}"
                    ),
                ),
            ])
        };
        let good = sign("tmp-token");
        assert_eq!(check(&cfg, &parts(&good, ""), now), Ok(()));
        let expired = check(&cfg, &parts(&good, ""), now + Duration::from_secs(3));
        assert_eq!(expired, Err(AuthError("the temporary credentials have expired")));
        let other = sign("another-token");
        assert_eq!(
            check(&cfg, &parts(&other, ""), now),
            Err(AuthError("the security token does not belong to this access key"))
        );
    }

    #[test]
    fn signature_mode() {
        let cfg =
            AuthConfig { token: Some("tok".into()), ak_sk: Some(("AK".into(), "SK".into())), ..Default::default() };
        let now = SystemTime::now();
        let date = sdk_date(now);
        let q = "host_id=a%20b&limit=10&x=%2B+";
        let ok = signed("AK", "SK", &date, q, "127.0.0.1:1");
        assert_eq!(check(&cfg, &parts(&ok, q), now), Ok(()));
        // The query as received must match what was signed.
        assert!(check(&cfg, &parts(&ok, "host_id=a%20b&limit=20"), now).is_err());
        let wrong_sk = signed("AK", "XX", &date, q, "127.0.0.1:1");
        assert_eq!(check(&cfg, &parts(&wrong_sk, q), now), Err(AuthError("the signature does not match")));
        let wrong_ak = signed("AX", "SK", &date, q, "127.0.0.1:1");
        assert_eq!(check(&cfg, &parts(&wrong_ak, q), now), Err(AuthError("the access key is unknown")));
        let old = sdk_date(now - Duration::from_secs(16 * 60));
        let stale = signed("AK", "SK", &old, q, "127.0.0.1:1");
        assert!(check(&cfg, &parts(&stale, q), now).is_err());
        let near = sdk_date(now - Duration::from_secs(14 * 60));
        assert!(check(&cfg, &parts(&signed("AK", "SK", &near, q, "h"), q), now).is_ok());
        let bad = headers(&[("authorization", "Bearer x")]);
        assert!(check(&cfg, &parts(&bad, q), now).is_err());
    }
}
