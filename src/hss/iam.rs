//! The two IAM calls the client makes, signed like every HSS request:
//!
//! - `GET {iam}/v3/projects?name={name}`: the project ID of a region, looked up once per
//!   client when `project_id` is not configured;
//! - `POST {iam}/v3.0/OS-CREDENTIAL/securitytokens`: temporary AK/SK and security token of an
//!   assumed agency (`assume_role`).
//!
//! Both retry like HSS requests (429, 5xx, dropped connections). Their failures are told as
//! configuration problems, with the region or the agency named and what to check; they never
//! quote a credential (the callers scrub every secret the client holds, too).

use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url};
use tokio_util::sync::CancellationToken;

use super::config::{AssumeRole, DEFAULT_CLOUD, check_project_id};
use super::credentials::Temporary;
use super::error::{Error, ErrorKind};
use super::error::{chain, request_error};
use super::model::MAX_RESPONSE_BYTES;
use super::request::{Signer, Unsigned};
use super::retry::{self, Policy};
use super::sign;
use super::transport::{BodyError, read_body};
use super::transport::{Failure, parse_retry_after};

const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// Where IAM is: `auth_url` (a URL ending in `/v3`), else `https://iam.{region}.{cloud}/v3`.
#[derive(Clone, Debug)]
pub(crate) struct Iam {
    /// The `/v3` URL, without a trailing slash.
    v3: Url,
    /// Where the credentials came from, for diagnostics (` from the environment (...)`).
    origin: String,
}

impl Iam {
    /// The IAM endpoint, or `None` when neither `auth_url` nor `region` is set.
    pub fn resolve(
        auth_url: Option<&str>,
        region: Option<&str>,
        cloud: &str,
        origin: Option<&str>,
    ) -> Result<Option<Iam>, Error> {
        let origin = origin.map(|o| format!(" from {o}")).unwrap_or_default();
        let raw = match (
            auth_url.map(str::trim).filter(|u| !u.is_empty()),
            region.map(str::trim).filter(|r| !r.is_empty()),
        ) {
            (Some(url), _) => url.to_owned(),
            (None, Some(region)) => {
                let cloud = match cloud.trim() {
                    "" => DEFAULT_CLOUD,
                    c => c,
                };
                format!("https://iam.{region}.{cloud}/v3")
            }
            (None, None) => return Ok(None),
        };
        let v3 = Url::parse(&raw).map_err(|e| Error::config(format!("auth_url {raw:?} is not a valid URL: {e}")))?;
        if !matches!(v3.scheme(), "http" | "https") || v3.host_str().is_none() {
            return Err(Error::config(format!("auth_url {raw:?} must be an https:// (or http://) URL")));
        }
        if !v3.username().is_empty() || v3.password().is_some() || v3.query().is_some() || v3.fragment().is_some() {
            return Err(Error::config(format!("auth_url {raw:?} must not have a user, password, query or fragment")));
        }
        if !v3.path().trim_end_matches('/').ends_with("/v3") {
            return Err(Error::config(format!(
                "auth_url {raw:?} must end in /v3, like https://iam.myhuaweicloud.com/v3"
            )));
        }
        let mut v3 = v3;
        let path = v3.path().trim_end_matches('/').to_owned();
        v3.set_path(&path);
        Ok(Some(Iam { v3, origin }))
    }

    /// The `/v3` URL, as shown in messages.
    pub fn url(&self) -> &str {
        self.v3.as_str()
    }

    fn projects(&self) -> Url {
        let mut url = self.v3.clone();
        url.set_path(&format!("{}/projects", self.v3.path()));
        url
    }

    fn security_tokens(&self) -> Url {
        let mut url = self.v3.clone();
        let root = self.v3.path().strip_suffix("/v3").unwrap_or("");
        url.set_path(&format!("{root}/v3.0/OS-CREDENTIAL/securitytokens"));
        url
    }
}

/// One IAM request with retries: the 2xx body (never logged: it may hold credentials), or the
/// final error.
struct Call {
    method: Method,
    url: Url,
    /// The URL's query, canonical.
    query: String,
    body: Vec<u8>,
}

async fn send(
    http: &reqwest::Client,
    signer: &Signer,
    call: Call,
    policy: Policy,
    timeout: Duration,
) -> Result<Vec<u8>, Error> {
    let never = CancellationToken::new();
    let call = &call;
    retry::run(policy, 0, &never, |_attempt| {
        let (method, url, body) = (call.method.clone(), call.url.clone(), call.body.clone());
        async move {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
            let signed: Vec<(&'static str, String)> =
                if method == Method::GET { Vec::new() } else { vec![("content-type", JSON_UTF8.to_owned())] };
            let unsigned =
                Unsigned { method: method.as_str(), url: &url, query: &call.query, signed: &signed, body: &body };
            signer.authenticate(&mut headers, &unsigned, SystemTime::now())?;
            let request = http
                .request(method, url)
                .headers(headers)
                .body(body)
                .build()
                .map_err(|e| Error::config(format!("cannot build the IAM request: {}", chain(&e))))?;
            // The same bounds as for HSS: a body over the limit is refused, not held.
            let exchange = async {
                let mut response = http.execute(request).await?;
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = read_body(&mut response, MAX_RESPONSE_BYTES).await;
                Ok::<_, reqwest::Error>((status, headers, body))
            };
            let (status, headers, body) = match tokio::time::timeout(timeout, exchange).await {
                Err(_) => return Err(Error::new(ErrorKind::Timeout { timeout, retries: 0 }).into()),
                Ok(Err(e)) => return Err(request_error(&e).into()),
                Ok(Ok(r)) => r,
            };
            let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
            tracing::debug!(status, request_id = request_id.as_deref().unwrap_or(""), "IAM request");
            let body = match body {
                Ok(body) => body,
                Err(BodyError::TooLarge { declared }) => {
                    let kind = ErrorKind::ResponseTooLarge { status, limit: MAX_RESPONSE_BYTES, declared, request_id };
                    return Err(Error::new(kind).into());
                }
                Err(BodyError::Read(e)) => return Err(request_error(&e).into()),
            };
            if (200..300).contains(&status) {
                return Ok(body);
            }
            let retry_after = if status == 429 {
                headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()))
            } else {
                None
            };
            Err(Failure { error: Error::from_response(status, &normalise_error_body(&body), request_id), retry_after })
        }
    })
    .await
}

/// IAM answers errors as `{"error":{"code":403,"message":"...","title":"Forbidden"}}`, the API
/// gateway as `{"error_code":"...","error_msg":"..."}`: both become the latter.
fn normalise_error_body(body: &[u8]) -> Vec<u8> {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    if json.get("error_code").is_some() || json.get("error_msg").is_some() {
        return body.to_vec();
    }
    let Some(error) = json.get("error").filter(|e| e.is_object()) else {
        return body.to_vec();
    };
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let code = text(error.get("title")).or_else(|| text(error.get("code")));
    let message = text(error.get("message"));
    serde_json::json!({ "error_code": code, "error_msg": message }).to_string().into_bytes()
}

/// What IAM answered, without quoting anything but its own error code and message.
fn detail(e: &Error) -> String {
    let mut out = match e.status() {
        Some(status) => {
            let mut s = format!("HTTP {status}");
            if let Some(code) = e.error_code() {
                s.push_str(&format!(" {code}"));
            }
            if let Some(msg) = e.error_msg() {
                s.push_str(&format!(": {msg}"));
            }
            s
        }
        None => match e.kind() {
            ErrorKind::Transport { message, .. } => message.clone(),
            ErrorKind::Timeout { timeout, .. } => format!("no answer within {:.0} s", timeout.as_secs_f64()),
            _ => e.to_string(),
        },
    };
    if let Some(id) = e.request_id() {
        out.push_str(&format!(", request id {id}"));
    }
    match e.retries() {
        0 => {}
        1 => out.push_str(", after 1 retry"),
        n => out.push_str(&format!(", after {n} retries")),
    }
    out
}

/// The project ID named `name` (by default the region's name), or a message that names the
/// region and says what to check.
pub(crate) async fn lookup_project(
    http: &reqwest::Client,
    iam: &Iam,
    signer: &Signer,
    name: &str,
    region: Option<&str>,
    policy: Policy,
    timeout: Duration,
) -> Result<String, String> {
    let what = match region {
        Some(region) if region != name => format!("the project ID of project {name:?} (region {region:?})"),
        _ => format!("the project ID of region {name:?}"),
    };
    let context = format!("cannot find {what}, which is looked up because project_id is not set");
    let skip = "or set project_id (HW_PROJECT_ID) to skip the lookup";
    let pairs = [("name".to_owned(), name.to_owned())];
    let query = sign::canonical_query(&pairs);
    let mut url = iam.projects();
    url.set_query(Some(&query));
    let origin = &iam.origin;
    let at = iam.url();
    tracing::debug!(project_name = name, iam = at, "looking up the project ID");
    let call = Call { method: Method::GET, url, query, body: Vec::new() };
    let body = match send(http, signer, call, policy, timeout).await {
        Ok(r) => r,
        Err(e) => {
            let detail = detail(&e);
            return Err(match e.status() {
                Some(401) => format!(
                    "{context}: IAM at {at} rejected the credentials{origin} ({detail}). Check the access key and \
                     secret key (or the token), that this machine's clock is correct (AK/SK signatures carry the \
                     time), and that auth_url (HW_AUTH_URL) is the IAM of the cloud the credentials belong to; {skip}."
                ),
                Some(403) => format!(
                    "{context}: IAM at {at} refused to list projects ({detail}): the credentials{origin} are not \
                     allowed to. Grant them permission to list IAM projects, {skip}."
                ),
                Some(_) => format!("{context}: IAM at {at} answered {detail}. Check auth_url (HW_AUTH_URL); {skip}."),
                None => format!(
                    "{context}: IAM at {at} cannot be reached ({detail}). Check region and cloud (or auth_url, \
                     HW_AUTH_URL) and the network and proxy settings; {skip}."
                ),
            });
        }
    };
    let json: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
        format!("{context}: IAM at {at} answered with a body that is not JSON. Check auth_url; {skip}.")
    })?;
    let Some(projects) = json.get("projects").and_then(|p| p.as_array()) else {
        return Err(format!("{context}: IAM at {at} answered without a \"projects\" list. Check auth_url; {skip}."));
    };
    // IAM filters by name; an exact match is checked again, as sub-projects share a prefix.
    let ids: Vec<&str> = projects
        .iter()
        .filter(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
        .filter_map(|p| p.get("id").and_then(|i| i.as_str()))
        .collect();
    match ids.as_slice() {
        [id] => {
            check_project_id(id).map_err(|e| format!("{context}: IAM at {at} answered with a project ID that {e}"))?;
            tracing::debug!(project_name = name, project_id = id, "project ID found");
            Ok((*id).to_owned())
        }
        [] => Err(format!(
            "{context}: IAM at {at} has no project named {name:?} that the credentials{origin} can see. Check \
             region (HW_REGION_NAME) and, for a sub-project, project_name (HW_PROJECT_NAME, such as \
             \"{name}_sub1\"); check that the credentials belong to the account that owns the project; {skip}."
        )),
        many => Err(format!(
            "{context}: IAM at {at} has {} projects named {name:?} ({}), so the one to use is ambiguous. Set \
             project_id (HW_PROJECT_ID) to one of them.",
            many.len(),
            many.join(", ")
        )),
    }
}

/// Temporary credentials of the agency `role`, obtained with `base`.
pub(crate) async fn assume_role(
    http: &reqwest::Client,
    iam: &Iam,
    base: &Signer,
    role: &AssumeRole,
    policy: Policy,
    timeout: Duration,
) -> Result<Temporary, String> {
    let domain = match (&role.domain_name, &role.domain_id) {
        (Some(name), _) => format!("domain {name:?}"),
        (None, Some(id)) => format!("domain ID {id:?}"),
        (None, None) => "no domain".to_owned(),
    };
    let context = format!("cannot assume agency {:?} of {domain} (assume_role)", role.agency_name);
    let mut assume = serde_json::Map::new();
    assume.insert("agency_name".into(), role.agency_name.clone().into());
    if let Some(name) = &role.domain_name {
        assume.insert("domain_name".into(), name.clone().into());
    } else if let Some(id) = &role.domain_id {
        assume.insert("domain_id".into(), id.clone().into());
    }
    assume.insert("duration_seconds".into(), role.duration_seconds.into());
    let body = serde_json::json!({
        "auth": { "identity": { "methods": ["assume_role"], "assume_role": assume } }
    });
    let at = iam.url();
    let origin = &iam.origin;
    tracing::debug!(agency = %role.agency_name, iam = at, "assuming an agency");
    let url = iam.security_tokens();
    let call = Call { method: Method::POST, url, query: String::new(), body: body.to_string().into_bytes() };
    let body = match send(http, base, call, policy, timeout).await {
        Ok(r) => r,
        Err(e) => {
            let detail = detail(&e);
            return Err(match e.status() {
                Some(401) => format!(
                    "{context}: IAM at {at} rejected the base credentials{origin} ({detail}). Check them, and that \
                     this machine's clock is correct."
                ),
                Some(403) | Some(404) => format!(
                    "{context}: IAM at {at} refused ({detail}). Check agency_name and domain_name \
                     (HW_ASSUME_ROLE_AGENCY_NAME, HW_ASSUME_ROLE_DOMAIN_NAME): the agency must exist in that \
                     account and be delegated to the account of the base credentials{origin}, which must be \
                     allowed to assume it."
                ),
                Some(400) => format!(
                    "{context}: IAM at {at} rejected the request ({detail}). Check agency_name, domain_name and \
                     duration (900 to 43200 seconds)."
                ),
                Some(_) => format!("{context}: IAM at {at} answered {detail}."),
                None => format!(
                    "{context}: IAM at {at} cannot be reached ({detail}). Check region and cloud (or auth_url, \
                     HW_AUTH_URL) and the network and proxy settings."
                ),
            });
        }
    };
    Temporary::parse(&body, &format!("IAM at {at}")).map_err(|e| format!("{context}: {e}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let iam = Iam::resolve(None, Some("cn-north-4"), "myhuaweicloud.com", None).unwrap().unwrap();
        assert_eq!(iam.url(), "https://iam.cn-north-4.myhuaweicloud.com/v3");
        assert_eq!(iam.projects().as_str(), "https://iam.cn-north-4.myhuaweicloud.com/v3/projects");
        assert_eq!(
            iam.security_tokens().as_str(),
            "https://iam.cn-north-4.myhuaweicloud.com/v3.0/OS-CREDENTIAL/securitytokens"
        );
        let iam = Iam::resolve(Some("http://127.0.0.1:9/gw/v3/"), Some("x"), "", None).unwrap().unwrap();
        assert_eq!(iam.projects().as_str(), "http://127.0.0.1:9/gw/v3/projects");
        assert_eq!(iam.security_tokens().as_str(), "http://127.0.0.1:9/gw/v3.0/OS-CREDENTIAL/securitytokens");
        assert!(Iam::resolve(None, None, "", None).unwrap().is_none());
        for bad in ["http://127.0.0.1:9", "ftp://h/v3", "not a url", "http://h/v3?x=1"] {
            let e = Iam::resolve(Some(bad), None, "", None).unwrap_err();
            assert!(e.to_string().contains("auth_url"), "{e}");
        }
    }

    #[test]
    fn iam_error_bodies_are_read() {
        let body = normalise_error_body(br#"{"error":{"code":403,"message":"no agency","title":"Forbidden"}}"#);
        let e = Error::from_response(403, &body, None);
        assert_eq!((e.error_code(), e.error_msg()), (Some("Forbidden"), Some("no agency")));
        let apigw = br#"{"error_code":"APIGW.0301","error_msg":"bad"}"#;
        assert_eq!(normalise_error_body(apigw), apigw.to_vec());
        assert_eq!(
            detail(&Error::from_response(401, apigw, Some("r1".into()))),
            "HTTP 401 APIGW.0301: bad, request id r1"
        );
    }
}
