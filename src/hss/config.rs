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

/// The default ECS metadata address (`use_ecs_agency`); `HW_ECS_METADATA_ENDPOINT` overrides it
/// for tests and unusual networks.
pub const DEFAULT_ECS_METADATA_ENDPOINT: &str = "http://169.254.169.254";

/// Shortest and longest `duration_seconds` IAM accepts for an assumed agency.
pub const ASSUME_ROLE_DURATION_RANGE: std::ops::RangeInclusive<u32> = 900..=43200;
/// The default lifetime of assumed-agency credentials, in seconds.
pub const DEFAULT_ASSUME_ROLE_DURATION: u32 = 3600;

/// An agency to assume with the base credentials
/// (`POST {iam}/v3.0/OS-CREDENTIAL/securitytokens`); every HSS request then uses the
/// temporary AK/SK it returns, renewed before they expire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRole {
    /// The agency's name.
    pub agency_name: String,
    /// The name of the account (domain) that created the agency.
    pub domain_name: Option<String>,
    /// Its ID, used when only the ID is known (a KooCLI profile's `agencyDomainId`).
    pub domain_id: Option<String>,
    /// Requested lifetime in seconds, 900 to 43200.
    pub duration_seconds: u32,
}

/// Where the base credentials come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CredentialSource {
    /// [`ClientConfig::credentials`], as given.
    #[default]
    Static,
    /// Temporary credentials of the agency attached to this ECS, from the metadata service at
    /// this base URL (`GET {url}/openstack/latest/securitykey`, after the token
    /// `PUT {url}/meta-data/latest/api/token`). Never contacted unless configured.
    EcsMetadata(String),
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
    /// Project ID (path parameter and, with AK/SK, the `X-Project-Id` header). Empty: looked
    /// up once through IAM (`GET {iam}/v3/projects?name={project_name}`) before the first read.
    pub project_id: String,
    /// The project name to look up; default the region.
    pub project_name: Option<String>,
    /// IAM base URL ending in `/v3` (`auth_url`); default `https://iam.{region}.{cloud}/v3`.
    pub iam_endpoint: Option<String>,
    /// Token or AK/SK (the base credentials when `credential_source` is static).
    pub credentials: Credentials,
    /// Where the base credentials come from.
    pub credential_source: CredentialSource,
    /// An agency to assume on top of the base credentials.
    pub assume_role: Option<AssumeRole>,
    /// Where the credentials were found, for diagnostics (`profile "dev" of ~/.hcloud/config.json`).
    pub credentials_origin: Option<String>,
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
            project_name: None,
            iam_endpoint: None,
            credentials: Credentials::default(),
            credential_source: CredentialSource::Static,
            assume_role: None,
            credentials_origin: None,
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
        if pid.is_empty() {
            // Looked up through IAM: that needs a name and an IAM endpoint.
            if self.project_name().is_none() {
                return Err(Error::config(
                    "project_id is not set, and neither project_name nor region is set to look it up by",
                ));
            }
            if self.iam_endpoint.as_deref().is_none_or(|e| e.trim().is_empty()) && self.region.is_none() {
                return Err(Error::config(
                    "project_id is not set, and neither auth_url nor region is set to look it up",
                ));
            }
        } else {
            check_project_id(pid)?;
        }
        if let Some(role) = &self.assume_role {
            if role.agency_name.trim().is_empty() {
                return Err(Error::config("assume_role needs an agency_name"));
            }
            if role.domain_name.is_none() && role.domain_id.is_none() {
                return Err(Error::config("assume_role needs the domain_name of the account that owns the agency"));
            }
            if !ASSUME_ROLE_DURATION_RANGE.contains(&role.duration_seconds) {
                return Err(Error::config(format!(
                    "assume_role duration must be 900 to 43200 seconds, got {}",
                    role.duration_seconds
                )));
            }
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

    /// The project name to look the project ID up by: `project_name`, else the region.
    pub fn project_name(&self) -> Option<&str> {
        self.project_name.as_deref().or(self.region.as_deref()).map(str::trim).filter(|n| !n.is_empty())
    }

    /// Whether the credentials are temporary ones the client obtains and renews itself.
    pub fn renews_credentials(&self) -> bool {
        self.assume_role.is_some() || self.credential_source != CredentialSource::Static
    }
}

/// Checks a project ID, given or looked up (it becomes a path segment and a header).
pub(crate) fn check_project_id(pid: &str) -> Result<(), super::Error> {
    use super::Error;
    if pid.is_empty() || pid.len() > 256 {
        return Err(Error::config("project_id must be 1 to 256 characters"));
    }
    if !pid.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')) {
        return Err(Error::config("project_id may contain only letters, digits, '-', '_', '.' and '~'"));
    }
    Ok(())
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
        let lookup = ClientConfig { project_id: String::new(), region: Some("cn-north-4".into()), ..ok.clone() };
        assert!(lookup.validate().is_ok(), "looked up by the region's name");
        assert_eq!(lookup.project_name(), Some("cn-north-4"));
        let role = AssumeRole {
            agency_name: "ops".into(),
            domain_name: Some("acme".into()),
            domain_id: None,
            duration_seconds: 899,
        };
        assert!(ClientConfig { assume_role: Some(role.clone()), ..ok.clone() }.validate().is_err());
        let role = AssumeRole { duration_seconds: 900, ..role };
        assert!(ClientConfig { assume_role: Some(role), ..ok.clone() }.validate().is_ok());
        assert!(ClientConfig { project_id: "a/b".into(), ..ok.clone() }.validate().is_err());
        assert!(ClientConfig { max_concurrent_requests: 0, ..ok.clone() }.validate().is_err());
        assert!(ClientConfig { requests_per_second: -1.0, ..ok.clone() }.validate().is_err());
        assert!(ClientConfig { requests_per_second: f64::NAN, ..ok.clone() }.validate().is_err());
        assert!(ClientConfig { request_timeout: Duration::ZERO, ..ok }.validate().is_err());
    }
}
