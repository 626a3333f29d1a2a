//! Huawei Cloud AK/SK request signing (`SDK-HMAC-SHA256`) and the RFC 3986 escaping it relies on.
//!
//! Everything here is a pure function of its inputs. The simulator verifies signatures with its
//! own implementation (`hss-sim/src/signature.rs`), and both are checked against vectors from
//! Huawei's official signer (`tests/vectors/`), so a canonicalisation mistake here cannot hide.
//!
//! The canonical request is
//! `METHOD \n canonical-URI \n canonical-query \n canonical-headers \n signed-headers \n hex(sha256(body))`
//! where canonical headers are `name:trimmed-value\n` lines (lowercase names, sorted), and the
//! string to sign is `SDK-HMAC-SHA256 \n X-Sdk-Date \n hex(sha256(canonical request))`.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::{digest, hmac};

/// The signing algorithm name used in the string to sign and in the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The header that carries the signing time (`YYYYMMDDTHHMMSSZ`).
pub const SDK_DATE_HEADER: &str = "X-Sdk-Date";

/// RFC 3986 percent-encoding: `A-Z a-z 0-9 - _ . ~` stay as they are, every other byte of the
/// UTF-8 encoding becomes `%XX` with uppercase hex digits.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The canonical query string: pairs sorted by (raw) key, then by (raw) value, each key and value
/// [`escape`]d, written as `k=v` and joined by `&`. The client sends exactly this string as the
/// URL's query, so what was signed is what goes on the wire.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    let mut out = String::new();
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&escape(k));
        out.push('=');
        out.push_str(&escape(v));
    }
    out
}

/// The canonical URI: every `/`-separated segment of the (unescaped) path [`escape`]d, and a
/// trailing `/` appended when the path does not already end with one.
pub fn canonical_uri(path: &str) -> String {
    let mut out = path.split('/').map(escape).collect::<Vec<_>>().join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Builds the canonical request and the signed-headers list (`a;b;c`).
///
/// `headers` are the headers to sign: names in any case, raw values (they are trimmed here).
/// Returns `(canonical request, signed headers)`.
pub fn canonical_request(
    method: &str,
    path: &str,
    canonical_query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (String, String) {
    let mut hs: Vec<(String, &str)> = headers.iter().map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim())).collect();
    hs.sort();
    let mut canonical_headers = String::new();
    for (name, value) in &hs {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value);
        canonical_headers.push('\n');
    }
    let mut names: Vec<&str> = hs.iter().map(|(n, _)| n.as_str()).collect();
    names.dedup();
    let signed_headers = names.join(";");
    let request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_uri(path),
        canonical_query,
        canonical_headers,
        signed_headers,
        hex_sha256(body)
    );
    (request, signed_headers)
}

/// The string to sign: `SDK-HMAC-SHA256\n{sdk_date}\n{hex sha256(canonical_request)}`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{sdk_date}\n{}", hex_sha256(canonical_request.as_bytes()))
}

/// Lowercase hex HMAC-SHA256, keyed with the secret key, over [`string_to_sign`].
pub fn signature(secret_key: &str, sdk_date: &str, canonical_request: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret_key.as_bytes());
    let tag = hmac::sign(&key, string_to_sign(sdk_date, canonical_request).as_bytes());
    hex(tag.as_ref())
}

/// The `Authorization` header value:
/// `SDK-HMAC-SHA256 Access={AK}, SignedHeaders={list}, Signature={hex}`.
pub fn authorization(access_key: &str, signed_headers: &str, signature: &str) -> String {
    format!("{ALGORITHM} Access={access_key}, SignedHeaders={signed_headers}, Signature={signature}")
}

/// Formats a time as `YYYYMMDDTHHMMSSZ` in UTC (times before 1970 are clamped to the epoch).
pub fn sdk_date(t: SystemTime) -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::from(t.max(UNIX_EPOCH)).format(format).unwrap_or_default()
}

/// Lowercase hex SHA-256 of `data`.
pub fn hex_sha256(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn escape_follows_rfc3986() {
        assert_eq!(escape("a b"), "a%20b");
        assert_eq!(escape("a+b"), "a%2Bb");
        assert_eq!(escape("a/b"), "a%2Fb");
        assert_eq!(escape("é"), "%C3%A9");
        assert_eq!(escape("~-_.AZaz09"), "~-_.AZaz09");
        assert_eq!(escape("=&%?#*"), "%3D%26%25%3F%23%2A");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn canonical_query_sorts_and_escapes() {
        let q = canonical_query(&pairs(&[
            ("offset", "0"),
            ("limit", "200"),
            ("host_id", "host-a"),
            ("host_name", "my host+1/é~"),
            ("type", "TCP"),
        ]));
        assert_eq!(q, "host_id=host-a&host_name=my%20host%2B1%2F%C3%A9~&limit=200&offset=0&type=TCP");
        // Same key: sorted by value.
        assert_eq!(canonical_query(&pairs(&[("a", "2"), ("a", "1")])), "a=1&a=2");
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn canonical_uri_escapes_segments_and_adds_slash() {
        assert_eq!(canonical_uri("/v5/p/asset/ports"), "/v5/p/asset/ports/");
        assert_eq!(canonical_uri("/v5/p/asset/ports/"), "/v5/p/asset/ports/");
        assert_eq!(canonical_uri("/a b/é"), "/a%20b/%C3%A9/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
    }

    // Expected values below were computed independently with Python's hashlib/hmac.
    #[test]
    fn fixed_vector_default_port() {
        let date = "20240102T030405Z";
        let q = canonical_query(&pairs(&[
            ("offset", "0"),
            ("limit", "200"),
            ("host_id", "host-a"),
            ("host_name", "my host+1/é~"),
            ("type", "TCP"),
        ]));
        let headers =
            pairs(&[("Host", "hss.cn-north-4.myhuaweicloud.com"), ("X-Sdk-Date", date), ("X-Project-Id", " p ")]);
        let (cr, signed) = canonical_request("GET", "/v5/p/asset/ports", &q, &headers, b"");
        assert_eq!(
            cr,
            "GET\n/v5/p/asset/ports/\n\
             host_id=host-a&host_name=my%20host%2B1%2F%C3%A9~&limit=200&offset=0&type=TCP\n\
             host:hss.cn-north-4.myhuaweicloud.com\nx-project-id:p\nx-sdk-date:20240102T030405Z\n\n\
             host;x-project-id;x-sdk-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(signed, "host;x-project-id;x-sdk-date");
        assert_eq!(hex_sha256(cr.as_bytes()), "f82ec717c735e52bd65667be95126bbc9460d36918b4b8588b8fa4e910ee69cb");
        let sig = signature("SKSECRET", date, &cr);
        assert_eq!(sig, "e034c0ca29218f9137f631a46ebd2d9668adf56acd9aae23c9e11e171b215558");
        assert_eq!(
            authorization("AKTEST", &signed, &sig),
            "SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=host;x-project-id;x-sdk-date, \
             Signature=e034c0ca29218f9137f631a46ebd2d9668adf56acd9aae23c9e11e171b215558"
        );
    }

    #[test]
    fn fixed_vector_with_port_and_security_token() {
        let date = "20240102T030405Z";
        let q = canonical_query(&pairs(&[("offset", "0"), ("limit", "10"), ("host_id", "h")]));
        let headers = pairs(&[
            ("x-security-token", "tok"),
            ("HOST", "127.0.0.1:8443"),
            ("x-sdk-date", date),
            ("x-project-id", "p"),
        ]);
        let (cr, signed) = canonical_request("GET", "/v5/p/asset/ports", &q, &headers, b"");
        assert_eq!(signed, "host;x-project-id;x-sdk-date;x-security-token");
        assert!(cr.contains("\nhost:127.0.0.1:8443\n"));
        assert_eq!(signature("sk", date, &cr), "5ac3103d856189671073b94f6759d57364cd8682b6f96849ff6aaa82f4e8f8b4");
    }

    #[test]
    fn body_hash_is_part_of_the_request() {
        let (cr, _) = canonical_request("post", "/x", "", &pairs(&[("host", "h")]), b"{\"a\":1}");
        assert!(cr.starts_with("POST\n/x/\n\nhost:h\n\nhost\n"));
        assert!(cr.ends_with("015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"));
    }

    #[test]
    fn sdk_date_formats_utc() {
        let at = |s: u64| sdk_date(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "19700101T000000Z");
        assert_eq!(at(1_704_164_645), "20240102T030405Z");
        assert_eq!(at(951_782_400), "20000229T000000Z");
        assert_eq!(at(1_709_164_799), "20240228T235959Z");
        assert_eq!(at(4_107_542_399), "21000228T235959Z");
        assert_eq!(at(253_402_300_799), "99991231T235959Z");
        assert_eq!(sdk_date(UNIX_EPOCH - Duration::from_secs(5)), "19700101T000000Z");
    }
}
