//! Helpers for the credential tests: a simulator that serves IAM and the ECS metadata service
//! next to HSS, KooCLI profile files in a temporary HOME (so that the developer's own
//! `~/.hcloud/config.json` never matters), and the provider block's full type, with the
//! `assume_role` block.

use std::path::Path;

use hss_provider::value::{Type, Value};
use hss_sim::{IamConfig, SimConfig};
use serde_json::json;

use crate::support::grpc::{self, Provider};
use crate::support::plugin::pb;
use crate::support::sim::{self, Sim};

/// The region every test uses; the simulator knows its project under this name.
pub const REGION: &str = "cn-north-4";
/// The agency the simulator lets the test credentials assume.
pub const AGENCY: &str = "hss-reader";
/// The account that owns it.
pub const DOMAIN: &str = "acme-ops";

/// The default test simulator, plus IAM knowing `REGION`'s project and the test agency.
pub fn sim_config(hosts: &[(&str, usize)]) -> SimConfig {
    SimConfig {
        iam: IamConfig {
            projects: vec![(REGION.into(), sim::PROJECT.into())],
            agencies: vec![(DOMAIN.into(), AGENCY.into())],
            ..Default::default()
        },
        ..Sim::config(hosts)
    }
}

/// A temporary HOME, with or without a KooCLI configuration file.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    /// An empty HOME: no profile file.
    pub fn empty() -> Home {
        Home { dir: tempfile::tempdir().expect("tempdir") }
    }

    /// A HOME whose `~/.hcloud/config.json` is `contents`.
    pub fn with_file(contents: &str) -> Home {
        let home = Home::empty();
        std::fs::create_dir_all(home.dir.path().join(".hcloud")).expect("mkdir .hcloud");
        std::fs::write(home.file(), contents).expect("write config.json");
        home
    }

    pub fn path(&self) -> &str {
        self.dir.path().to_str().expect("UTF-8 temp path")
    }

    /// The default profile file's path.
    pub fn file(&self) -> std::path::PathBuf {
        self.dir.path().join(".hcloud/config.json")
    }
}

/// A KooCLI configuration file.
pub fn koocli(current: &str, profiles: &[serde_json::Value]) -> String {
    json!({ "current": current, "profiles": profiles }).to_string()
}

/// An `AKSK` profile.
pub fn aksk_profile(name: &str, ak: &str, sk: &str) -> serde_json::Value {
    json!({
        "name": name, "mode": "AKSK", "accessKeyId": ak, "secretAccessKey": sk, "securityToken": "",
        "region": REGION, "projectId": "", "agencyName": "", "agencyDomainName": "", "agencyDomainId": "",
        "language": "en", "readTimeout": 10, "connectTimeout": 5, "retryCount": 3
    })
}

/// An `SSO` profile whose STS token is `ak`/`sk`/`token`.
pub fn sso_profile(name: &str, ak: &str, sk: &str, token: &str) -> serde_json::Value {
    json!({
        "name": name, "mode": "SSO", "region": REGION,
        "ssoAuth": { "stsToken": { "accessKeyId": ak, "secretAccessKey": sk, "securityToken": token } }
    })
}

/// Every provider setting pointing at `sim`, with `home` as HOME, and no project ID and no
/// credentials: each test adds those it is about.
pub fn env(sim: &Sim, home: &Home) -> Vec<(String, String)> {
    vec![
        ("HW_HSS_ENDPOINT".into(), sim.url()),
        ("HW_AUTH_URL".into(), format!("{}/v3", sim.url())),
        ("HW_ECS_METADATA_ENDPOINT".into(), sim.url()),
        ("HW_REGION_NAME".into(), REGION.into()),
        ("HOME".into(), home.path().into()),
    ]
}

/// `env` plus `more`, as the `&[(&str, &str)]` the gRPC driver takes.
pub fn with<'a>(env: &'a [(String, String)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (k, v) in more {
        out.retain(|(key, _)| key != k);
        out.push((k, v));
    }
    out
}

/// The provider block's type including its nested blocks, so that a test can configure
/// `assume_role` over gRPC.
pub async fn full_provider_type(provider: &mut Provider) -> Type {
    let schema = provider
        .client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    block_type(schema.provider.expect("provider schema").block.as_ref().expect("block"))
}

fn block_type(block: &pb::schema::Block) -> Type {
    let mut fields: Vec<(&str, Type)> =
        block.attributes.iter().map(|a| (a.name.as_str(), Type::from_json(&a.r#type).expect("type JSON"))).collect();
    for nested in &block.block_types {
        fields.push((nested.type_name.as_str(), block_type(nested.block.as_ref().expect("nested block"))));
    }
    Type::object(fields)
}

/// The value of an `assume_role { ... }` block.
pub fn role(agency: &str, domain: &str) -> Value {
    Value::Object(
        [
            ("agency_name".to_owned(), grpc::s(agency)),
            ("domain_name".to_owned(), grpc::s(domain)),
            ("duration".to_owned(), Value::Null),
        ]
        .into_iter()
        .collect(),
    )
}

/// Fails when `text` contains any of `secrets`.
pub fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(!text.contains(secret.as_str()), "{what} contains a secret ({} characters)", secret.len());
    }
}

/// Runs `terraform ARGS` in `ws` (its CLI configuration, a clean environment, then `env`), with
/// the workspace's time limit: `(success, stdout+stderr)`.
pub fn terraform(ws: &crate::support::terraform::Workspace, env: &[(String, String)], args: &[&str]) -> (bool, String) {
    let done = ws.run_env(env, args);
    (done.success(), done.text())
}

/// Writes `contents` at `path`, creating its directory.
pub fn write(path: &Path, contents: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, contents).expect("write");
}
