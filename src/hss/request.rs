//! The single request builder: endpoint URL, canonical query (sent byte-for-byte as signed),
//! headers and authentication (token or AK/SK signature). Every attempt builds a fresh request,
//! so each retry carries a fresh `X-Sdk-Date`, and is signed with the credentials the client
//! holds at that moment (temporary credentials rotate during a long read). IAM requests are
//! signed by the same [`Signer`].

use std::sync::Arc;
use std::time::SystemTime;

use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, HOST, HeaderMap, HeaderName, HeaderValue};

use super::config::Credentials;
use super::credentials::CredentialProvider;
use super::error::Error;
use super::{Secret, sign};

/// The header carrying an IAM token.
pub const AUTH_TOKEN_HEADER: &str = "X-Auth-Token";
/// The header carrying the project ID in AK/SK mode.
pub const PROJECT_ID_HEADER: &str = "X-Project-Id";
/// The header carrying a temporary security token in AK/SK mode.
pub const SECURITY_TOKEN_HEADER: &str = "X-Security-Token";

/// Where requests go: the resolved endpoint, the API path and the `Host` value that is signed.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// Base URL without a trailing slash, e.g. `https://hss.cn-north-4.myhuaweicloud.com`.
    pub base: String,
    /// The full request URL without query.
    pub url: Url,
}

impl Endpoint {
    /// Resolves `endpoint` (used as-is) or `https://hss.{region}.{cloud}`, and appends
    /// `/v5/{project_id}/asset/ports`.
    pub fn resolve(
        endpoint: Option<&str>,
        region: Option<&str>,
        cloud: &str,
        project_id: &str,
    ) -> Result<Endpoint, Error> {
        let raw = match endpoint.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => e.to_owned(),
            None => {
                let region = region
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| Error::config("either endpoint or region must be set"))?;
                let cloud = match cloud.trim() {
                    "" => super::config::DEFAULT_CLOUD,
                    c => c,
                };
                let ok = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                if !ok(region) || !ok(cloud) {
                    return Err(Error::config(format!(
                        "region {region:?} and cloud {cloud:?} may contain only letters, digits, '-' and '.'"
                    )));
                }
                format!("https://hss.{region}.{cloud}")
            }
        };
        let parsed =
            Url::parse(&raw).map_err(|e| Error::config(format!("endpoint {raw:?} is not a valid URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::config(format!("endpoint {raw:?} must start with https:// or http://")));
        }
        if parsed.host_str().is_none() {
            return Err(Error::config(format!("endpoint {raw:?} has no host")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Error::config("endpoint must not contain a user name or password"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::config(format!("endpoint {raw:?} must not have a query or fragment")));
        }
        let base = parsed.as_str().trim_end_matches('/').to_owned();
        let path = format!("{}/v5/{}/asset/ports", parsed.path().trim_end_matches('/'), sign::escape(project_id));
        let mut url = parsed;
        url.set_path(&path);
        Ok(Endpoint { base, url })
    }
}

impl Endpoint {
    /// The same endpoint for another API of the project: `path` is relative to
    /// `/v5/{project_id}/`, such as `host-management/hosts`.
    pub fn with_path(&self, path: &str) -> Endpoint {
        let mut url = self.url.clone();
        let project_root = url.path().strip_suffix("asset/ports").unwrap_or(url.path()).to_owned();
        url.set_path(&format!("{project_root}{}", path.trim_start_matches('/')));
        Endpoint { base: self.base.clone(), url }
    }
}

/// One set of credentials, ready for signing: what was the whole authentication of a client
/// before credentials could rotate.
#[derive(Clone)]
pub(crate) enum Signer {
    /// `X-Auth-Token`, marked sensitive.
    Token(HeaderValue),
    /// AK/SK signing, with `X-Security-Token` for temporary credentials.
    AkSk { access_key: String, secret_key: Secret, security_token: Option<HeaderValue> },
}

impl Signer {
    pub fn from_credentials(c: &Credentials) -> Result<Signer, Error> {
        match c {
            Credentials::Token(t) => {
                if t.is_empty() {
                    return Err(Error::config("the token is empty"));
                }
                Ok(Signer::Token(sensitive(t.expose(), "the token")?))
            }
            Credentials::AkSk { access_key, secret_key, security_token } => {
                if access_key.trim().is_empty() || secret_key.is_empty() {
                    return Err(Error::config("access_key and secret_key must both be set"));
                }
                if HeaderValue::from_str(access_key).is_err() || access_key.contains(',') {
                    return Err(Error::config("access_key contains invalid characters"));
                }
                let security_token = match security_token {
                    Some(t) if !t.is_empty() => Some(sensitive(t.expose(), "the security token")?),
                    _ => None,
                };
                Ok(Signer::AkSk {
                    access_key: access_key.trim().to_owned(),
                    secret_key: secret_key.clone(),
                    security_token,
                })
            }
        }
    }

    /// The secret parts: the token, or the secret key and the security token.
    pub fn secrets(&self) -> Vec<Secret> {
        let text = |v: &HeaderValue| Secret::new(v.to_str().unwrap_or_default().to_owned());
        match self {
            Signer::Token(t) => vec![text(t)],
            Signer::AkSk { secret_key, security_token, .. } => {
                let mut out = vec![secret_key.clone()];
                out.extend(security_token.as_ref().map(text));
                out
            }
        }
    }

    /// Adds the authentication of one request to `headers`: `X-Auth-Token`, or the
    /// `SDK-HMAC-SHA256` signature over the method, the URL's path and query (`query`, already
    /// canonical), `host`, `x-sdk-date`, every header in `signed` (also added to `headers`) and
    /// `body`.
    pub fn authenticate(&self, headers: &mut HeaderMap, request: &Unsigned<'_>, now: SystemTime) -> Result<(), Error> {
        let Unsigned { method, url, query, signed, body } = *request;
        let host = host_of(url)?;
        match self {
            Signer::Token(token) => {
                for (name, value) in signed {
                    headers.insert(HeaderName::from_static(name), header_value(value)?);
                }
                headers.insert(HeaderName::from_static("x-auth-token"), token.clone());
            }
            Signer::AkSk { access_key, secret_key, security_token } => {
                let date = sign::sdk_date(now);
                let mut to_sign = vec![("host".to_owned(), host.clone()), ("x-sdk-date".to_owned(), date.clone())];
                to_sign.extend(signed.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
                if let Some(t) = security_token {
                    let t = t.to_str().map_err(|_| Error::config("the security token is not valid ASCII"))?;
                    to_sign.push(("x-security-token".to_owned(), t.to_owned()));
                }
                // The canonical URI escapes the decoded path segments, as the server sees them.
                let path = percent_decode(url.path());
                let (canonical, signed_headers) = sign::canonical_request(method, &path, query, &to_sign, body);
                tracing::trace!(signed_headers = %signed_headers, "signing request");
                let signature = sign::signature(secret_key.expose(), &date, &canonical);
                let mut auth_value =
                    HeaderValue::from_str(&sign::authorization(access_key, &signed_headers, &signature))
                        .map_err(|_| Error::config("access_key contains invalid characters"))?;
                auth_value.set_sensitive(true);
                headers.insert(HOST, header_value(&host)?);
                headers.insert(HeaderName::from_static("x-sdk-date"), header_value(&date)?);
                for (name, value) in signed {
                    headers.insert(HeaderName::from_static(name), header_value(value)?);
                }
                if let Some(t) = security_token {
                    headers.insert(HeaderName::from_static("x-security-token"), t.clone());
                }
                headers.insert(AUTHORIZATION, auth_value);
            }
        }
        Ok(())
    }
}

/// What a signature covers besides `host` and `x-sdk-date`.
#[derive(Clone, Copy)]
pub(crate) struct Unsigned<'a> {
    pub method: &'a str,
    pub url: &'a Url,
    /// The URL's query, in canonical form (as it is sent).
    pub query: &'a str,
    /// More headers to send and sign.
    pub signed: &'a [(&'static str, String)],
    pub body: &'a [u8],
}

/// The authentication of a client: whatever credentials its [`CredentialProvider`] holds at
/// the moment a request is signed (fixed ones, or temporary ones renewed before they expire).
/// Cheap to clone.
#[derive(Clone)]
pub(crate) struct Auth(Arc<CredentialProvider>);

impl Auth {
    /// Fixed credentials.
    #[cfg(test)]
    pub fn from_credentials(c: &Credentials) -> Result<Auth, Error> {
        Ok(Auth(Arc::new(CredentialProvider::fixed(Signer::from_credentials(c)?))))
    }

    pub fn new(provider: Arc<CredentialProvider>) -> Auth {
        Auth(provider)
    }

    pub fn provider(&self) -> &Arc<CredentialProvider> {
        &self.0
    }

    /// Every secret this client has used so far (base and temporary credentials, metadata
    /// tokens), for scrubbing them from any text that reaches the user.
    pub fn secrets(&self) -> Vec<Secret> {
        self.0.secrets()
    }
}

fn sensitive(value: &str, what: &str) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(value.trim())
        .map_err(|_| Error::config(format!("{what} contains characters not allowed in a header")))?;
    v.set_sensitive(true);
    Ok(v)
}

/// `host[:port]` exactly as a request to `url` carries it (port only when not the default).
pub(crate) fn host_of(url: &Url) -> Result<String, Error> {
    let host = url.host_str().ok_or_else(|| Error::config(format!("{url} has no host")))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// A request ready to send, with the parts that are safe to log.
pub(crate) struct Built {
    pub url: Url,
    pub headers: HeaderMap,
}

/// Builds one signed GET request for `pairs` at time `now`, with the credentials `auth` holds
/// now.
pub(crate) fn build(
    ep: &Endpoint,
    auth: &Auth,
    project_id: &str,
    pairs: &[(String, String)],
    now: SystemTime,
) -> Result<Built, Error> {
    let query = sign::canonical_query(pairs);
    let mut url = ep.url.clone();
    // The canonical query contains only unreserved characters, '%', '=' and '&', none of which
    // the URL parser re-encodes: the bytes sent are the bytes signed.
    url.set_query(if query.is_empty() { None } else { Some(&query) });
    if url.query().unwrap_or("") != query {
        return Err(Error::config("the request query would differ from the signed canonical query"));
    }
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let signer = auth.0.signer()?;
    let project = [("x-project-id", project_id.to_owned())];
    // A token needs no project header; AK/SK requests carry and sign it.
    let signed: &[(&'static str, String)] = match &signer.signer {
        Signer::Token(_) => &[],
        Signer::AkSk { .. } => &project,
    };
    let request = Unsigned { method: "GET", url: &url, query: &query, signed, body: b"" };
    signer.signer.authenticate(&mut headers, &request, now)?;
    Ok(Built { url, headers })
}

/// Decodes `%XX` sequences of a URL path; the path is returned as-is when the result would not
/// be UTF-8 or a `%` is not followed by two hex digits.
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(v) => {
                    out.push(v);
                    i += 3;
                    continue;
                }
                None => return path.to_owned(),
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_owned())
}

fn header_value(v: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(v).map_err(|_| Error::config(format!("{v:?} is not a valid header value")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hss::Secret;
    use std::time::{Duration, UNIX_EPOCH};

    fn pairs() -> Vec<(String, String)> {
        vec![
            ("offset".into(), "0".into()),
            ("limit".into(), "200".into()),
            ("host_id".into(), "host-a".into()),
            ("host_name".into(), "my host+1/é~".into()),
            ("type".into(), "TCP".into()),
        ]
    }

    #[test]
    fn endpoint_from_region() {
        let ep = Endpoint::resolve(None, Some("cn-north-4"), "myhuaweicloud.com", "p").unwrap();
        assert_eq!(ep.base, "https://hss.cn-north-4.myhuaweicloud.com");
        assert_eq!(ep.url.as_str(), "https://hss.cn-north-4.myhuaweicloud.com/v5/p/asset/ports");
        assert_eq!(host_of(&ep.url).unwrap(), "hss.cn-north-4.myhuaweicloud.com");
        assert!(Endpoint::resolve(None, None, "x", "p").is_err());
        assert!(Endpoint::resolve(None, Some("a/b"), "x", "p").is_err());
    }

    #[test]
    fn endpoint_as_is_with_or_without_slash() {
        for e in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            let ep = Endpoint::resolve(Some(e), Some("ignored"), "", "p").unwrap();
            assert_eq!(ep.base, "http://127.0.0.1:8080");
            assert_eq!(ep.url.as_str(), "http://127.0.0.1:8080/v5/p/asset/ports");
            assert_eq!(host_of(&ep.url).unwrap(), "127.0.0.1:8080");
        }
        let ep = Endpoint::resolve(Some("https://gw.example.com:443/hss/"), None, "", "p").unwrap();
        assert_eq!(ep.url.as_str(), "https://gw.example.com/hss/v5/p/asset/ports");
        assert_eq!(host_of(&ep.url).unwrap(), "gw.example.com");
        let ep = Endpoint::resolve(Some("http://[::1]:9000"), None, "", "p").unwrap();
        assert_eq!(host_of(&ep.url).unwrap(), "[::1]:9000");
        for bad in ["ftp://x", "not a url", "http://u:p@x", "http://x/?a=1"] {
            assert!(Endpoint::resolve(Some(bad), None, "", "p").is_err(), "{bad}");
        }
    }

    #[test]
    fn query_sent_is_the_signed_one() {
        let ep = Endpoint::resolve(None, Some("cn-north-4"), "myhuaweicloud.com", "p").unwrap();
        let auth = Auth::from_credentials(&Credentials::AkSk {
            access_key: "AKTEST".into(),
            secret_key: Secret::new("SKSECRET".into()),
            security_token: None,
        })
        .unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        let b = build(&ep, &auth, "p", &pairs(), now).unwrap();
        assert_eq!(
            b.url.as_str(),
            "https://hss.cn-north-4.myhuaweicloud.com/v5/p/asset/ports?\
             host_id=host-a&host_name=my%20host%2B1%2F%C3%A9~&limit=200&offset=0&type=TCP"
        );
        assert_eq!(b.headers["x-sdk-date"], "20240102T030405Z");
        assert_eq!(b.headers["host"], "hss.cn-north-4.myhuaweicloud.com");
        assert_eq!(b.headers["x-project-id"], "p");
        // Same vector as sign::tests::fixed_vector_default_port (computed with Python).
        assert_eq!(
            b.headers["authorization"],
            "SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=host;x-project-id;x-sdk-date, \
             Signature=e034c0ca29218f9137f631a46ebd2d9668adf56acd9aae23c9e11e171b215558"
        );
        assert!(b.headers["authorization"].is_sensitive());
        assert!(!b.headers.contains_key("x-auth-token"));
        assert!(!format!("{:?}", b.headers).contains("e034c0ca"));
    }

    #[test]
    fn security_token_is_sent_and_signed() {
        let ep = Endpoint::resolve(Some("http://127.0.0.1:8443"), None, "", "p").unwrap();
        let auth = Auth::from_credentials(&Credentials::AkSk {
            access_key: "ak".into(),
            secret_key: Secret::new("sk".into()),
            security_token: Some(Secret::new("tok".into())),
        })
        .unwrap();
        let pairs: Vec<(String, String)> =
            vec![("host_id".into(), "h".into()), ("limit".into(), "10".into()), ("offset".into(), "0".into())];
        let now = UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        let b = build(&ep, &auth, "p", &pairs, now).unwrap();
        assert_eq!(b.headers["x-security-token"], "tok");
        assert!(b.headers["x-security-token"].is_sensitive());
        assert_eq!(b.headers["host"], "127.0.0.1:8443");
        // Same vector as sign::tests::fixed_vector_with_port_and_security_token.
        assert!(
            b.headers["authorization"]
                .to_str()
                .unwrap()
                .ends_with("SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature=5ac3103d856189671073b94f6759d57364cd8682b6f96849ff6aaa82f4e8f8b4")
        );
    }

    #[test]
    fn path_is_decoded_before_signing() {
        assert_eq!(percent_decode("/a%20b/%C3%A9/c"), "/a b/é/c");
        assert_eq!(percent_decode("/plain/path"), "/plain/path");
        assert_eq!(percent_decode("/bad%2"), "/bad%2");
        assert_eq!(percent_decode("/bad%zz"), "/bad%zz");
        assert_eq!(percent_decode("/not-utf8%FF"), "/not-utf8%FF");
        // An endpoint path with an escaped space is signed as the single escape, not "%2520".
        let ep = Endpoint::resolve(Some("http://h/my%20gw"), None, "", "p").unwrap();
        let auth = Auth::from_credentials(&Credentials::AkSk {
            access_key: "ak".into(),
            secret_key: Secret::new("sk".into()),
            security_token: None,
        })
        .unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        let b = build(&ep, &auth, "p", &pairs(), now).unwrap();
        let date = sign::sdk_date(now);
        let signed = [
            ("host".to_owned(), "h".to_owned()),
            ("x-sdk-date".to_owned(), date.clone()),
            ("x-project-id".to_owned(), "p".to_owned()),
        ];
        let q = sign::canonical_query(&pairs());
        let (cr, _) = sign::canonical_request("GET", "/my gw/v5/p/asset/ports", &q, &signed, b"");
        assert!(cr.starts_with("GET\n/my%20gw/v5/p/asset/ports/\n"), "{cr}");
        let sig = sign::signature("sk", &date, &cr);
        assert!(b.headers["authorization"].to_str().unwrap().ends_with(&sig));
    }

    #[test]
    fn token_mode_sends_only_the_token() {
        let ep = Endpoint::resolve(Some("http://127.0.0.1:1"), None, "", "p").unwrap();
        let auth = Auth::from_credentials(&Credentials::Token(Secret::new("t0k".into()))).unwrap();
        let b = build(&ep, &auth, "p", &pairs(), SystemTime::now()).unwrap();
        assert_eq!(b.headers["x-auth-token"], "t0k");
        assert!(b.headers["x-auth-token"].is_sensitive());
        assert!(!b.headers.contains_key("authorization"));
        assert!(!b.headers.contains_key("x-sdk-date"));
        assert!(Auth::from_credentials(&Credentials::Token(Secret::default())).is_err());
    }

    #[test]
    fn other_apis_of_the_project_share_the_endpoint() {
        let ep = Endpoint::resolve(Some("https://gw.example.com/hss/"), None, "", "p 1").unwrap();
        let hosts = ep.with_path("host-management/hosts");
        assert_eq!(hosts.url.as_str(), "https://gw.example.com/hss/v5/p%201/host-management/hosts");
        assert_eq!(hosts.base, ep.base);
        let stats = ep.with_path("/asset/port/statistics");
        assert_eq!(stats.url.path(), "/hss/v5/p%201/asset/port/statistics");
        assert_eq!(ep.with_path("asset/ports").url, ep.url);
    }
}
