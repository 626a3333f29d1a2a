//! Client configuration: endpoint, credentials, TLS and the provider-wide limits, with the
//! documented defaults in one place.

use std::time::Duration;

use super::Secret;

/// The default cloud domain (`https://hss.{region}.{cloud}`).
pub const DEFAULT_CLOUD: &str = "myhuaweicloud.com";

/// How the client authenticates. Exactly one mode is used per client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// An IAM token, sent as `X-Auth-Token`.
    Token(Secret),
    /// Access key / secret key, signed with `SDK-HMAC-SHA256`; `security_token` for temporary
    /// credentials (sent and signed as `X-Security-Token`).
    AkSk {
        /// Access key ID (not secret; appears in the `Authorization` header).
        access_key: String,
        /// Secret access key.
        secret_key: Secret,
        /// Security token of temporary credentials.
        security_token: Option<Secret>,
    },
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials::Token(Secret::default())
    }
}

/// Everything the client needs. `Debug` never shows secrets.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Full base URL, used as-is when set (with or without trailing `/`; `http://` allowed).
    pub endpoint: Option<String>,
    /// Region, for `https://hss.{region}.{cloud}` when `endpoint` is not set.
    pub region: Option<String>,
    /// Cloud domain, default `myhuaweicloud.com`.
    pub cloud: String,
    /// Project ID (path parameter and, with AK/SK, the `X-Project-Id` header).
    pub project_id: String,
    /// Token or AK/SK.
    pub credentials: Credentials,
    /// Skip TLS certificate verification (logs a warning).
    pub insecure: bool,
    /// Extra trusted CA certificates (PEM bundle, one or more certificates), added to the system roots.
    pub cacert_pem: Option<Vec<u8>>,
    /// Retries per request after the first attempt (default 5; 0 disables retries).
    pub max_retries: u32,
    /// Provider-wide limit of requests in flight (default 8).
    pub max_concurrent_requests: usize,
    /// Provider-wide request rate limit (default 0 = unlimited).
    pub requests_per_second: f64,
    /// Timeout of each HTTP request, including reading the body (default 30 s).
    pub request_timeout: Duration,
    /// Terraform's version, added to the User-Agent when known.
    pub terraform_version: Option<String>,
    /// First retry back-off ceiling, doubled each retry (default 500 ms).
    pub retry_base_delay: Duration,
    /// Cap for back-off and for `Retry-After` (default 30 s).
    pub retry_max_delay: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            endpoint: None,
            region: None,
            cloud: DEFAULT_CLOUD.to_owned(),
            project_id: String::new(),
            credentials: Credentials::default(),
            insecure: false,
            cacert_pem: None,
            max_retries: 5,
            max_concurrent_requests: 8,
            requests_per_second: 0.0,
            request_timeout: Duration::from_secs(30),
            terraform_version: None,
            retry_base_delay: Duration::from_millis(500),
            retry_max_delay: Duration::from_secs(30),
        }
    }
}

impl ClientConfig {
    /// Defaults with the two things every client needs.
    pub fn new(project_id: impl Into<String>, credentials: Credentials) -> Self {
        ClientConfig { project_id: project_id.into(), credentials, ..Default::default() }
    }

    /// Checks the settings that do not depend on the network.
    pub(crate) fn validate(&self) -> Result<(), super::Error> {
        use super::Error;
        let pid = &self.project_id;
        if pid.is_empty() || pid.len() > 256 {
            return Err(Error::config("project_id must be 1 to 256 characters"));
        }
        if !pid.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')) {
            return Err(Error::config("project_id may contain only letters, digits, '-', '_', '.' and '~'"));
        }
        if self.max_concurrent_requests == 0 {
            return Err(Error::config("max_concurrent_requests must be at least 1"));
        }
        if !self.requests_per_second.is_finite() || self.requests_per_second < 0.0 {
            return Err(Error::config("requests_per_second must be 0 (unlimited) or a positive number"));
        }
        if self.request_timeout.is_zero() {
            return Err(Error::config("request_timeout must be greater than 0"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = ClientConfig::new("p", Credentials::Token(Secret::new("tok-secret".into())));
        assert_eq!(c.cloud, "myhuaweicloud.com");
        assert_eq!(c.max_retries, 5);
        assert_eq!(c.max_concurrent_requests, 8);
        assert_eq!(c.requests_per_second, 0.0);
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.retry_base_delay, Duration::from_millis(500));
        assert_eq!(c.retry_max_delay, Duration::from_secs(30));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn debug_hides_secrets() {
        let c = ClientConfig::new(
            "p",
            Credentials::AkSk {
                access_key: "AK".into(),
                secret_key: Secret::new("super-secret-key".into()),
                security_token: Some(Secret::new("super-secret-token".into())),
            },
        );
        let d = format!("{c:?}");
        assert!(!d.contains("super-secret"), "{d}");
        assert!(d.contains("Secret(***)"));
    }

    #[test]
    fn validation() {
        let ok = ClientConfig::new("p", Credentials::default());
        assert!(ClientConfig { project_id: String::new(), ..ok.clone() }.validate().is_err());
        assert!(ClientConfig { project_id: "a/b".into(), ..ok.clone() }.validate().is_err());
        assert!(ClientConfig { max_concurrent_requests: 0, ..ok.clone() }.validate().is_err());
        assert!(ClientConfig { requests_per_second: -1.0, ..ok.clone() }.validate().is_err());
        assert!(ClientConfig { requests_per_second: f64::NAN, ..ok.clone() }.validate().is_err());
        assert!(ClientConfig { request_timeout: Duration::ZERO, ..ok }.validate().is_err());
    }
}
