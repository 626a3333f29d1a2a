//! An `SDK-HMAC-SHA256` verifier written apart from the provider's signer, on purpose.
//!
//! The simulator must not trust the client's idea of the canonical request: if both used one
//! implementation, a canonicalisation mistake would pass the client, the simulator and every
//! test, and fail only against the real API. So this file shares no code with
//! `hss_provider::hss::sign`, uses other crates for the primitives (RustCrypto's `sha2`/`hmac`
//! rather than AWS-LC), and works from the request as it arrived on the wire: the raw path and
//! raw query are decoded here and re-encoded by Huawei's published rules (the decoding is the simulator's own, in `validate`). Both are checked
//! against vectors produced by Huawei's official Python signer (`tests/vectors/`).
//!
//! The rules, from Huawei's API signing guide:
//! - canonical URI: the path decoded, then each `/`-separated segment URI-encoded (RFC 3986 unreserved characters kept), with a
//!   `/` appended when the path does not end in one;
//! - canonical query: parameters sorted by name, then by value, each name and value encoded the
//!   same way, `name=value` joined by `&`;
//! - canonical headers: `lowercase-name:trimmed-value` lines, sorted, for the signed headers;
//! - string to sign: `SDK-HMAC-SHA256`, the `X-Sdk-Date`, and the hex SHA-256 of the canonical
//!   request, on three lines; the signature is the hex HMAC-SHA256 of it keyed by the SK.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::validate::{parse_pairs, percent_decode};

/// The algorithm name at the start of the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The parts of an `Authorization: SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..`.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub access: &'a str,
    /// Lowercase header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: &'a str,
}

/// Parses the `Authorization` header; `None` when it is not an SDK-HMAC-SHA256 one.
pub fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.trim().strip_prefix(ALGORITHM)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key.trim() {
            "Access" => access = Some(val.trim()),
            "SignedHeaders" => signed = Some(val.trim()),
            "Signature" => signature = Some(val.trim()),
            _ => {}
        }
    }
    let signed_headers = signed?.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
    Some(Authorization { access: access?, signed_headers, signature: signature? })
}

/// URI-encodes per RFC 3986: unreserved characters stay, every other byte becomes `%XX`.
fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The canonical URI of a path as received (still percent-encoded). The whole path is decoded
/// before it is split, as Huawei's signer does: an encoded `%2F` signs as a real `/`.
pub fn canonical_uri(raw_path: &str) -> String {
    let segments: Vec<String> = percent_decode(raw_path).split('/').map(uri_encode).collect();
    let mut uri = segments.join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The canonical query of a query string as received (without `?`).
pub fn canonical_query(raw_query: &str) -> String {
    let mut params = parse_pairs(raw_query);
    params.sort();
    params.iter().map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v))).collect::<Vec<_>>().join("&")
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// One request as the server received it.
pub struct Received<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    /// The values of the signed headers, in the order of `Authorization::signed_headers`.
    pub signed_header_values: Vec<&'a str>,
    pub body: &'a [u8],
}

/// The canonical request for `req`, signing the headers `names`.
pub fn canonical_request(req: &Received<'_>, names: &[String]) -> String {
    let mut headers: Vec<(&str, &str)> =
        names.iter().map(String::as_str).zip(req.signed_header_values.iter().map(|v| v.trim())).collect();
    headers.sort();
    let mut sorted_names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    sorted_names.dedup();
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    [
        req.method.to_ascii_uppercase(),
        canonical_uri(req.raw_path),
        canonical_query(req.raw_query),
        canonical_headers,
        sorted_names.join(";"),
        sha256_hex(req.body),
    ]
    .join("\n")
}

/// The string to sign for a canonical request signed at `sdk_date`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{sdk_date}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// The hex signature the secret key gives for `string_to_sign`.
pub fn expected_signature(secret_key: &str, string_to_sign: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; an empty tag would never match.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()) else { return String::new() };
    mac.update(string_to_sign.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical_uri("/v5/p/asset/ports"), "/v5/p/asset/ports/");
        assert_eq!(canonical_uri("/a%20b/"), "/a%20b/");
        assert_eq!(canonical_uri("/v5/a%2Fb/x"), "/v5/a/b/x/");
        assert_eq!(canonical_query("b=2&a=%2B+&a=1"), "a=%2B%2B&a=1&b=2");
        assert_eq!(canonical_query(""), "");
    }

    #[test]
    fn authorization_header() {
        let a = parse_authorization("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;X-Sdk-Date, Signature=ab")
            .expect("parses");
        assert_eq!(a.access, "AK");
        assert_eq!(a.signed_headers, ["host", "x-sdk-date"]);
        assert!(parse_authorization("SDK-HMAC-SHA256Access=AK").is_none());
        assert!(parse_authorization("Bearer x").is_none());
    }
}
