//! Checks the client's `SDK-HMAC-SHA256` signer against vectors produced by Huawei Cloud's
//! official Python signer (`huaweicloudsdkcore`, see `scripts/signing-vectors/`).
//!
//! The vectors are data: these tests never run the SDK. A failure here means our signer and the
//! official one disagree, which is a bug in ours (or an SDK change, after regenerating).

use std::collections::HashSet;

use hss_provider::hss::sign;
use serde::Deserialize;

const VECTORS_JSON: &str = include_str!("vectors/sdk-hmac-sha256.json");

#[derive(Deserialize)]
struct VectorFile {
    generator: Generator,
    algorithm: String,
    access_key: String,
    secret_key: String,
    sdk_date: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Generator {
    package: String,
    version: String,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    method: String,
    host: String,
    /// The resource path as given to the SDK (percent-encoded, as sent).
    path: String,
    /// Decoded pairs, in the order given.
    query: Vec<(String, String)>,
    body: String,
    /// The headers the SDK signed, as it held them just before signing (untrimmed).
    headers_to_sign: Vec<(String, String)>,
    canonical_uri: String,
    canonical_query: String,
    canonical_headers: String,
    signed_headers: String,
    canonical_request: String,
    string_to_sign: String,
    signature: String,
    authorization: String,
    wire: Wire,
}

#[derive(Deserialize)]
struct Wire {
    method: String,
    path: String,
    query: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn load() -> VectorFile {
    serde_json::from_str(VECTORS_JSON).expect("tests/vectors/sdk-hmac-sha256.json is not valid")
}

/// Decodes `%XX` in a URL path (the client decodes the path before signing, as the SDK does).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(&[h, l]) = bytes.get(i + 1..i + 3)
            && h.is_ascii_hexdigit()
            && l.is_ascii_hexdigit()
        {
            let hex = |c: u8| (c as char).to_digit(16).expect("hex digit") as u8;
            out.push(hex(h) << 4 | hex(l));
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).expect("the decoded path is UTF-8")
}

/// Compares one field; on a mismatch, records both values under the vector's name.
fn check(failures: &mut Vec<String>, vector: &str, what: &str, ours: &str, sdk: &str) {
    if ours != sdk {
        failures.push(format!("vector {vector:?}: {what} differs\n  ours: {ours:?}\n  sdk:  {sdk:?}"));
    }
}

fn finish(failures: Vec<String>) {
    assert!(failures.is_empty(), "{} mismatch(es) with the official signer:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn our_signer_matches_the_official_signer() {
    let file = load();
    let mut failures = Vec::new();
    for v in &file.vectors {
        let n = v.name.as_str();
        let query = sign::canonical_query(&v.query);
        check(&mut failures, n, "canonical query", &query, &v.canonical_query);
        let path = percent_decode(&v.path);
        check(&mut failures, n, "canonical URI", &sign::canonical_uri(&path), &v.canonical_uri);
        let (cr, signed) = sign::canonical_request(&v.method, &path, &query, &v.headers_to_sign, v.body.as_bytes());
        check(&mut failures, n, "canonical request", &cr, &v.canonical_request);
        check(&mut failures, n, "signed headers", &signed, &v.signed_headers);
        check(&mut failures, n, "string to sign", &sign::string_to_sign(&file.sdk_date, &cr), &v.string_to_sign);
        let sig = sign::signature(&file.secret_key, &file.sdk_date, &cr);
        check(&mut failures, n, "signature", &sig, &v.signature);
        check(
            &mut failures,
            n,
            "Authorization",
            &sign::authorization(&file.access_key, &signed, &sig),
            &v.authorization,
        );
    }
    finish(failures);
}

/// What a verifier sees: the headers as sent (already trimmed by the SDK), less `Authorization`.
/// They must canonicalise to the same request as the headers the SDK signed.
#[test]
fn wire_headers_give_the_same_canonical_request() {
    let file = load();
    let mut failures = Vec::new();
    for v in &file.vectors {
        let n = v.name.as_str();
        let mut auth = None;
        let mut headers = Vec::new();
        for (name, value) in &v.wire.headers {
            if name.eq_ignore_ascii_case("authorization") {
                auth = Some(value.as_str());
            } else {
                headers.push((name.clone(), value.clone()));
            }
        }
        check(&mut failures, n, "wire Authorization", auth.unwrap_or("<missing>"), &v.authorization);
        let path = percent_decode(&v.wire.path);
        let query = sign::canonical_query(&v.query);
        let (cr, signed) = sign::canonical_request(&v.wire.method, &path, &query, &headers, v.wire.body.as_bytes());
        check(&mut failures, n, "canonical request from wire headers", &cr, &v.canonical_request);
        check(&mut failures, n, "signed headers from wire headers", &signed, &v.signed_headers);
    }
    finish(failures);
}

/// Internal consistency of the file, so that a hand edit or a generator bug shows up here.
#[test]
fn vector_file_is_consistent() {
    let file = load();
    assert_eq!(file.algorithm, sign::ALGORITHM);
    assert_eq!(file.generator.package, "huaweicloudsdkcore");
    assert!(!file.generator.version.is_empty());
    assert_eq!(file.sdk_date.len(), 16, "X-Sdk-Date is YYYYMMDDTHHMMSSZ");
    let mut names = HashSet::new();
    for v in &file.vectors {
        let n = v.name.as_str();
        assert!(names.insert(n), "duplicate vector name {n:?}");
        // The SDK sends the canonical query as the URL's query.
        assert_eq!(v.wire.query, v.canonical_query, "{n}: wire query");
        assert_eq!(v.wire.path, v.path, "{n}: wire path");
        let target = if v.wire.query.is_empty() { v.path.clone() } else { format!("{}?{}", v.path, v.wire.query) };
        assert_eq!(v.wire.target, target, "{n}: wire target");
        assert_eq!(v.wire.method, v.method.to_ascii_uppercase(), "{n}: wire method");
        assert_eq!(v.wire.body, v.body, "{n}: wire body");
        let expected_cr = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            v.method.to_ascii_uppercase(),
            v.canonical_uri,
            v.canonical_query,
            v.canonical_headers,
            v.signed_headers,
            sign::hex_sha256(v.body.as_bytes())
        );
        assert_eq!(v.canonical_request, expected_cr, "{n}: canonical request parts");
        assert!(v.headers_to_sign.iter().any(|(k, h)| k.eq_ignore_ascii_case("host") && *h == v.host), "{n}: Host");
        assert!(
            v.headers_to_sign.iter().any(|(k, d)| k.eq_ignore_ascii_case(sign::SDK_DATE_HEADER) && *d == file.sdk_date),
            "{n}: X-Sdk-Date"
        );
    }
}

/// The cases the vectors must keep covering; dropping one has to be a deliberate change here.
#[test]
fn vector_file_covers_the_required_cases() {
    const REQUIRED: &[&str] = &[
        "get_ports_no_query",
        "get_ports_host_id_limit_offset",
        "get_ports_all_filters",
        "query_repeated_key",
        "query_key_order_differs_from_value_order",
        "query_sort_raw_keys_not_encoded",
        "query_sort_raw_values_not_encoded",
        "query_value_tilde",
        "query_value_space",
        "query_value_plus",
        "query_value_slash",
        "query_value_percent",
        "query_value_hash",
        "query_value_ampersand",
        "query_value_non_ascii",
        "query_value_sub_delims",
        "query_special_characters_mixed",
        "query_empty_value",
        "path_trailing_slash",
        "path_no_trailing_slash",
        "path_root",
        "path_percent_encoded_segment",
        "path_encoded_slash",
        "security_token",
        "host_with_port",
        "header_value_trimmed",
        "get_sdk_client_headers",
        "post_json_body",
        "post_json_body_with_query_and_token",
    ];
    let file = load();
    let names: HashSet<&str> = file.vectors.iter().map(|v| v.name.as_str()).collect();
    let missing: Vec<&&str> = REQUIRED.iter().filter(|n| !names.contains(**n)).collect();
    assert!(missing.is_empty(), "vectors missing from tests/vectors/sdk-hmac-sha256.json: {missing:?}");

    let by_name = |n: &str| file.vectors.iter().find(|v| v.name == n).expect("checked above");
    // What each case is about must still be in it.
    let token = by_name("security_token");
    assert!(token.signed_headers.split(';').any(|h| h == "x-security-token"));
    assert!(by_name("post_json_body").method == "POST" && !by_name("post_json_body").body.is_empty());
    assert!(by_name("path_trailing_slash").path.ends_with('/'));
    assert!(!by_name("path_no_trailing_slash").path.ends_with('/'));
    assert_eq!(by_name("path_trailing_slash").canonical_request, by_name("path_no_trailing_slash").canonical_request);
    assert_eq!(by_name("query_repeated_key").query.len(), 2);
    let mixed =
        by_name("query_special_characters_mixed").query.iter().map(|(k, v)| format!("{k}{v}")).collect::<String>();
    for c in ['~', ' ', '+', '/', '%', '#', '&', 'é'] {
        assert!(mixed.contains(c), "query_special_characters_mixed lost {c:?}");
    }
    assert!(by_name("query_value_non_ascii").query.iter().any(|(_, v)| v.contains('端')));
    assert!(by_name("host_with_port").host.contains(':'));
    for v in &file.vectors {
        if v.name.starts_with("get_ports") || v.name.starts_with("query_") {
            assert!(v.signed_headers.split(';').any(|h| h == "x-project-id"), "{}: X-Project-Id", v.name);
        }
    }
}
