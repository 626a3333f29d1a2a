//! Acceptance tests of the ways Huawei Cloud users configure credentials, with the real
//! Terraform CLI (1.0.3, and any other version on PATH) against the simulator serving HSS, IAM
//! and the ECS metadata service on one loopback listener. No `project_id` anywhere: IAM finds
//! it. HOME is a temporary directory, so the developer's own `~/.hcloud/config.json` never
//! matters, and every address is the simulator's.

mod support;

use std::time::Duration;

use hss_sim::{IamConfig, SimConfig};
use serde_json::Value as Json;
use support::auth::{self, AGENCY, DOMAIN, Home, REGION};
use support::sim::{ACCESS_KEY, PROJECT, SECRET_KEY, Sim, TOKEN};
use support::terraform::{self, Terraform, Workspace};

const REQUIRED: &str = r#"
terraform {
  required_providers {
    hss = { source = "local/hss" }
  }
}
"#;

fn host_body(host: &str) -> String {
    format!(
        r#"
data "hss_host_ports" "h" {{
  host_id = "{host}"
}}
output "count" {{ value = length(data.hss_host_ports.h.ports) }}
"#
    )
}

/// A workspace with `provider "hss" { provider }` and `body`, every address the simulator's.
struct Case {
    ws: Workspace,
    env: Vec<(String, String)>,
}

impl Case {
    fn new(tf: &Terraform, sim: &Sim, home: &Home, provider: &str, body: &str) -> Case {
        let ws = Workspace::new(tf, &format!("{REQUIRED}\nprovider \"hss\" {{\n{provider}\n}}\n{body}"));
        Case { ws, env: auth::env(sim, home) }
    }

    fn env(mut self, key: &str, value: &str) -> Case {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    fn without(mut self, key: &str) -> Case {
        self.env.retain(|(k, _)| k != key);
        self
    }

    fn run(&self, args: &[&str]) -> (bool, String) {
        auth::terraform(&self.ws, &self.env, args)
    }

    /// `apply`, then the outputs.
    fn apply(&self) -> Json {
        let (ok, text) = self.run(&["apply", "-auto-approve", "-no-color"]);
        assert!(ok, "apply ({}) failed:\n{text}", self.ws.terraform.version);
        let (ok, out) = self.run(&["output", "-json"]);
        assert!(ok, "{out}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    /// A plan that must fail; its output, with Terraform's line wrapping undone (every run of
    /// white space one space).
    fn plan_fails(&self) -> String {
        let (ok, text) = self.run(&["plan", "-no-color"]);
        assert!(!ok, "plan ({}) should fail:\n{text}", self.ws.terraform.version);
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn count(out: &Json) -> u64 {
    out["count"]["value"].as_u64().unwrap_or_else(|| panic!("{out}"))
}

#[test]
fn region_and_aksk_find_the_project_through_iam_once_for_fifty_hosts() {
    let hosts: Vec<String> = (0..50).map(|i| format!("fleet-{i:02}")).collect();
    let spec: Vec<(&str, usize)> = hosts.iter().enumerate().map(|(i, h)| (h.as_str(), 1 + i % 5)).collect();
    let sim = Sim::start(auth::sim_config(&spec));
    let home = Home::empty();
    let body = terraform::for_each_port_counts(&hosts);
    for tf in terraform::versions() {
        let case = Case::new(tf, &sim, &home, "region = \"cn-north-4\"", &body)
            .without("HW_REGION_NAME")
            .env("HW_ACCESS_KEY", ACCESS_KEY)
            .env("HW_SECRET_KEY", SECRET_KEY);
        let before = sim.handle.iam_stats().project_lookups;
        let out = case.apply();
        let counts = out["counts"]["value"].as_object().expect("counts");
        assert_eq!(counts.len(), 50);
        for (host, n) in &spec {
            assert_eq!(counts[*host].as_u64(), Some(*n as u64), "{} {host}", tf.version);
        }
        let lookups = sim.handle.iam_stats().project_lookups - before;
        eprintln!("terraform {}: apply with a for_each over 50 hosts made {lookups} IAM project lookup(s)", tf.version);
        assert_eq!(lookups, 1, "{}: one lookup for 50 reads", tf.version);
        let before = sim.handle.iam_stats().project_lookups;
        let (ok, text) = case.run(&["plan", "-no-color"]);
        assert!(ok, "{text}");
        let lookups = sim.handle.iam_stats().project_lookups - before;
        eprintln!("terraform {}: plan with a for_each over 50 hosts made {lookups} IAM project lookup(s)", tf.version);
        assert_eq!(lookups, 1, "{}", tf.version);
    }
}

#[test]
fn koocli_profiles_by_current_by_profile_and_sso() {
    let sim = Sim::start(auth::sim_config(&[("web", 3)]));
    let (access, secret, token) = sim.handle.issue_temporary(Duration::from_secs(3600));
    let home = Home::with_file(&auth::koocli(
        "keys",
        &[auth::aksk_profile("keys", ACCESS_KEY, SECRET_KEY), auth::sso_profile("sso", &access, &secret, &token)],
    ));
    for tf in terraform::versions() {
        // `current`: the AK/SK profile, its region; no HW_* credentials at all.
        let case = Case::new(tf, &sim, &home, "", &host_body("web")).without("HW_REGION_NAME");
        let accepted = sim.handle.iam_stats().temporary_accepted;
        assert_eq!(count(&case.apply()), 3, "{}", tf.version);
        assert_eq!(sim.handle.iam_stats().temporary_accepted, accepted, "signed with the AK/SK profile");
        // `profile = "sso"`: the SSO profile's STS token.
        let case = Case::new(tf, &sim, &home, "profile = \"sso\"", &host_body("web")).without("HW_REGION_NAME");
        assert_eq!(count(&case.apply()), 3, "{}", tf.version);
        let now = sim.handle.iam_stats().temporary_accepted;
        assert!(now >= accepted + 2, "{}: lookup and read signed with the STS token", tf.version);
        // HW_PROFILE does the same.
        let case = Case::new(tf, &sim, &home, "", &host_body("web")).env("HW_PROFILE", "sso");
        assert_eq!(count(&case.apply()), 3, "{}", tf.version);
        assert!(sim.handle.iam_stats().temporary_accepted >= now + 2, "{}", tf.version);
    }
}

#[test]
fn assume_role_from_aksk_and_ecs_agency() {
    let mut cfg = auth::sim_config(&[("web", 4)]);
    cfg.iam.ecs_agency = true;
    let sim = Sim::start(cfg);
    let home = Home::empty();
    let role =
        format!("assume_role {{\n  agency_name = \"{AGENCY}\"\n  domain_name = \"{DOMAIN}\"\n  duration = 900\n}}");
    for tf in terraform::versions() {
        let before = sim.handle.iam_stats();
        let case = Case::new(tf, &sim, &home, &role, &host_body("web"))
            .env("HW_ACCESS_KEY", ACCESS_KEY)
            .env("HW_SECRET_KEY", SECRET_KEY);
        assert_eq!(count(&case.apply()), 4, "{}", tf.version);
        let after = sim.handle.iam_stats();
        assert!(after.assume_role_issued > before.assume_role_issued, "{}", tf.version);
        assert!(after.temporary_accepted >= before.temporary_accepted + 2, "{}", tf.version);

        let case = Case::new(tf, &sim, &home, "use_ecs_agency = true", &host_body("web"));
        assert_eq!(count(&case.apply()), 4, "{}", tf.version);
        let ecs = sim.handle.iam_stats();
        assert!(
            ecs.metadata_issued > after.metadata_issued && ecs.metadata_token_requests > after.metadata_token_requests
        );
    }
}

/// Credentials that live 3 s, a read of 200 pages at 50 ms each, two at a time (about 5 s):
/// renewed in the middle of the read, which succeeds without a single 401.
#[test]
fn credentials_shorter_lived_than_a_slow_read_are_renewed() {
    let mut cfg = auth::sim_config(&[("slow", 2000)]);
    cfg.iam.credential_lifetime = Some(Duration::from_secs(3));
    cfg.faults.latency = Duration::from_millis(50);
    let sim = Sim::start(cfg);
    let home = Home::empty();
    let body = r#"
data "hss_host_ports" "h" {
  host_id   = "slow"
  page_size = 10
}
output "count" { value = length(data.hss_host_ports.h.ports) }
"#;
    let provider = format!(
        "max_concurrent_requests = 2\nassume_role {{\n  agency_name = \"{AGENCY}\"\n  domain_name = \"{DOMAIN}\"\n}}"
    );
    for tf in terraform::versions() {
        sim.handle.reset_stats();
        let before = sim.handle.iam_stats();
        let case = Case::new(tf, &sim, &home, &provider, body).env("HW_AUTH_TOKEN", TOKEN);
        let started = std::time::Instant::now();
        assert_eq!(count(&case.apply()), 2000, "{}", tf.version);
        let elapsed = started.elapsed();
        let stats = sim.handle.stats();
        assert!(stats.requests >= 200, "{}: {} pages", tf.version, stats.requests);
        assert_eq!(stats.status_counts.get(&401), None, "{}: nothing signed with expired credentials", tf.version);
        let issued = sim.handle.iam_stats().assume_role_issued - before.assume_role_issued;
        eprintln!("terraform {}: 200 pages in {elapsed:?}, {issued} credentials issued", tf.version);
        assert!(issued >= 2, "{}: renewed mid-read ({issued})", tf.version);
        assert!(issued <= 2 + elapsed.as_secs() / 2, "{}: {issued} renewals in {elapsed:?}", tf.version);
    }
}

#[test]
fn every_failure_has_its_diagnostic() {
    let mut cfg = auth::sim_config(&[("web", 1)]);
    cfg.iam.projects.push(("eu-west-101".into(), "first0project".into()));
    cfg.iam.projects.push(("eu-west-101".into(), "second0project".into()));
    let sim = Sim::start(cfg);
    let denied = Sim::start(SimConfig {
        iam: IamConfig { deny_project_lookup: true, ..auth::sim_config(&[]).iam },
        ..auth::sim_config(&[("web", 1)])
    });
    let empty = Home::empty();
    let encrypted = Home::with_file(&auth::koocli(
        "enc",
        &[
            serde_json::json!({"name":"enc","mode":"AKSK","accessKeyId":"QUtFTkNSWVBURUQ=","secretAccessKey":"c2stZW5jcnlwdGVkLXZhbHVl","crypter":"aes-256-gcm","nonce":"bm9uY2U="}),
        ],
    ));
    let broken = Home::with_file("{\"current\": \"main\", \"profiles\": [ {\"name\": \"main\", sk-broken-secret ]");
    let body = host_body("web");
    for tf in terraform::versions() {
        let token =
            |home: &Home, provider: &str| Case::new(tf, &sim, home, provider, &body).env("HW_AUTH_TOKEN", TOKEN);
        let cases: Vec<(&str, Case, Vec<&str>)> = vec![
            (
                "no project",
                token(&empty, "").env("HW_REGION_NAME", "eu-west-0"),
                vec!["region \"eu-west-0\"", "no project named \"eu-west-0\"", "HW_PROJECT_ID"],
            ),
            (
                "several projects",
                token(&empty, "").env("HW_REGION_NAME", "eu-west-101"),
                vec!["2 projects named \"eu-west-101\"", "first0project", "Set project_id"],
            ),
            (
                "401",
                Case::new(tf, &sim, &empty, "", &body)
                    .env("HW_ACCESS_KEY", ACCESS_KEY)
                    .env("HW_SECRET_KEY", "wrong-secret-key-77aa"),
                vec!["region \"cn-north-4\"", "rejected the credentials", "APIGW.0301", "clock"],
            ),
            (
                "403",
                Case::new(tf, &denied, &empty, "", &body).env("HW_AUTH_TOKEN", TOKEN),
                vec!["region \"cn-north-4\"", "refused to list projects", "set project_id"],
            ),
            (
                "encrypted profile",
                Case::new(tf, &sim, &encrypted, "", &body),
                vec!["encrypted", "--cli-auth-encrypt=false"],
            ),
            ("not JSON", Case::new(tf, &sim, &broken, "", &body), vec!["not valid JSON", ".hcloud/config.json"]),
            (
                "no credentials",
                Case::new(tf, &sim, &empty, "", &body),
                vec!["No credentials", "use_ecs_agency", "HW_PROFILE"],
            ),
            (
                "no ECS agency",
                Case::new(tf, &sim, &empty, "use_ecs_agency = true", &body),
                vec!["has no agency credentials", "attach an agency"],
            ),
            (
                "unknown agency",
                token(&empty, "assume_role {\n  agency_name = \"nope\"\n  domain_name = \"acme-ops\"\n}"),
                vec!["cannot assume agency \"nope\"", "HTTP 403"],
            ),
            (
                "duration",
                token(&empty, "assume_role {\n  agency_name = \"a\"\n  domain_name = \"d\"\n  duration = 60\n}"),
                vec!["duration", "900 to 43200"],
            ),
        ];
        for (what, case, wants) in cases {
            let text = case.plan_fails();
            for want in wants {
                assert!(text.contains(want), "{} {what}: {want:?} missing from:\n{text}", tf.version);
            }
            for secret in ["wrong-secret-key-77aa", "c2stZW5jcnlwdGVkLXZhbHVl", "sk-broken-secret", TOKEN, SECRET_KEY] {
                assert!(!text.contains(secret), "{} {what}: a secret leaked:\n{text}", tf.version);
            }
        }
        assert_eq!(sim.handle.iam_stats().metadata_issued, 0);
    }
}

#[test]
fn validate_needs_no_credentials_and_the_schema_has_the_block() {
    let sim = Sim::start(auth::sim_config(&[]));
    let home = Home::empty();
    let provider = format!(
        "assume_role {{\n  agency_name = \"{AGENCY}\"\n  domain_name = \"{DOMAIN}\"\n}}\nuse_ecs_agency = true"
    );
    for tf in terraform::versions() {
        let case = Case::new(tf, &sim, &home, &provider, &host_body("web"));
        let case = Case { env: vec![("HOME".into(), home.path().into())], ..case };
        let (ok, text) = case.run(&["validate", "-no-color"]);
        assert!(ok, "{}: {text}", tf.version);
        let (ok, schema) = case.run(&["providers", "schema", "-json"]);
        assert!(ok, "{schema}");
        let json: Json = serde_json::from_str(&schema).expect("schema JSON");
        let ours = json["provider_schemas"]
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.ends_with("local/hss")))
            .expect("ours")
            .1;
        let block = &ours["provider"]["block"];
        assert_eq!(block["block_types"]["assume_role"]["nesting_mode"], "single", "{}", tf.version);
        assert!(block["block_types"]["assume_role"]["block"]["attributes"]["agency_name"].is_object());
        for name in ["project_name", "auth_url", "shared_config_file", "profile", "use_ecs_agency"] {
            assert!(block["attributes"][name]["optional"].as_bool() == Some(true), "{name}");
        }
    }
    assert_eq!(sim.handle.iam_stats(), Default::default(), "validate sends nothing");
}

/// Issue 10, item 6, with real Terraform: a token in the block wins over the environment's
/// AK/SK as a whole, and an empty string (a variable's default) falls back to the environment.
#[test]
fn block_credentials_win_and_empty_strings_fall_back_to_the_environment() {
    let sim = Sim::start(auth::sim_config(&[("web", 2)]));
    let home = Home::empty();
    for tf in terraform::versions() {
        let block = format!("token = \"{TOKEN}\"\nproject_id = \"{PROJECT}\"");
        let case = Case::new(tf, &sim, &home, &block, &host_body("web"))
            .env("HW_ACCESS_KEY", ACCESS_KEY)
            .env("HW_SECRET_KEY", "not-the-secret-key-1234");
        assert_eq!(count(&case.apply()), 2, "{}", tf.version);
        let body = format!("variable \"token\" {{\n  default = \"\"\n}}\n{}", host_body("web"));
        let case = Case::new(tf, &sim, &home, "token = var.token\nendpoint = \"\"\nregion = \"\"", &body)
            .env("HW_AUTH_TOKEN", TOKEN)
            .env("HW_REGION_NAME", REGION);
        assert_eq!(count(&case.apply()), 2, "{}", tf.version);
    }
}
