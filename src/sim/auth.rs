//! Authentication of API requests: `X-Auth-Token` and/or AK/SK (`SDK-HMAC-SHA256`) signatures
//! re-computed from the request as received, with the crate's own signer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::HeaderMap;

use super::validate::{parse_pairs, percent_decode};
use crate::hss::sign;

/// Largest accepted difference between `X-Sdk-Date` and the server clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// The error code of every authentication failure.
pub(crate) const AUTH_ERROR_CODE: &str = "APIGW.0301";

/// The accepted credentials. With neither configured, every request is accepted.
#[derive(Clone, Default)]
pub(crate) struct AuthConfig {
    pub token: Option<String>,
    pub ak_sk: Option<(String, String)>,
}

/// The parts of a request that authentication looks at.
pub(crate) struct RequestParts<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded form).
    pub raw_path: &'a str,
    /// The query as received, without `?`.
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
}

/// Why a request was rejected (never contains a secret); its `Display` is the `error_msg`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Incorrect IAM authentication information: {0}")]
pub(crate) struct AuthError(pub &'static str);

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the request against the configured credentials. Either mode succeeding is enough.
pub(crate) fn check(cfg: &AuthConfig, req: &RequestParts<'_>, now: SystemTime) -> Result<(), AuthError> {
    if cfg.token.is_none() && cfg.ak_sk.is_none() {
        return Ok(());
    }
    let token = header(req.headers, "x-auth-token");
    let authorization = header(req.headers, "authorization");
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

/// Parsed `Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`.
fn parse_authorization(value: &str) -> Option<(&str, &str, &str)> {
    let rest = value.trim().strip_prefix(sign::ALGORITHM)?.strip_prefix(' ')?;
    let (mut access, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k.trim() {
            "Access" => access = Some(v.trim()),
            "SignedHeaders" => signed = Some(v.trim()),
            "Signature" => sig = Some(v.trim()),
            _ => {}
        }
    }
    Some((access?, signed?, sig?))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYYMMDDTHHMMSSZ` into seconds since the epoch.
pub(crate) fn parse_sdk_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mdays = match mo {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if d < 1 || d > mdays || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

fn verify_signature(
    ak: &str,
    sk: &str,
    authorization: &str,
    req: &RequestParts<'_>,
    now: SystemTime,
) -> Result<(), AuthError> {
    let (access, signed_headers, signature) =
        parse_authorization(authorization).ok_or(AuthError("the Authorization header is malformed"))?;
    if !ct_eq(access.as_bytes(), ak.as_bytes()) {
        return Err(AuthError("the access key is unknown"));
    }
    let names: Vec<String> =
        signed_headers.split(';').map(|n| n.trim().to_ascii_lowercase()).filter(|n| !n.is_empty()).collect();
    if !names.iter().any(|n| n == "host") || !names.iter().any(|n| n == "x-sdk-date") {
        return Err(AuthError("the signed headers must include host and x-sdk-date"));
    }
    let date = header(req.headers, "x-sdk-date").ok_or(AuthError("the X-Sdk-Date header is missing"))?;
    let signed_at = parse_sdk_date(date).ok_or(AuthError("the X-Sdk-Date header is malformed"))?;
    let now_secs = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    if signed_at.abs_diff(now_secs) > MAX_CLOCK_SKEW.as_secs() {
        return Err(AuthError("the X-Sdk-Date is more than 15 minutes away from the server time"));
    }
    let mut headers = Vec::with_capacity(names.len());
    for name in &names {
        let value = header(req.headers, name).ok_or(AuthError("a signed header is missing"))?;
        headers.push((name.clone(), value.to_string()));
    }
    let query = sign::canonical_query(&parse_pairs(req.raw_query));
    let path = percent_decode(req.raw_path);
    let (canonical, _) = sign::canonical_request(req.method, &path, &query, &headers, b"");
    let expected = sign::signature(sk, date, &canonical);
    if ct_eq(expected.as_bytes(), signature.to_ascii_lowercase().as_bytes()) {
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
        RequestParts { method: "GET", raw_path: "/v5/p/asset/ports", raw_query: q, headers: h }
    }

    fn signed(ak: &str, sk: &str, date: &str, query: &str, host: &str) -> HeaderMap {
        let hs = vec![("host".to_string(), host.to_string()), ("x-sdk-date".to_string(), date.to_string())];
        let cq = sign::canonical_query(&parse_pairs(query));
        let (cr, signed) = sign::canonical_request("GET", "/v5/p/asset/ports", &cq, &hs, b"");
        let sig = sign::signature(sk, date, &cr);
        headers(&[
            ("host", host),
            ("x-sdk-date", date),
            ("authorization", &format!("{} Access={ak}, SignedHeaders={signed}, Signature={sig}", sign::ALGORITHM)),
        ])
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
        assert_eq!(parse_sdk_date(&sign::sdk_date(now)), Some(secs));
    }

    #[test]
    fn open_when_unconfigured() {
        let h = HeaderMap::new();
        assert_eq!(check(&AuthConfig::default(), &parts(&h, ""), SystemTime::now()), Ok(()));
    }

    #[test]
    fn token_mode() {
        let cfg = AuthConfig { token: Some("S3CRET".into()), ak_sk: None };
        let now = SystemTime::now();
        assert!(check(&cfg, &parts(&headers(&[("x-auth-token", "S3CRET")]), ""), now).is_ok());
        let e = check(&cfg, &parts(&headers(&[("x-auth-token", "W7ONG")]), ""), now).unwrap_err();
        assert!(!e.to_string().contains("S3CRET") && !e.to_string().contains("W7ONG"));
        assert!(check(&cfg, &parts(&HeaderMap::new(), ""), now).is_err());
    }

    #[test]
    fn signature_mode() {
        let cfg = AuthConfig { token: Some("tok".into()), ak_sk: Some(("AK".into(), "SK".into())) };
        let now = SystemTime::now();
        let date = sign::sdk_date(now);
        let q = "host_id=a%20b&limit=10&x=%2B+";
        let ok = signed("AK", "SK", &date, q, "127.0.0.1:1");
        assert_eq!(check(&cfg, &parts(&ok, q), now), Ok(()));
        // The query as received must match what was signed.
        assert!(check(&cfg, &parts(&ok, "host_id=a%20b&limit=20"), now).is_err());
        let wrong_sk = signed("AK", "XX", &date, q, "127.0.0.1:1");
        assert_eq!(check(&cfg, &parts(&wrong_sk, q), now), Err(AuthError("the signature does not match")));
        let wrong_ak = signed("AX", "SK", &date, q, "127.0.0.1:1");
        assert_eq!(check(&cfg, &parts(&wrong_ak, q), now), Err(AuthError("the access key is unknown")));
        let old = sign::sdk_date(now - Duration::from_secs(16 * 60));
        let stale = signed("AK", "SK", &old, q, "127.0.0.1:1");
        assert!(check(&cfg, &parts(&stale, q), now).is_err());
        let near = sign::sdk_date(now - Duration::from_secs(14 * 60));
        assert!(check(&cfg, &parts(&signed("AK", "SK", &near, q, "h"), q), now).is_ok());
        let bad = headers(&[("authorization", "Bearer x")]);
        assert!(check(&cfg, &parts(&bad, q), now).is_err());
    }
}
