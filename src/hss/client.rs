//! `Client`: one per provider instance, cheap to clone (an `Arc` inside), so every concurrent
//! read shares the same connection pool and the same provider-wide limits.

use std::fmt;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::config::ClientConfig;
use super::error::Error;
use super::limits::Limits;
use super::listing::{self, ListRequest, Listing};
use super::model::{PortList, PortQuery};
use super::paging;
use super::request::{Auth, Endpoint};
use super::transport::Transport;

/// The HSS API client.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Transport>,
}

impl Client {
    /// Validates the configuration and builds the HTTP client (no request is sent).
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        config.validate()?;
        let endpoint =
            Endpoint::resolve(config.endpoint.as_deref(), config.region.as_deref(), &config.cloud, &config.project_id)?;
        let auth = Auth::from_credentials(&config.credentials)?;

        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent(config.terraform_version.as_deref()))
            .pool_max_idle_per_host(config.max_concurrent_requests);
        if let Some(pem) = &config.cacert_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::config(format!("cacert is not a valid PEM certificate bundle: {e}")))?;
            if certs.is_empty() {
                return Err(Error::config("cacert contains no PEM certificates"));
            }
            builder = builder.tls_certs_merge(certs);
        }
        if config.insecure {
            tracing::warn!(
                endpoint = %endpoint.base,
                "TLS certificate verification is disabled (insecure = true); do not use this in production"
            );
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| Error::config(format!("cannot create the HTTP client: {e}")))?;
        tracing::debug!(
            endpoint = %endpoint.base,
            max_concurrent_requests = config.max_concurrent_requests,
            requests_per_second = config.requests_per_second,
            max_retries = config.max_retries,
            "HSS client ready"
        );
        let limits = Limits::new(config.max_concurrent_requests, config.requests_per_second);
        Ok(Client { inner: Arc::new(Transport { http, config, endpoint, auth, limits }) })
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.endpoint.base
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Lists all open ports of one server: reads every page (concurrently after the first),
    /// checks the pages add up to `total_num`, and re-reads the list when they do not.
    pub async fn list_ports(&self, query: &PortQuery, cancel: &CancellationToken) -> Result<PortList, Error> {
        paging::list_all(&self.inner, query, cancel).await
    }

    /// Reads a complete `{total_num, data_list}` list of any API of the project, in overlapping
    /// pages, through the same transport and limits (see `listing`).
    pub async fn list<T>(&self, request: &ListRequest, cancel: &CancellationToken) -> Result<Listing<T>, Error>
    where
        T: serde::de::DeserializeOwned + PartialEq + Clone + Send,
    {
        listing::list_all(&self.inner, request, cancel).await
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

    #[test]
    fn redacts_secrets_from_server_text() {
        let c = Client::new(token_config()).unwrap();
        let e = Error::from_response(400, br#"{"error_code":"X","error_msg":"bad token a-long-token-value"}"#, None);
        let e = c.inner.redact(e);
        assert_eq!(e.error_msg(), Some("bad token ***"));
        let e = c.inner.redact(Error::from_response(502, b"<p>a-long-token-value</p>", None));
        assert!(!e.to_string().contains("a-long-token-value"));
    }
}
