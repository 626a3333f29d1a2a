//! The provider block: its schema, the `HW_*` environment fallbacks, and the checks that turn it
//! into an HSS client configuration.
//!
//! Precedence is configuration, then environment variable, then default; an empty string in
//! the block counts as unset, and credentials in the block win over the environment's as a whole. Checks that need only
//! the configuration (a bad number, a token next to an access key) run at validate time; checks
//! that need the environment too (are there credentials at all?) run at configure time, so that
//! `terraform validate` works in CI without credentials.

use std::time::Duration;

use crate::diagnostics::Diagnostic;
use crate::hss::{ClientConfig, Credentials, Secret};
use crate::model::{Between, BlockModel, Meta, Range, terraform_model};
use crate::schema::Schema;
use crate::value::Value;

terraform_model! {
    /// The provider block. Every argument is optional here: each may come from its environment
    /// variable instead.
    pub(crate) struct ProviderArgs {
        optional region: String,
            Meta::new("Region of the HSS endpoint, such as `ap-southeast-1`. Needed unless `endpoint` is set.")
                .env("HW_REGION_NAME");
        optional project_id: String,
            Meta::new("Project ID in that region. Required, here or in the environment.").env("HW_PROJECT_ID");
        optional access_key: String,
            Meta::new(
                "Access key (AK) for `SDK-HMAC-SHA256` request signing. Use with `secret_key`; conflicts with `token`.",
            )
            .env("HW_ACCESS_KEY");
        optional secret_key: String,
            Meta::new("Secret key (SK) that signs requests. Never logged or stored in state.")
                .env("HW_SECRET_KEY")
                .sensitive();
        optional security_token: String,
            Meta::new("Security token of temporary AK/SK credentials, sent as `X-Security-Token`.")
                .env("HW_SECURITY_TOKEN")
                .sensitive();
        optional token: String,
            Meta::new("IAM user token, sent as `X-Auth-Token`. Conflicts with `access_key`/`secret_key`.")
                .env("HW_AUTH_TOKEN")
                .sensitive();
        optional endpoint: String,
            Meta::new(
                "Base URL of the HSS API, such as `http://127.0.0.1:8080` for the bundled simulator. \
                 Default `https://hss.{region}.{cloud}`.",
            )
            .env("HW_HSS_ENDPOINT");
        optional cloud: String,
            Meta::new("Domain of the cloud used to build the default endpoint. Default `myhuaweicloud.com`.")
                .env("HW_CLOUD");
        optional enterprise_project_id: String,
            Meta::new(
                "Enterprise project used by data sources that do not set their own; `all_granted_eps` means all.",
            )
            .env("HW_ENTERPRISE_PROJECT_ID");
        optional insecure: bool,
            Meta::new(
                "Skip TLS certificate verification. For test endpoints only; a warning is logged. Default `false`.",
            )
            .env("HW_INSECURE");
        optional cacert_file: String,
            Meta::new("Path of a PEM bundle added to the system's trusted roots.").env("HW_CACERT_FILE");
        optional max_retries: i64,
            Meta::new(
                "Retries per request after throttling (429), server errors (5xx), timeouts and dropped connections; \
                 `0` disables retries. Default `5`.",
            )
            .env("HW_MAX_RETRIES"),
            Range(0, 100);
        optional max_concurrent_requests: i64,
            Meta::new(
                "Requests in flight at once, shared by every data source read of the run. At least `1`. Default `8`.",
            )
            .env("HW_MAX_CONCURRENT_REQUESTS"),
            Range(1, 256);
        optional requests_per_second: f64,
            Meta::new("Rate limit shared by every read of the run; `0` means unlimited. Default `0`.")
                .env("HW_REQUESTS_PER_SECOND"),
            Between(0.0, 100_000.0);
        optional request_timeout: f64,
            Meta::new("Timeout of one HTTP request, in seconds. Default `30`.").env("HW_REQUEST_TIMEOUT"),
            Between(1.0, 3600.0);
    }
}

/// The arguments that together make one set of credentials. The block's credentials win over
/// the environment's as a whole: a `token` in the block is never mixed with (or blocked by) an
/// `HW_ACCESS_KEY` exported in the shell.
const CREDENTIALS: &[&str] = &["access_key", "secret_key", "security_token", "token"];

/// The provider block's schema; each description names its environment variable.
pub(crate) fn schema() -> Schema {
    Schema {
        version: 0,
        description: "Reads Huawei Cloud Host Security Service (HSS) data. Every argument can also be set through \
                      its `HW_*` environment variable; the configuration wins over the environment."
            .into(),
        attributes: ProviderArgs::attributes(),
    }
}

/// The provider configuration with every fallback applied.
pub(crate) struct Resolution {
    args: ProviderArgs,
    unknown: Vec<&'static str>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Reads the block (`config`, decoded), then fills what it leaves out from `env`.
pub(crate) fn resolve(config: &Value, env: &dyn Fn(&str) -> Option<String>) -> Resolution {
    let mut parsed = ProviderArgs::parse(config);
    let block = &parsed.model;
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    let block_has_credentials = set(&block.token)
        || set(&block.access_key)
        || set(&block.secret_key)
        || CREDENTIALS.iter().any(|name| parsed.unknown.contains(name));
    ProviderArgs::apply_env(&mut parsed, env, &|name| !(block_has_credentials && CREDENTIALS.contains(&name)));
    let mut resolution = Resolution { args: parsed.model, unknown: parsed.unknown, diagnostics: parsed.diagnostics };
    resolution.check_static();
    resolution
}

/// A text setting that is set and not blank.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.trim().is_empty())
}

impl Resolution {
    fn is_set(&self, name: &'static str, value: &Option<String>) -> bool {
        text(value).is_some() || self.unknown.contains(&name)
    }

    /// Names of settings still unknown: a read cannot go ahead until they are known.
    pub(crate) fn unknown(&self) -> Vec<&'static str> {
        self.unknown.clone()
    }

    /// Checks that hold whatever else is set: conflicting credentials (number ranges were
    /// checked while parsing).
    fn check_static(&mut self) {
        let a = &self.args;
        if self.is_set("token", &a.token)
            && (self.is_set("access_key", &a.access_key) || self.is_set("secret_key", &a.secret_key))
        {
            self.diagnostics.push(Diagnostic::attribute(
                "token",
                "Conflicting credentials",
                "Set either token (HW_AUTH_TOKEN) or access_key and secret_key (HW_ACCESS_KEY, HW_SECRET_KEY), \
                 not both.",
            ));
        }
    }

    /// The client configuration, or the diagnostics that say what is missing. Call only when
    /// [`Resolution::unknown`] is empty.
    pub(crate) fn client_config(&self, terraform_version: Option<String>) -> Result<ClientConfig, Vec<Diagnostic>> {
        let a = &self.args;
        let mut diags = self.diagnostics.clone();
        let project_id = text(&a.project_id).unwrap_or_default().to_owned();
        if project_id.is_empty() {
            diags.push(Diagnostic::attribute(
                "project_id",
                "Missing project_id",
                "Set project_id in the provider block or the HW_PROJECT_ID environment variable.",
            ));
        }
        let endpoint = text(&a.endpoint).map(str::to_owned);
        let region = text(&a.region).map(str::to_owned);
        if endpoint.is_none() && region.is_none() {
            diags.push(Diagnostic::attribute(
                "region",
                "Missing region",
                "Set region (or HW_REGION_NAME), or set endpoint (or HW_HSS_ENDPOINT) to the HSS API's base URL.",
            ));
        }
        let credentials = self.credentials(&mut diags);
        let cacert_pem = text(&a.cacert_file).and_then(|path| match std::fs::read(path) {
            Ok(pem) => Some(pem),
            Err(err) => {
                diags.push(Diagnostic::attribute(
                    "cacert_file",
                    "Cannot read cacert_file",
                    format!("Reading {path:?} failed: {err}."),
                ));
                None
            }
        });
        let (Some(credentials), false) = (credentials, crate::diagnostics::has_errors(&diags)) else {
            return Err(diags);
        };
        let mut config = ClientConfig::new(project_id, credentials);
        config.endpoint = endpoint;
        config.region = region;
        if let Some(cloud) = text(&a.cloud) {
            config.cloud = cloud.to_owned();
        }
        config.insecure = a.insecure == Some(true);
        config.cacert_pem = cacert_pem;
        // The ranges were checked while parsing, so these conversions cannot truncate.
        if let Some(n) = a.max_retries.and_then(|n| u32::try_from(n).ok()) {
            config.max_retries = n;
        }
        if let Some(n) = a.max_concurrent_requests.and_then(|n| usize::try_from(n).ok()) {
            config.max_concurrent_requests = n;
        }
        if let Some(n) = a.requests_per_second {
            config.requests_per_second = n;
        }
        if let Some(n) = a.request_timeout {
            config.request_timeout = Duration::from_secs_f64(n);
        }
        config.terraform_version = terraform_version;
        Ok(config)
    }

    fn credentials(&self, diags: &mut Vec<Diagnostic>) -> Option<Credentials> {
        let a = &self.args;
        let secret = |v: &Option<String>| text(v).map(|s| Secret::new(s.to_owned()));
        match (text(&a.token), text(&a.access_key), secret(&a.secret_key)) {
            (Some(token), None, None) => Some(Credentials::Token(Secret::new(token.to_owned()))),
            (None, Some(ak), Some(sk)) => Some(Credentials::AkSk {
                access_key: ak.to_owned(),
                secret_key: sk,
                security_token: secret(&a.security_token),
            }),
            (Some(_), _, _) => None, // the conflict is already reported
            (None, Some(_), None) => {
                diags.push(Diagnostic::attribute(
                    "secret_key",
                    "Missing secret_key",
                    "access_key is set, so secret_key (or HW_SECRET_KEY) is needed to sign requests.",
                ));
                None
            }
            (None, None, Some(_)) => {
                diags.push(Diagnostic::attribute(
                    "access_key",
                    "Missing access_key",
                    "secret_key is set, so access_key (or HW_ACCESS_KEY) is needed too.",
                ));
                None
            }
            (None, None, None) => {
                diags.push(Diagnostic::attribute(
                    "token",
                    "No credentials",
                    "Set token (HW_AUTH_TOKEN), or access_key and secret_key (HW_ACCESS_KEY, HW_SECRET_KEY), in the \
                     provider block or the environment.",
                ));
                None
            }
        }
    }

    /// The provider-wide default for data sources.
    pub(crate) fn enterprise_project_id(&self) -> Option<String> {
        text(&self.args.enterprise_project_id).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut map: BTreeMap<String, Value> =
            ProviderArgs::attributes().iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        for (k, v) in pairs {
            map.insert((*k).to_owned(), v.clone());
        }
        Value::Object(map)
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    fn resolve_with(cfg: &Value, env: &[(&str, &str)]) -> Resolution {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        resolve(cfg, &|k| env.get(k).cloned())
    }

    fn paths(diags: &[Diagnostic]) -> Vec<String> {
        diags.iter().map(|d| format!("{:?}", d.path)).collect()
    }

    #[test]
    fn environment_fills_in_and_config_wins() {
        let r = resolve_with(
            &config(&[("region", s("cn-north-4"))]),
            &[
                ("HW_REGION_NAME", "eu-west-0"),
                ("HW_PROJECT_ID", "p1"),
                ("HW_AUTH_TOKEN", "t"),
                ("HW_MAX_RETRIES", "2"),
            ],
        );
        let c = r.client_config(None).expect("valid");
        assert_eq!(c.region.as_deref(), Some("cn-north-4"));
        assert_eq!(c.project_id, "p1");
        assert_eq!(c.max_retries, 2);
        assert!(matches!(c.credentials, Credentials::Token(_)));
    }

    #[test]
    fn each_missing_piece_is_named() {
        let r = resolve_with(&config(&[]), &[]);
        let diags = r.client_config(None).expect_err("must fail");
        let joined = paths(&diags).join(" ");
        for name in ["project_id", "region", "token"] {
            assert!(joined.contains(name), "{name} not in {joined}");
        }
        let r = resolve_with(&config(&[("access_key", s("ak")), ("project_id", s("p")), ("region", s("r"))]), &[]);
        let diags = r.client_config(None).expect_err("must fail");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].summary, "Missing secret_key");
    }

    #[test]
    fn token_and_access_key_conflict_at_validate_time() {
        let r = resolve_with(&config(&[("token", s("t")), ("access_key", s("ak"))]), &[]);
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].summary, "Conflicting credentials");
    }

    #[test]
    fn bad_numbers_are_reported_with_their_attribute() {
        let r = resolve_with(&config(&[]), &[("HW_MAX_CONCURRENT_REQUESTS", "0"), ("HW_REQUEST_TIMEOUT", "soon")]);
        let joined = paths(&r.diagnostics).join(" ");
        assert!(joined.contains("max_concurrent_requests"), "{joined}");
        assert!(joined.contains("request_timeout"), "{joined}");
    }

    #[test]
    fn unknown_values_are_listed_not_rejected() {
        let r = resolve_with(&config(&[("token", Value::Unknown)]), &[]);
        assert!(r.diagnostics.is_empty());
        assert_eq!(r.unknown(), vec!["token"]);
    }

    #[test]
    fn every_description_names_its_variable() {
        for a in schema().attributes {
            assert!(a.description.contains("`HW_"), "{}", a.name);
        }
    }
}
