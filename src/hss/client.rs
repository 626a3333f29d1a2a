//! `Client`: one per provider instance, cheap to clone (an `Arc` inside), so every concurrent
//! read shares the same connection pool, the same provider-wide limits, the same credentials
//! and the same project ID.
//!
//! Nothing is sent when the client is built (so `terraform validate` and a plan without reads
//! need no network and no credentials). Before its first request the client obtains temporary
//! credentials (when configured) and, without a configured `project_id`, looks the project up
//! through IAM: once per client, whatever the number of concurrent reads, the answer (or the
//! failure) shared by all of them.

use std::fmt;
use std::sync::Arc;

use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use super::config::ClientConfig;
use super::credentials::CredentialProvider;
use super::error::{Error, ErrorKind};
use super::iam::{self, Iam};
use super::limits::Limits;
use super::model::{ListRequest, Listing, PortList, PortQuery, Record};
use super::paging;
use super::request::{Auth, Endpoint};
use super::retry::Policy;
use super::transport::Transport;

/// The HSS API client.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Shared>,
}

/// What every clone shares.
struct Shared {
    config: ClientConfig,
    /// The HSS base URL (checked when the client is built).
    base_url: String,
    http: reqwest::Client,
    auth: Auth,
    iam: Option<Iam>,
    /// The transport, built once the project ID is known; a failed lookup is kept too, so that
    /// 200 reads waiting for it make one lookup, not 200.
    transport: OnceCell<Result<Arc<Transport>, String>>,
}

impl Client {
    /// Validates the configuration and builds the HTTP client (no request is sent).
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        Self::with_env(config, &|name| std::env::var(name).ok())
    }

    /// [`Client::new`], reading the proxy variables (`HTTPS_PROXY`, `NO_PROXY`, ...) through
    /// `env` instead of the process environment: the provider passes the environment it was
    /// given, so that tests decide what it sees.
    pub(crate) fn with_env(config: ClientConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Client, Error> {
        config.validate()?;
        // The endpoint is checked now, with a placeholder for a project ID still to be found.
        let placeholder = if config.project_id.is_empty() { "project" } else { config.project_id.as_str() };
        let endpoint =
            Endpoint::resolve(config.endpoint.as_deref(), config.region.as_deref(), &config.cloud, placeholder)?;
        let iam = Iam::resolve(
            config.iam_endpoint.as_deref(),
            config.region.as_deref(),
            &config.cloud,
            config.credentials_origin.as_deref(),
        )?;

        // TLS roots and proxies (loopback always direct): `transport::http_client`.
        let http = super::transport::http_client(&config, &endpoint.base, env)?;
        let credentials = CredentialProvider::from_config(&config, &http, iam.clone())?;
        let auth = Auth::new(Arc::new(credentials));
        tracing::debug!(
            endpoint = %endpoint.base,
            max_concurrent_requests = config.max_concurrent_requests,
            requests_per_second = config.requests_per_second,
            max_retries = config.max_retries,
            project_lookup = config.project_id.is_empty(),
            temporary_credentials = config.renews_credentials(),
            credentials_from = config.credentials_origin.as_deref().unwrap_or(""),
            "HSS client ready"
        );
        let transport = OnceCell::new();
        if !config.project_id.is_empty() {
            let project_id = config.project_id.clone();
            let built = Self::transport_for(&config, &http, &auth, project_id)?;
            let _ = transport.set(Ok(Arc::new(built)));
        }
        let base_url = endpoint.base;
        Ok(Client { inner: Arc::new(Shared { config, base_url, http, auth, iam, transport }) })
    }

    fn transport_for(
        config: &ClientConfig,
        http: &reqwest::Client,
        auth: &Auth,
        project_id: String,
    ) -> Result<Transport, Error> {
        let endpoint =
            Endpoint::resolve(config.endpoint.as_deref(), config.region.as_deref(), &config.cloud, &project_id)?;
        let limits = Limits::new(config.max_concurrent_requests, config.requests_per_second);
        let config = ClientConfig { project_id, ..config.clone() };
        Ok(Transport { http: http.clone(), config, endpoint, auth: auth.clone(), limits })
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The configuration this client was built from (`project_id` empty when it is looked up).
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The project ID: the configured one, or the one IAM gave (looked up now if need be).
    pub async fn project_id(&self) -> Result<String, Error> {
        Ok(self.transport().await?.config.project_id.clone())
    }

    /// Every secret the client has used so far (base and temporary credentials, metadata
    /// tokens): what must never appear in any text shown to the user.
    pub fn secrets(&self) -> Vec<super::Secret> {
        self.inner.auth.secrets()
    }

    /// How many times temporary credentials were obtained (0 with fixed credentials).
    pub fn credential_renewals(&self) -> u64 {
        self.inner.auth.provider().renewals()
    }

    /// The transport, once credentials and the project ID are known.
    async fn transport(&self) -> Result<Arc<Transport>, Error> {
        let shared = &self.inner;
        let credentials = shared.auth.provider();
        if let Some(ready) = shared.transport.get() {
            return ready.clone().map_err(Error::config);
        }
        let result = shared
            .transport
            .get_or_try_init(|| async {
                // Credentials first: a failure to obtain them is not the lookup's, and is not kept.
                let current = credentials.current().await?;
                let Some(iam) = &shared.iam else {
                    return Ok(Err(
                        "project_id is not set, and neither auth_url nor region is set to look it up".into()
                    ));
                };
                let name = shared.config.project_name().unwrap_or_default().to_owned();
                let lookup = iam::lookup_project(
                    &shared.http,
                    iam,
                    &current.signer,
                    &name,
                    shared.config.region.as_deref(),
                    Policy::from_config(&shared.config),
                    shared.config.request_timeout,
                )
                .await
                .map_err(|message| credentials.redact(&message));
                Ok::<_, Error>(lookup.and_then(|project_id| {
                    Self::transport_for(&shared.config, &shared.http, &shared.auth, project_id)
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                }))
            })
            .await?;
        result.clone().map_err(Error::config)
    }

    /// Lists all open ports of one server: reads every page (concurrently after the first),
    /// checks the pages add up to `total_num`, and re-reads the list when they do not.
    pub async fn list_ports(&self, query: &PortQuery, cancel: &CancellationToken) -> Result<PortList, Error> {
        let listing = self.list(&query.request(), cancel).await?;
        Ok(PortList { total_num: listing.total_num, ports: listing.records })
    }

    /// Reads a complete `{total_num, data_list}` list of any API of the project, in overlapping
    /// pages, through the same transport and limits (see `paging`). Temporary credentials are
    /// renewed while the read runs, whenever they fall due.
    pub async fn list<T: Record>(
        &self,
        request: &ListRequest,
        cancel: &CancellationToken,
    ) -> Result<Listing<T>, Error> {
        let transport = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Error::cancelled()),
            t = self.transport() => t?,
        };
        let credentials = self.inner.auth.provider();
        if !credentials.rotates() {
            return paging::list_all(&transport, request, cancel).await;
        }
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Error::cancelled()),
            c = credentials.current() => { c?; }
        }
        let result = tokio::select! {
            biased;
            result = paging::list_all(&transport, request, cancel) => result,
            error = credentials.keep_fresh() => Err(error),
        };
        result.map_err(|e| self.redact(e))
    }

    /// Scrubs every secret held (temporary ones included) from the texts a server chose.
    fn redact(&self, error: Error) -> Error {
        let credentials = self.inner.auth.provider();
        error.map_text(|kind| match kind {
            ErrorKind::Api { error_code, error_msg, body, request_id, .. } => {
                for text in [error_code, error_msg, body, request_id].into_iter().flatten() {
                    *text = credentials.redact(text);
                }
            }
            ErrorKind::Malformed { body, reason, .. } => {
                *body = credentials.redact(body);
                *reason = credentials.redact(reason);
            }
            ErrorKind::Config(message) => *message = credentials.redact(message),
            _ => {}
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("base_url", &self.base_url()).finish_non_exhaustive()
    }
}

/// `terraform-provider-hss/{version}`, plus ` terraform/{version}` when known.
pub fn user_agent(terraform_version: Option<&str>) -> String {
    let mut ua = format!("terraform-provider-hss/{}", crate::VERSION);
    if let Some(v) = terraform_version.map(str::trim).filter(|v| !v.is_empty()) {
        let v: String = v.chars().filter(|c| c.is_ascii_graphic()).collect();
        ua.push_str(" terraform/");
        ua.push_str(&v);
    }
    ua
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hss::{Credentials, Secret};

    #[test]
    fn user_agent_format() {
        let v = crate::VERSION;
        assert_eq!(user_agent(None), format!("terraform-provider-hss/{v}"));
        assert_eq!(user_agent(Some("1.0.3")), format!("terraform-provider-hss/{v} terraform/1.0.3"));
        assert_eq!(user_agent(Some("")), format!("terraform-provider-hss/{v}"));
    }

    fn token_config() -> ClientConfig {
        ClientConfig {
            endpoint: Some("http://127.0.0.1:9/".into()),
            ..ClientConfig::new("p", Credentials::Token(Secret::new("a-long-token-value".into())))
        }
    }

    #[test]
    fn new_and_base_url() {
        let c = Client::new(token_config()).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9");
        let c2 = c.clone();
        assert!(Arc::ptr_eq(&c.inner, &c2.inner));
        assert_eq!(c.secrets().iter().map(|s| s.expose().to_owned()).collect::<Vec<_>>(), ["a-long-token-value"]);
        assert!(!format!("{c:?}").contains("a-long-token-value"));
        let c = Client::new(ClientConfig { endpoint: None, region: Some("ap-southeast-1".into()), ..token_config() })
            .unwrap();
        assert_eq!(c.base_url(), "https://hss.ap-southeast-1.myhuaweicloud.com");
    }

    #[test]
    fn bad_cacert_is_a_config_error() {
        let e = Client::new(ClientConfig { cacert_pem: Some(b"not a pem".to_vec()), ..token_config() }).unwrap_err();
        assert!(e.is_config(), "{e}");
        assert!(e.to_string().contains("cacert"), "{e}");
    }

    #[test]
    fn insecure_builds() {
        assert!(Client::new(ClientConfig { insecure: true, ..token_config() }).is_ok());
    }

    #[tokio::test]
    async fn redacts_secrets_from_server_text() {
        let c = Client::new(token_config()).unwrap();
        let transport = c.transport().await.unwrap();
        let e = Error::from_response(400, br#"{"error_code":"X","error_msg":"bad token a-long-token-value"}"#, None);
        let e = transport.redact(e);
        assert_eq!(e.error_msg(), Some("bad token ***"));
        let e = transport.redact(Error::from_response(502, b"<p>a-long-token-value</p>", None));
        assert!(!e.to_string().contains("a-long-token-value"));
    }

    #[tokio::test]
    async fn a_project_to_look_up_needs_a_name_and_sends_nothing_when_built() {
        let lookup = ClientConfig { project_id: String::new(), region: Some("cn-north-4".into()), ..token_config() };
        let c = Client::new(lookup.clone()).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9");
        assert!(c.inner.transport.get().is_none(), "nothing is looked up before a read");
        let e = Client::new(ClientConfig { region: None, ..lookup }).unwrap_err();
        assert!(e.to_string().contains("project_name nor region"), "{e}");
    }
}
