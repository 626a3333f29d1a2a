//! The provider block: its schema, the `HW_*` environment fallbacks, the KooCLI profile file,
//! and the checks that turn it into an HSS client configuration.
//!
//! # Precedence
//!
//! Each setting comes from the first of these that has it:
//!
//! 1. the provider block (an empty string counts as unset);
//! 2. its environment variable;
//! 3. the KooCLI profile file (`shared_config_file`, `profile`): credentials, `region`,
//!    `projectId` (only for the profile's own region) and, with the profile's credentials, its
//!    agency;
//! 4. for credentials only, the ECS agency, when `use_ecs_agency` is set;
//! 5. the default.
//!
//! Credentials (`access_key`, `secret_key`, `security_token`, `token`) are one setting: the
//! block's win over the environment's as a whole, and the environment's over the profile's.
//! `assume_role` is one setting too, and applies on top of whichever credentials won.
//!
//! Checks that need only the configuration (a bad number, a token next to an access key) run at
//! validate time; checks that need the environment or the profile file (are there credentials
//! at all?) run at configure time, so that `terraform validate` works in CI without credentials.
//! Nothing here touches the network: the project ID and temporary credentials are obtained by
//! the client, before its first read.

use std::time::Duration;

use crate::diagnostics::{Diagnostic, has_errors};
use crate::hss::{
    AssumeRole, ClientConfig, CredentialSource, Credentials, DEFAULT_ASSUME_ROLE_DURATION,
    DEFAULT_ECS_METADATA_ENDPOINT, Secret,
};
use crate::model::{Between, BlockModel, Meta, Parsed, Range, terraform_model};
use crate::schema::{Attribute, Schema};
use crate::value::{AttributePath, Value};

use super::profile::{self, Profile};

terraform_model! {
    /// The provider block. Every argument is optional here: each may come from its environment
    /// variable instead.
    pub(crate) struct ProviderArgs {
        optional region: String,
            Meta::new("Region of the HSS endpoint, such as `ap-southeast-1`. Needed unless `endpoint` is set.")
                .env("HW_REGION_NAME");
        optional project_id: String,
            Meta::new(
                "Project ID in that region. When it is not set (here, in the environment or in the profile file), \
                 it is looked up once through IAM by `project_name`.",
            )
            .env("HW_PROJECT_ID");
        optional project_name: String,
            Meta::new(
                "Name of the project whose ID is looked up when `project_id` is not set, such as \
                 `cn-north-4_sub1`. Default: the region.",
            )
            .env("HW_PROJECT_NAME");
        optional auth_url: String,
            Meta::new(
                "IAM endpoint, a URL ending in `/v3`, used to look up the project ID and to assume an agency. \
                 Default `https://iam.{region}.{cloud}/v3`.",
            )
            .env("HW_AUTH_URL");
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
        optional shared_config_file: String,
            Meta::new(
                "KooCLI configuration file to take credentials, region and project ID from when the block and the \
                 environment give none. Default `~/.hcloud/config.json`; a missing default file is ignored. Keys \
                 must be stored unencrypted (`hcloud configure set --cli-auth-encrypt=false`).",
            )
            .env("HW_SHARED_CONFIG_FILE");
        optional profile: String,
            Meta::new(
                "Profile of the KooCLI configuration file to use (modes `AKSK` and `SSO`). Default: the file's \
                 `current` profile.",
            )
            .env("HW_PROFILE");
        optional use_ecs_agency: bool,
            Meta::new(
                "Take temporary credentials from the agency attached to this ECS, through the metadata service at \
                 `http://169.254.169.254` (the environment variable `HW_ECS_METADATA_ENDPOINT` changes the address, \
                 for tests and unusual networks). Used only when the block, the environment and the profile file \
                 give no credentials; the metadata service is never contacted otherwise. Default `false`.",
            )
            .env("HW_USE_ECS_AGENCY");
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

terraform_model! {
    /// The `assume_role` block: an agency to assume with the base credentials.
    pub(crate) struct AssumeRoleArgs {
        optional agency_name: String,
            Meta::new("Name of the agency to assume.").env("HW_ASSUME_ROLE_AGENCY_NAME");
        optional domain_name: String,
            Meta::new("Name of the account (domain) that created the agency.").env("HW_ASSUME_ROLE_DOMAIN_NAME");
        optional duration: i64,
            Meta::new("Lifetime of the temporary credentials in seconds, 900 to 43200. Default `3600`.")
                .env("HW_ASSUME_ROLE_DURATION"),
            Range(900, 43200);
    }
}

/// The name of the nested block.
const ASSUME_ROLE: &str = "assume_role";

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
        attributes: {
            let mut attributes = ProviderArgs::attributes();
            attributes.push(Attribute::single_block(
                ASSUME_ROLE,
                "Assume an agency: the base credentials (whichever won) obtain temporary AK/SK and a security token \
                 from IAM (`POST {iam}/v3.0/OS-CREDENTIAL/securitytokens`), which every request then uses; they \
                 are renewed before they expire. The environment variables `HW_ASSUME_ROLE_AGENCY_NAME`, \
                 `HW_ASSUME_ROLE_DOMAIN_NAME` and `HW_ASSUME_ROLE_DURATION` do the same without the block.",
                AssumeRoleArgs::attributes(),
            ));
            attributes
        },
    }
}

/// The provider configuration with the block's values and the environment's fallbacks.
pub(crate) struct Resolution {
    args: ProviderArgs,
    role: AssumeRoleArgs,
    /// Whether the credentials come from the block (the environment's were not consulted).
    credentials_from_block: bool,
    /// `HOME` (or `USERPROFILE`), for the default profile file.
    home: Option<String>,
    /// `HW_ECS_METADATA_ENDPOINT`.
    metadata_endpoint: Option<String>,
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
        || set(&block.security_token)
        || CREDENTIALS.iter().any(|name| parsed.unknown.contains(name));
    ProviderArgs::apply_env(&mut parsed, env, &|name| !(block_has_credentials && CREDENTIALS.contains(&name)));

    let mut role = parse_role(config);
    let block_has_role = set(&role.model.agency_name) || set(&role.model.domain_name) || !role.unknown.is_empty();
    AssumeRoleArgs::apply_env(&mut role, env, &|_| !block_has_role);

    let mut unknown = parsed.unknown;
    if !role.unknown.is_empty() {
        unknown.push(ASSUME_ROLE);
    }
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(role.diagnostics);
    let non_blank = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let mut resolution = Resolution {
        args: parsed.model,
        role: role.model,
        credentials_from_block: block_has_credentials,
        home: non_blank("HOME").or_else(|| non_blank("USERPROFILE")),
        metadata_endpoint: non_blank("HW_ECS_METADATA_ENDPOINT").map(|v| v.trim().to_owned()),
        unknown,
        diagnostics,
    };
    resolution.check_static();
    resolution
}

/// The `assume_role` block; an absent block parses as all-unset.
fn parse_role(config: &Value) -> Parsed<AssumeRoleArgs> {
    let path = AttributePath::root().attr(ASSUME_ROLE);
    match config.get(ASSUME_ROLE) {
        Some(v) if !v.is_known() => {
            let mut parsed = AssumeRoleArgs::parse_at(&Value::Null, path);
            parsed.unknown.push(ASSUME_ROLE);
            parsed
        }
        Some(v) if !v.is_null() => AssumeRoleArgs::parse_at(v, path),
        _ => AssumeRoleArgs::parse_at(&Value::Null, path),
    }
}

/// Where the credentials in use came from.
enum Origin {
    Block,
    Environment,
    Profile(String),
    Ecs(String),
}

impl Origin {
    fn describe(&self, token: bool) -> String {
        match self {
            Origin::Block => "the provider block".to_owned(),
            Origin::Environment if token => "the environment (HW_AUTH_TOKEN)".to_owned(),
            Origin::Environment => "the environment (HW_ACCESS_KEY, HW_SECRET_KEY)".to_owned(),
            Origin::Profile(p) => p.clone(),
            Origin::Ecs(url) => format!("the ECS metadata service at {url}"),
        }
    }
}

/// A text setting that is set and not blank, trimmed.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `~/x` with the home directory expanded (Terraform users write paths that way).
fn expand_home(path: &str, home: Option<&str>) -> String {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => format!("{}/{rest}", home.trim_end_matches('/')),
        _ => path.to_owned(),
    }
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

    /// The client configuration with its warnings, or the diagnostics that say what is missing.
    /// Reads the profile file when it may be needed; sends nothing. Call only when
    /// [`Resolution::unknown`] is empty.
    pub(crate) fn client_config(
        &self,
        terraform_version: Option<String>,
    ) -> Result<(ClientConfig, Vec<Diagnostic>), Vec<Diagnostic>> {
        let a = &self.args;
        let mut diags = self.diagnostics.clone();
        let endpoint = text(&a.endpoint).map(str::to_owned);
        let has_credentials =
            [&a.token, &a.access_key, &a.secret_key, &a.security_token].iter().any(|v| text(v).is_some());
        let given_project = text(&a.project_id);
        let explicit = text(&a.shared_config_file).is_some() || text(&a.profile).is_some();
        // The file is read only when it may fill something in (or was asked for).
        let needs_file = explicit
            || !has_credentials
            || given_project.is_none()
            || (text(&a.region).is_none() && endpoint.is_none());
        let profile = if needs_file { self.profile(!has_credentials, &mut diags) } else { None };
        let region = text(&a.region).map(str::to_owned).or_else(|| profile.as_ref().and_then(|p| p.region.clone()));

        let (credentials, source, origin) = self.credentials(has_credentials, profile.as_ref(), &mut diags);

        // The profile's project ID belongs to the profile's region.
        let project_id = given_project.map(str::to_owned).or_else(|| {
            let p = profile.as_ref()?;
            let same_region = p.region.is_none() || p.region == region;
            p.project_id.clone().filter(|_| same_region)
        });
        if endpoint.is_none() && region.is_none() {
            diags.push(Diagnostic::attribute(
                "region",
                "Missing region",
                "Set region (or HW_REGION_NAME, or the profile file's region), or set endpoint (or HW_HSS_ENDPOINT) \
                 to the HSS API's base URL.",
            ));
        }
        let project_name = text(&a.project_name).map(str::to_owned);
        let auth_url = text(&a.auth_url).map(str::to_owned);
        if project_id.is_none()
            && (project_name.is_none() && region.is_none() || auth_url.is_none() && region.is_none())
        {
            diags.push(Diagnostic::attribute(
                "project_id",
                "Missing project_id",
                "Set project_id (or HW_PROJECT_ID), or set region (or HW_REGION_NAME) so that the project ID can be \
                 looked up through IAM; without a region, the lookup needs auth_url (HW_AUTH_URL) and project_name \
                 (HW_PROJECT_NAME).",
            ));
        }
        let assume_role = self.assume_role(matches!(origin, Some(Origin::Profile(_))), profile.as_ref(), &mut diags);
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
        let (Some(credentials), Some(origin), false) = (credentials, origin, has_errors(&diags)) else {
            return Err(diags);
        };
        let mut config = ClientConfig::new(project_id.unwrap_or_default(), credentials);
        config.credentials_origin = Some(origin.describe(matches!(config.credentials, Credentials::Token(_))));
        config.credential_source = source;
        config.assume_role = assume_role;
        config.project_name = project_name;
        config.iam_endpoint = auth_url;
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
        tracing::debug!(
            credentials_from = config.credentials_origin.as_deref().unwrap_or(""),
            assume_role = config.assume_role.is_some(),
            project_lookup = config.project_id.is_empty(),
            "provider configuration resolved"
        );
        Ok((config, diags))
    }

    /// The profile of the KooCLI file, if there is one to read. Its problems are errors when
    /// the file was asked for or its credentials are needed, warnings otherwise.
    fn profile(&self, credentials_needed: bool, diags: &mut Vec<Diagnostic>) -> Option<Profile> {
        let a = &self.args;
        let explicit_file = text(&a.shared_config_file);
        let explicit_profile = text(&a.profile);
        let path = match (explicit_file, &self.home) {
            (Some(file), _) => std::path::PathBuf::from(expand_home(file, self.home.as_deref())),
            (None, Some(home)) => profile::default_path(home),
            (None, None) => {
                if explicit_profile.is_some() {
                    diags.push(Diagnostic::attribute(
                        "profile",
                        "Cannot find the shared configuration file",
                        "profile is set, but neither shared_config_file (HW_SHARED_CONFIG_FILE) nor HOME is, so \
                         there is no file to read it from.",
                    ));
                }
                return None;
            }
        };
        let explicit = explicit_file.is_some() || explicit_profile.is_some();
        match profile::load(&path, explicit, explicit_profile) {
            Ok(p) => p,
            Err(message) => {
                let at = if explicit_file.is_some() || explicit_profile.is_none() {
                    "shared_config_file"
                } else {
                    "profile"
                };
                if explicit || credentials_needed {
                    diags.push(Diagnostic::attribute(at, "Cannot use the shared configuration file", message));
                } else {
                    diags.push(
                        Diagnostic::warning(
                            "Shared configuration file ignored",
                            format!("{message} Nothing was taken from it."),
                        )
                        .at(AttributePath::root().attr(at)),
                    );
                }
                None
            }
        }
    }

    /// The credentials by precedence (block, environment, profile file, ECS agency), where they
    /// came from, and their source.
    fn credentials(
        &self,
        given: bool,
        profile: Option<&Profile>,
        diags: &mut Vec<Diagnostic>,
    ) -> (Option<Credentials>, CredentialSource, Option<Origin>) {
        let ecs = self.args.use_ecs_agency == Some(true);
        let ecs_url = self.metadata_endpoint.clone().unwrap_or_else(|| DEFAULT_ECS_METADATA_ENDPOINT.to_owned());
        let (credentials, origin) = if given {
            let origin = if self.credentials_from_block { Origin::Block } else { Origin::Environment };
            (self.given_credentials(diags), origin)
        } else if let Some(p) = profile {
            match &p.credentials {
                Ok(c) => (Some(c.clone()), Origin::Profile(p.describe())),
                Err(message) => {
                    let at = if text(&self.args.profile).is_some() { "profile" } else { "shared_config_file" };
                    diags.push(Diagnostic::attribute(at, "Cannot use the profile's credentials", message.clone()));
                    (None, Origin::Profile(p.describe()))
                }
            }
        } else if ecs {
            return (
                Some(Credentials::default()),
                CredentialSource::EcsMetadata(ecs_url.clone()),
                Some(Origin::Ecs(ecs_url)),
            );
        } else {
            diags.push(Diagnostic::attribute(
                "token",
                "No credentials",
                "No credentials were found. Give them one of these ways, listed by precedence: token \
                 (HW_AUTH_TOKEN), or access_key and secret_key (HW_ACCESS_KEY, HW_SECRET_KEY, with security_token \
                 or HW_SECURITY_TOKEN for temporary keys), in the provider block or the environment; a KooCLI \
                 profile in shared_config_file (HW_SHARED_CONFIG_FILE, default ~/.hcloud/config.json) chosen by \
                 profile (HW_PROFILE); or, on an ECS with an agency attached, use_ecs_agency = true \
                 (HW_USE_ECS_AGENCY). An assume_role block (or HW_ASSUME_ROLE_*) then assumes an agency with them.",
            ));
            return (None, CredentialSource::Static, None);
        };
        if ecs {
            diags.push(
                Diagnostic::warning(
                    "ECS agency not used",
                    format!(
                        "use_ecs_agency is set, but credentials were found in {}, which comes first; the ECS \
                         metadata service is not contacted.",
                        origin.describe(matches!(credentials, Some(Credentials::Token(_))))
                    ),
                )
                .at(AttributePath::root().attr("use_ecs_agency")),
            );
        }
        (credentials, CredentialSource::Static, Some(origin))
    }

    /// The credentials of the block or the environment (already merged, as a whole).
    fn given_credentials(&self, diags: &mut Vec<Diagnostic>) -> Option<Credentials> {
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
                    "security_token",
                    "Missing access_key",
                    "security_token is set, so access_key and secret_key (or HW_ACCESS_KEY and HW_SECRET_KEY) are \
                     needed too.",
                ));
                None
            }
        }
    }

    /// The agency to assume: the block's or the environment's, else the profile's when its
    /// credentials are used.
    fn assume_role(
        &self,
        profile_credentials: bool,
        profile: Option<&Profile>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<AssumeRole> {
        let r = &self.role;
        let path = |name: &str| AttributePath::root().attr(ASSUME_ROLE).attr(name);
        let duration = r.duration.and_then(|d| u32::try_from(d).ok()).unwrap_or(DEFAULT_ASSUME_ROLE_DURATION);
        match (text(&r.agency_name), text(&r.domain_name)) {
            (Some(agency), Some(domain)) => Some(AssumeRole {
                agency_name: agency.to_owned(),
                domain_name: Some(domain.to_owned()),
                domain_id: None,
                duration_seconds: duration,
            }),
            (Some(_), None) => {
                diags.push(
                    Diagnostic::error(
                        "Missing assume_role domain_name",
                        "assume_role needs domain_name (or HW_ASSUME_ROLE_DOMAIN_NAME): the account that created \
                         the agency.",
                    )
                    .at(path("domain_name")),
                );
                None
            }
            (None, Some(_)) => {
                diags.push(
                    Diagnostic::error(
                        "Missing assume_role agency_name",
                        "assume_role needs agency_name (or HW_ASSUME_ROLE_AGENCY_NAME): the agency to assume.",
                    )
                    .at(path("agency_name")),
                );
                None
            }
            (None, None) => {
                let agency = profile.filter(|_| profile_credentials)?.agency.clone()?;
                if agency.domain_name.is_none() && agency.domain_id.is_none() {
                    diags.push(Diagnostic::attribute(
                        "profile",
                        "Incomplete agency in the profile",
                        format!(
                            "The {} sets agencyName but neither agencyDomainName nor agencyDomainId.",
                            profile.map(Profile::describe).unwrap_or_default()
                        ),
                    ));
                    return None;
                }
                Some(AssumeRole {
                    agency_name: agency.name,
                    domain_name: agency.domain_name,
                    domain_id: agency.domain_id,
                    duration_seconds: duration,
                })
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
            schema().attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        for (k, v) in pairs {
            map.insert((*k).to_owned(), v.clone());
        }
        Value::Object(map)
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    fn role(pairs: &[(&str, Value)]) -> Value {
        let mut map: BTreeMap<String, Value> =
            AssumeRoleArgs::attributes().iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        for (k, v) in pairs {
            map.insert((*k).to_owned(), v.clone());
        }
        Value::Object(map)
    }

    fn resolve_with(cfg: &Value, env: &[(&str, &str)]) -> Resolution {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        resolve(cfg, &|k| env.get(k).cloned())
    }

    fn ok(cfg: &Value, env: &[(&str, &str)]) -> (ClientConfig, Vec<Diagnostic>) {
        let r = resolve_with(cfg, env);
        match r.client_config(None) {
            Ok(c) => c,
            Err(diags) => panic!("{diags:#?}"),
        }
    }

    fn fails(cfg: &Value, env: &[(&str, &str)]) -> Vec<Diagnostic> {
        resolve_with(cfg, env).client_config(None).map(|_| ()).expect_err("must fail")
    }

    fn paths(diags: &[Diagnostic]) -> Vec<String> {
        diags.iter().map(|d| d.path.as_ref().map(ToString::to_string).unwrap_or_default()).collect()
    }

    fn token_of(c: &ClientConfig) -> &str {
        match &c.credentials {
            Credentials::Token(t) => t.expose(),
            other => panic!("not a token: {other:?}"),
        }
    }

    fn ak_of(c: &ClientConfig) -> &str {
        match &c.credentials {
            Credentials::AkSk { access_key, .. } => access_key,
            other => panic!("not AK/SK: {other:?}"),
        }
    }

    /// A HOME with a KooCLI file holding two AK/SK profiles and an SSO one.
    struct Home(tempfile::TempDir);

    impl Home {
        fn new(contents: &str) -> Home {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::create_dir_all(dir.path().join(".hcloud")).expect("mkdir");
            std::fs::write(dir.path().join(".hcloud/config.json"), contents).expect("write");
            Home(dir)
        }
        fn koocli() -> Home {
            Home::new(
                r#"{"current":"dev","profiles":[
                {"name":"dev","mode":"AKSK","accessKeyId":"AKDEV","secretAccessKey":"sk-dev-0123456789","region":"cn-north-4","projectId":"p-dev"},
                {"name":"prod","mode":"AKSK","accessKeyId":"AKPROD","secretAccessKey":"sk-prod-0123456789","region":"ap-southeast-1",
                 "agencyName":"ops","agencyDomainName":"acme"},
                {"name":"sso","mode":"SSO","region":"eu-west-0","ssoAuth":{"stsToken":{"accessKeyId":"AKSSO","secretAccessKey":"sk-sso-0123456789","securityToken":"st-sso-0123456789"}}}]}"#,
            )
        }
        fn path(&self) -> &str {
            self.0.path().to_str().expect("utf-8 path")
        }
    }

    #[test]
    fn environment_fills_in_and_config_wins() {
        let (c, _) = ok(
            &config(&[("region", s("cn-north-4"))]),
            &[
                ("HW_REGION_NAME", "eu-west-0"),
                ("HW_PROJECT_ID", "p1"),
                ("HW_AUTH_TOKEN", "t"),
                ("HW_MAX_RETRIES", "2"),
            ],
        );
        assert_eq!(c.region.as_deref(), Some("cn-north-4"));
        assert_eq!(c.project_id, "p1");
        assert_eq!(c.max_retries, 2);
        assert_eq!(token_of(&c), "t");
        assert_eq!(c.credentials_origin.as_deref(), Some("the environment (HW_AUTH_TOKEN)"));
    }

    #[test]
    fn each_missing_piece_is_named() {
        let diags = fails(&config(&[]), &[]);
        let joined = paths(&diags).join(" ");
        for name in ["project_id", "region", "token"] {
            assert!(joined.contains(name), "{name} not in {joined}");
        }
        let diags = fails(&config(&[("access_key", s("ak")), ("project_id", s("p")), ("region", s("r"))]), &[]);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].summary, "Missing secret_key");
    }

    #[test]
    fn no_credentials_names_every_way() {
        let diags = fails(&config(&[("region", s("cn-north-4"))]), &[]);
        let d = diags.iter().find(|d| d.summary == "No credentials").expect("No credentials");
        for way in [
            "token",
            "HW_AUTH_TOKEN",
            "HW_ACCESS_KEY",
            "shared_config_file",
            "HW_PROFILE",
            "use_ecs_agency",
            "HW_USE_ECS_AGENCY",
            "assume_role",
        ] {
            assert!(d.detail.contains(way), "{way}: {}", d.detail);
        }
    }

    #[test]
    fn token_and_access_key_conflict_at_validate_time() {
        let r = resolve_with(&config(&[("token", s("t")), ("access_key", s("ak"))]), &[]);
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].summary, "Conflicting credentials");
    }

    /// Issue 10, item 6: the block's credentials win over the environment's as a whole.
    #[test]
    fn block_credentials_win_over_the_environment_as_a_whole() {
        let base = [("region", s("cn-north-4")), ("project_id", s("p"))];
        let env_aksk = [("HW_ACCESS_KEY", "AKENV"), ("HW_SECRET_KEY", "sk-env"), ("HW_SECURITY_TOKEN", "st-env")];
        let mut cfg = base.to_vec();
        cfg.push(("token", s("block-token")));
        let (c, diags) = ok(&config(&cfg), &env_aksk);
        assert_eq!(token_of(&c), "block-token");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(c.credentials_origin.as_deref(), Some("the provider block"));
        // The mirror case.
        let mut cfg = base.to_vec();
        cfg.extend([("access_key", s("AKBLOCK")), ("secret_key", s("sk-block"))]);
        let (c, _) = ok(&config(&cfg), &[("HW_AUTH_TOKEN", "env-token"), ("HW_SECURITY_TOKEN", "st-env")]);
        let Credentials::AkSk { access_key, security_token, .. } = &c.credentials else { panic!() };
        assert_eq!((access_key.as_str(), security_token), ("AKBLOCK", &None), "nothing mixed in from the environment");
        // An empty string means unset: the environment's credentials are used.
        let mut cfg = base.to_vec();
        cfg.extend([("token", s("")), ("endpoint", s(""))]);
        let (c, _) = ok(&config(&cfg), &[("HW_AUTH_TOKEN", "env-token"), ("HW_HSS_ENDPOINT", "http://127.0.0.1:1")]);
        assert_eq!(token_of(&c), "env-token");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:1"));
        let (c, _) = ok(&config(&[("token", s(" ")), ("region", s("r")), ("project_id", s("p"))]), &env_aksk);
        assert_eq!(ak_of(&c), "AKENV");
        // Unknown credentials in the block also keep the environment's out.
        let r = resolve_with(&config(&[("token", Value::Unknown)]), &env_aksk);
        assert!(r.diagnostics.is_empty() && r.args.access_key.is_none());
    }

    #[test]
    fn profile_file_comes_after_block_and_environment() {
        let home = Home::koocli();
        let env = [("HOME", home.path())];
        // The file's current profile: credentials, region and project ID.
        let (c, _) = ok(&config(&[]), &env);
        assert_eq!((ak_of(&c), c.region.as_deref(), c.project_id.as_str()), ("AKDEV", Some("cn-north-4"), "p-dev"));
        assert!(c.credentials_origin.as_deref().is_some_and(|o| o.starts_with("profile \"dev\" of ")), "{c:?}");
        // Chosen by profile, or by HW_PROFILE; the block wins over HW_PROFILE.
        let (c, _) = ok(&config(&[("profile", s("prod"))]), &env);
        assert_eq!((ak_of(&c), c.region.as_deref(), c.project_id.as_str()), ("AKPROD", Some("ap-southeast-1"), ""));
        let (c, _) = ok(&config(&[]), &[("HOME", home.path()), ("HW_PROFILE", "prod")]);
        assert_eq!(ak_of(&c), "AKPROD");
        let (c, _) = ok(&config(&[("profile", s("dev"))]), &[("HOME", home.path()), ("HW_PROFILE", "prod")]);
        assert_eq!(ak_of(&c), "AKDEV");
        // The environment's credentials win over the profile's; the profile still fills region.
        let (c, _) = ok(&config(&[]), &[("HOME", home.path()), ("HW_AUTH_TOKEN", "env-token")]);
        assert_eq!((token_of(&c), c.region.as_deref()), ("env-token", Some("cn-north-4")));
        // The block's and the environment's region and project ID win over the profile's; the
        // profile's project ID is only used for its own region.
        let (c, _) = ok(&config(&[("region", s("eu-west-0"))]), &env);
        assert_eq!((c.region.as_deref(), c.project_id.as_str()), (Some("eu-west-0"), ""), "looked up instead");
        let (c, _) =
            ok(&config(&[]), &[("HOME", home.path()), ("HW_REGION_NAME", "cn-north-4"), ("HW_PROJECT_ID", "p-env")]);
        assert_eq!(c.project_id, "p-env");
        // An SSO profile: its STS token.
        let (c, _) = ok(&config(&[("profile", s("sso"))]), &env);
        let Credentials::AkSk { access_key, security_token: Some(t), .. } = &c.credentials else { panic!() };
        assert_eq!(
            (access_key.as_str(), t.expose(), c.region.as_deref()),
            ("AKSSO", "st-sso-0123456789", Some("eu-west-0"))
        );
        // HW_SHARED_CONFIG_FILE and shared_config_file ("~/" expanded) name the file.
        let file = format!("{}/.hcloud/config.json", home.path());
        let (c, _) = ok(&config(&[]), &[("HW_SHARED_CONFIG_FILE", &file)]);
        assert_eq!(ak_of(&c), "AKDEV");
        let (c, _) = ok(&config(&[("shared_config_file", s("~/.hcloud/config.json"))]), &env);
        assert_eq!(ak_of(&c), "AKDEV");
    }

    #[test]
    fn profile_file_problems() {
        let empty = tempfile::tempdir().unwrap();
        let no_file = [("HOME", empty.path().to_str().unwrap()), ("HW_AUTH_TOKEN", "t"), ("HW_REGION_NAME", "r")];
        // A missing default file is fine; a missing explicit one is not.
        assert!(ok(&config(&[]), &no_file).1.is_empty());
        let diags = fails(&config(&[("shared_config_file", s("/nonexistent/config.json"))]), &no_file);
        assert!(diags[0].detail.contains("does not exist"), "{diags:?}");
        assert_eq!(paths(&diags[..1]), ["shared_config_file"]);
        let diags = fails(&config(&[("profile", s("dev"))]), &no_file);
        assert!(diags[0].detail.contains("does not exist"), "{diags:?}");
        // A broken default file is an error when its credentials are needed...
        let broken = Home::new("{\"current\": \"dev\", \"profiles\": [ sk-leaky ]");
        let diags = fails(&config(&[]), &[("HOME", broken.path())]);
        assert!(diags[0].detail.contains("not valid JSON") && diags[0].detail.contains(broken.path()), "{diags:?}");
        assert!(!format!("{diags:?}").contains("leaky"));
        // ...and only a warning when it is not.
        let (c, warnings) =
            ok(&config(&[]), &[("HOME", broken.path()), ("HW_AUTH_TOKEN", "t"), ("HW_REGION_NAME", "r")]);
        assert_eq!(token_of(&c), "t");
        assert_eq!(warnings[0].summary, "Shared configuration file ignored");
        // Encrypted keys: an error that says how to write unencrypted ones, without a key.
        let encrypted = Home::new(
            r#"{"current":"p","profiles":[{"name":"p","mode":"AKSK","accessKeyId":"QUtFTkM=","secretAccessKey":"c2stZW5j","crypter":"aes-gcm","nonce":"bm9uY2U="}]}"#,
        );
        let diags = fails(&config(&[]), &[("HOME", encrypted.path())]);
        let text = format!("{diags:?}");
        assert!(text.contains("--cli-auth-encrypt=false") && text.contains("profile \\\"p\\\""), "{text}");
        assert!(!text.contains("c2stZW5j") && !text.contains("QUtFTkM"), "{text}");
        // The encrypted profile does not matter when its keys are not needed.
        let (c, _) = ok(&config(&[]), &[("HOME", encrypted.path()), ("HW_AUTH_TOKEN", "t"), ("HW_REGION_NAME", "r")]);
        assert_eq!(token_of(&c), "t");
        // An unknown profile names the ones there are.
        let home = Home::koocli();
        let diags = fails(&config(&[("profile", s("nope"))]), &[("HOME", home.path())]);
        assert!(diags[0].detail.contains("\"dev\", \"prod\", \"sso\""), "{diags:?}");
        assert_eq!(paths(&diags[..1]), ["profile"]);
    }

    #[test]
    fn ecs_agency_is_last_and_opt_in() {
        let env = [("HW_REGION_NAME", "cn-north-4"), ("HW_ECS_METADATA_ENDPOINT", "http://127.0.0.1:9")];
        let (c, diags) = ok(&config(&[("use_ecs_agency", Value::Bool(true))]), &env);
        assert_eq!(c.credential_source, CredentialSource::EcsMetadata("http://127.0.0.1:9".into()));
        assert!(diags.is_empty());
        let (c, _) = ok(&config(&[]), &[("HW_USE_ECS_AGENCY", "true"), ("HW_REGION_NAME", "r")]);
        assert_eq!(c.credential_source, CredentialSource::EcsMetadata(DEFAULT_ECS_METADATA_ENDPOINT.into()));
        // Any other credentials come first, with a warning.
        let (c, diags) =
            ok(&config(&[("use_ecs_agency", Value::Bool(true))]), &[("HW_AUTH_TOKEN", "t"), env[0], env[1]]);
        assert_eq!(c.credential_source, CredentialSource::Static);
        assert_eq!(diags[0].summary, "ECS agency not used");
        let home = Home::koocli();
        let (c, diags) = ok(&config(&[("use_ecs_agency", Value::Bool(true))]), &[("HOME", home.path())]);
        assert_eq!((ak_of(&c), diags[0].summary.as_str()), ("AKDEV", "ECS agency not used"));
        // The block's false wins over the environment's true.
        let diags = fails(&config(&[("use_ecs_agency", Value::Bool(false))]), &[("HW_USE_ECS_AGENCY", "1"), env[0]]);
        assert!(diags.iter().any(|d| d.summary == "No credentials"));
    }

    #[test]
    fn assume_role_applies_on_top_of_whichever_credentials_won() {
        let base = [("region", s("cn-north-4")), ("token", s("t"))];
        let block = |pairs: &[(&str, Value)]| {
            let mut cfg = base.to_vec();
            cfg.push((ASSUME_ROLE, role(pairs)));
            config(&cfg)
        };
        let want = |domain: &str, duration| AssumeRole {
            agency_name: "ops".into(),
            domain_name: Some(domain.into()),
            domain_id: None,
            duration_seconds: duration,
        };
        let (c, _) = ok(&block(&[("agency_name", s("ops")), ("domain_name", s("acme"))]), &[]);
        assert_eq!(c.assume_role, Some(want("acme", 3600)));
        // The environment alone, without a block.
        let env = [
            ("HW_ASSUME_ROLE_AGENCY_NAME", "ops"),
            ("HW_ASSUME_ROLE_DOMAIN_NAME", "env-domain"),
            ("HW_ASSUME_ROLE_DURATION", "900"),
        ];
        let (c, _) = ok(&config(&base), &env);
        assert_eq!(c.assume_role, Some(want("env-domain", 900)));
        // The block wins over the environment as a whole (no duration mixed in).
        let (c, _) = ok(&block(&[("agency_name", s("ops")), ("domain_name", s("acme"))]), &env);
        assert_eq!(c.assume_role, Some(want("acme", 3600)));
        // A block with only a duration leaves the names to the environment.
        let (c, _) = ok(&block(&[("duration", Value::Number(crate::value::Number::from_i64(7200)))]), &env);
        assert_eq!(c.assume_role, Some(want("env-domain", 7200)));
        // Half a role is an error at its path; a duration out of range too.
        let diags = fails(&block(&[("agency_name", s("ops"))]), &[]);
        assert_eq!(paths(&diags), ["assume_role.domain_name"]);
        let r = resolve_with(&block(&[("duration", Value::Number(crate::value::Number::from_i64(60)))]), &[]);
        assert_eq!(paths(&r.diagnostics), ["assume_role.duration"]);
        let r = resolve_with(&config(&base), &[("HW_ASSUME_ROLE_DURATION", "50000")]);
        assert!(r.diagnostics[0].detail.contains("HW_ASSUME_ROLE_DURATION"), "{:?}", r.diagnostics);
        // On top of the profile's credentials: the profile's agency...
        let home = Home::koocli();
        let (c, _) = ok(&config(&[("profile", s("prod"))]), &[("HOME", home.path())]);
        assert_eq!(c.assume_role, Some(want("acme", 3600)));
        // ...but not on top of other credentials.
        let (c, _) = ok(&config(&[("profile", s("prod")), ("token", s("t"))]), &[("HOME", home.path())]);
        assert_eq!(c.assume_role, None);
        // The block's role wins over the profile's, and applies to ECS credentials too.
        let (c, _) = ok(&config(&[("profile", s("prod"))]), &[("HOME", home.path()), env[0], env[1]]);
        assert_eq!(c.assume_role, Some(want("env-domain", 3600)));
        let (c, _) = ok(&config(&[("use_ecs_agency", Value::Bool(true)), ("region", s("r"))]), &env);
        assert!(c.assume_role.is_some() && c.renews_credentials());
    }

    #[test]
    fn project_id_is_looked_up_when_not_given() {
        let (c, _) = ok(&config(&[("region", s("cn-north-4")), ("token", s("t"))]), &[]);
        assert_eq!((c.project_id.as_str(), c.project_name()), ("", Some("cn-north-4")));
        let (c, _) = ok(
            &config(&[("region", s("cn-north-4")), ("token", s("t"))]),
            &[("HW_PROJECT_NAME", "cn-north-4_sub1"), ("HW_AUTH_URL", "http://127.0.0.1:1/v3")],
        );
        assert_eq!(
            (c.project_name(), c.iam_endpoint.as_deref()),
            (Some("cn-north-4_sub1"), Some("http://127.0.0.1:1/v3"))
        );
        // Without a region, the lookup needs both auth_url and project_name.
        let no_region = [("endpoint", s("http://127.0.0.1:1")), ("token", s("t"))];
        let diags = fails(&config(&no_region), &[("HW_AUTH_URL", "http://127.0.0.1:1/v3")]);
        assert_eq!(diags[0].summary, "Missing project_id");
        let (c, _) = ok(&config(&no_region), &[("HW_AUTH_URL", "http://127.0.0.1:1/v3"), ("HW_PROJECT_NAME", "x")]);
        assert_eq!(c.project_name(), Some("x"));
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
        let r = resolve_with(&config(&[(ASSUME_ROLE, Value::Unknown)]), &[]);
        assert_eq!(r.unknown(), vec![ASSUME_ROLE]);
        let r = resolve_with(&config(&[(ASSUME_ROLE, role(&[("agency_name", Value::Unknown)]))]), &[]);
        assert_eq!(r.unknown(), vec![ASSUME_ROLE]);
    }

    #[test]
    fn every_description_names_its_variable() {
        for a in schema().attributes {
            assert!(a.description.contains("`HW_"), "{}", a.name);
            for inner in a.block.iter().flatten() {
                assert!(inner.description.contains("`HW_ASSUME_ROLE_"), "{}", inner.name);
            }
        }
    }
}
