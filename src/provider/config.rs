//! The provider block: its schema, the `HW_*` environment fallbacks, and the checks that turn it
//! into an HSS client configuration.
//!
//! Precedence is configuration, then environment variable, then default. Checks that need only
//! the configuration (a bad number, a token next to an access key) run at validate time; checks
//! that need the environment too (are there credentials at all?) run at configure time, so that
//! `terraform validate` works in CI without credentials.

use std::time::Duration;

use crate::diagnostics::Diagnostic;
use crate::hss::{ClientConfig, Credentials, Secret};
use crate::schema::{Attribute, Mode, Schema};
use crate::value::{Type, Value};

/// One provider attribute: its name, environment variable, type and documentation.
struct Setting {
    name: &'static str,
    env: &'static str,
    ty: Type,
    sensitive: bool,
    doc: &'static str,
}

const fn text(name: &'static str, env: &'static str, doc: &'static str) -> Setting {
    Setting { name, env, ty: Type::String, sensitive: false, doc }
}

const fn secret(name: &'static str, env: &'static str, doc: &'static str) -> Setting {
    Setting { name, env, ty: Type::String, sensitive: true, doc }
}

const fn number(name: &'static str, env: &'static str, doc: &'static str) -> Setting {
    Setting { name, env, ty: Type::Number, sensitive: false, doc }
}

const SETTINGS: &[Setting] = &[
    text(
        "region",
        "HW_REGION_NAME",
        "Region of the HSS endpoint, such as `ap-southeast-1`. Needed unless `endpoint` is set.",
    ),
    text("project_id", "HW_PROJECT_ID", "Project ID in that region. Required, here or in the environment."),
    text(
        "access_key",
        "HW_ACCESS_KEY",
        "Access key (AK) for `SDK-HMAC-SHA256` request signing. Use with `secret_key`; conflicts with `token`.",
    ),
    secret("secret_key", "HW_SECRET_KEY", "Secret key (SK) that signs requests. Never logged or stored in state."),
    secret(
        "security_token",
        "HW_SECURITY_TOKEN",
        "Security token of temporary AK/SK credentials, sent as `X-Security-Token`.",
    ),
    secret(
        "token",
        "HW_AUTH_TOKEN",
        "IAM user token, sent as `X-Auth-Token`. Conflicts with `access_key`/`secret_key`.",
    ),
    text(
        "endpoint",
        "HW_HSS_ENDPOINT",
        "Base URL of the HSS API, such as `http://127.0.0.1:8080` for the bundled simulator. Default `https://hss.{region}.{cloud}`.",
    ),
    text("cloud", "HW_CLOUD", "Domain of the cloud used to build the default endpoint. Default `myhuaweicloud.com`."),
    text(
        "enterprise_project_id",
        "HW_ENTERPRISE_PROJECT_ID",
        "Enterprise project used by data sources that do not set their own; `all_granted_eps` means all.",
    ),
    Setting {
        name: "insecure",
        env: "HW_INSECURE",
        ty: Type::Bool,
        sensitive: false,
        doc: "Skip TLS certificate verification. For test endpoints only; a warning is logged. Default `false`.",
    },
    text("cacert_file", "HW_CACERT_FILE", "Path of a PEM bundle added to the system's trusted roots."),
    number(
        "max_retries",
        "HW_MAX_RETRIES",
        "Retries per request after throttling (429), server errors (5xx), timeouts and dropped connections; `0` disables retries. Default `5`.",
    ),
    number(
        "max_concurrent_requests",
        "HW_MAX_CONCURRENT_REQUESTS",
        "Requests in flight at once, shared by every data source read of the run. At least `1`. Default `8`.",
    ),
    number(
        "requests_per_second",
        "HW_REQUESTS_PER_SECOND",
        "Rate limit shared by every read of the run; `0` means unlimited. Default `0`.",
    ),
    number("request_timeout", "HW_REQUEST_TIMEOUT", "Timeout of one HTTP request, in seconds. Default `30`."),
];

/// The provider block's schema; each description names its environment variable.
pub(crate) fn schema() -> Schema {
    let attributes = SETTINGS
        .iter()
        .map(|s| {
            let a = Attribute::new(
                s.name,
                s.ty.clone(),
                Mode::Optional,
                format!("{} Environment variable: `{}`.", s.doc, s.env),
            );
            if s.sensitive { a.sensitive() } else { a }
        })
        .collect();
    Schema {
        version: 0,
        description: "Reads Huawei Cloud Host Security Service (HSS) data. Every argument can also be set through \
                      its `HW_*` environment variable; the configuration wins over the environment."
            .into(),
        attributes,
    }
}

/// A setting's value after looking at the configuration and the environment.
#[derive(Debug, Clone, PartialEq)]
enum Resolved {
    /// Unknown at plan time (it depends on something not yet created).
    Unknown,
    Absent,
    Text(String),
    Bool(bool),
    Number(f64),
}

/// The provider configuration with every fallback applied.
pub(crate) struct Resolution {
    values: Vec<(&'static str, Resolved)>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Reads every setting from `config` (the decoded provider block), falling back to `env`.
pub(crate) fn resolve(config: &Value, env: &dyn Fn(&str) -> Option<String>) -> Resolution {
    let mut diagnostics = Vec::new();
    let values = SETTINGS
        .iter()
        .map(|s| {
            let resolved = match config.get(s.name) {
                Some(v) if !v.is_known() => Resolved::Unknown,
                Some(v) if !v.is_null() => from_config(s, v),
                _ => match env(s.env).filter(|v| !v.trim().is_empty()) {
                    Some(raw) => from_env(s, &raw).unwrap_or_else(|d| {
                        diagnostics.push(d);
                        Resolved::Absent
                    }),
                    None => Resolved::Absent,
                },
            };
            (s.name, resolved)
        })
        .collect();
    let mut resolution = Resolution { values, diagnostics };
    resolution.check_static();
    resolution
}

fn from_config(setting: &Setting, value: &Value) -> Resolved {
    match (&setting.ty, value) {
        (_, Value::String(s)) => Resolved::Text(s.clone()),
        (_, Value::Bool(b)) => Resolved::Bool(*b),
        (_, Value::Number(n)) => Resolved::Number(n.as_f64()),
        _ => Resolved::Absent,
    }
}

fn from_env(setting: &Setting, raw: &str) -> Result<Resolved, Diagnostic> {
    let raw = raw.trim();
    match setting.ty {
        Type::Bool => match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(Resolved::Bool(true)),
            "0" | "false" | "no" => Ok(Resolved::Bool(false)),
            _ => Err(Diagnostic::attribute(
                setting.name,
                format!("Invalid {} value", setting.env),
                format!("{} must be true or false, got {raw:?}.", setting.env),
            )),
        },
        Type::Number => raw.parse::<f64>().ok().filter(|n| n.is_finite()).map(Resolved::Number).ok_or_else(|| {
            Diagnostic::attribute(
                setting.name,
                format!("Invalid {} value", setting.env),
                format!("{} must be a number, got {raw:?}.", setting.env),
            )
        }),
        _ => Ok(Resolved::Text(raw.to_owned())),
    }
}

/// Numeric bounds of the tuning settings: (name, minimum, maximum, whole numbers only).
const BOUNDS: &[(&str, f64, f64, bool)] = &[
    ("max_retries", 0.0, 100.0, true),
    ("max_concurrent_requests", 1.0, 256.0, true),
    ("requests_per_second", 0.0, 100_000.0, false),
    ("request_timeout", 1.0, 3600.0, false),
];

impl Resolution {
    fn get(&self, name: &str) -> &Resolved {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v).unwrap_or(&Resolved::Absent)
    }

    fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Resolved::Text(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    fn number(&self, name: &str) -> Option<f64> {
        match self.get(name) {
            Resolved::Number(n) => Some(*n),
            _ => None,
        }
    }

    fn is_set(&self, name: &str) -> bool {
        self.text(name).is_some() || *self.get(name) == Resolved::Unknown
    }

    /// Names of settings still unknown: a read cannot go ahead until they are known.
    pub(crate) fn unknown(&self) -> Vec<&'static str> {
        self.values.iter().filter(|(_, v)| *v == Resolved::Unknown).map(|(n, _)| *n).collect()
    }

    /// Checks that hold whatever else is set: number ranges and conflicting credentials.
    fn check_static(&mut self) {
        for &(name, min, max, whole) in BOUNDS {
            if let Some(n) = self.number(name)
                && (n < min || n > max || (whole && n.fract() != 0.0))
            {
                let kind = if whole { "a whole number" } else { "a number" };
                self.diagnostics.push(Diagnostic::attribute(
                    name,
                    format!("Invalid {name}"),
                    format!("{name} must be {kind} from {min} to {max}, got {n}."),
                ));
            }
        }
        if self.is_set("token") && (self.is_set("access_key") || self.is_set("secret_key")) {
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
        let mut diags = self.diagnostics.clone();
        let project_id = self.text("project_id").unwrap_or_default().to_owned();
        if project_id.is_empty() {
            diags.push(Diagnostic::attribute(
                "project_id",
                "Missing project_id",
                "Set project_id in the provider block or the HW_PROJECT_ID environment variable.",
            ));
        }
        let endpoint = self.text("endpoint").map(str::to_owned);
        let region = self.text("region").map(str::to_owned);
        if endpoint.is_none() && region.is_none() {
            diags.push(Diagnostic::attribute(
                "region",
                "Missing region",
                "Set region (or HW_REGION_NAME), or set endpoint (or HW_HSS_ENDPOINT) to the HSS API's base URL.",
            ));
        }
        let credentials = self.credentials(&mut diags);
        let cacert_pem = self.text("cacert_file").and_then(|path| match std::fs::read(path) {
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
        if let Some(cloud) = self.text("cloud") {
            config.cloud = cloud.to_owned();
        }
        config.insecure = matches!(self.get("insecure"), Resolved::Bool(true));
        config.cacert_pem = cacert_pem;
        if let Some(n) = self.number("max_retries") {
            config.max_retries = n as u32;
        }
        if let Some(n) = self.number("max_concurrent_requests") {
            config.max_concurrent_requests = n as usize;
        }
        if let Some(n) = self.number("requests_per_second") {
            config.requests_per_second = n;
        }
        if let Some(n) = self.number("request_timeout") {
            config.request_timeout = Duration::from_secs_f64(n);
        }
        config.terraform_version = terraform_version;
        Ok(config)
    }

    fn credentials(&self, diags: &mut Vec<Diagnostic>) -> Option<Credentials> {
        let secret = |name| self.text(name).map(|s| Secret::new(s.to_owned()));
        match (self.text("token"), self.text("access_key"), secret("secret_key")) {
            (Some(token), None, None) => Some(Credentials::Token(Secret::new(token.to_owned()))),
            (None, Some(ak), Some(sk)) => Some(Credentials::AkSk {
                access_key: ak.to_owned(),
                secret_key: sk,
                security_token: secret("security_token"),
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
        self.text("enterprise_project_id").map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut map: BTreeMap<String, Value> = SETTINGS.iter().map(|s| (s.name.to_owned(), Value::Null)).collect();
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
