//! Acceptance tests of the drift check: `hss_host_port_drift` and the provider functions, with
//! the real Terraform CLI (1.0.3 and any other version on PATH) against the simulator.
//!
//! The simulator's reference host listens on UDP/68 (0.0.0.0, dhclient) and UDP/323
//! (127.0.0.1, chronyd); `web-1` adds a TCP/8080 listener on 0.0.0.0.

mod support;

use std::collections::BTreeMap;

use hss_sim::PortRecord;
use support::sim::{self, Sim};
use support::terraform::{self, PROVIDER, Terraform, Workspace};

const REFERENCE_HOST: &str = "dd91cd32-a238-4c0e-bc01-3b11653714ac";

fn simulator() -> Sim {
    let record = |port, ty: &str, laddr: &str, path: &str, pid| PortRecord {
        agent_id: "a1".into(),
        container_id: String::new(),
        host_id: "web-1".into(),
        laddr: laddr.into(),
        path: path.into(),
        pid,
        port,
        status: "normal".into(),
        port_type: ty.into(),
    };
    let mut cfg = Sim::config(&[]);
    cfg.hosts = BTreeMap::from([(
        "web-1".to_owned(),
        vec![
            record(22, "TCP", "0.0.0.0", "/usr/sbin/sshd", 811),
            record(443, "TCP", "::", "/usr/sbin/nginx", 1200),
            record(8080, "TCP", "0.0.0.0", "/opt/app/bin/server", 4242),
        ],
    )]);
    Sim::start(cfg)
}

fn drift(host: &str, allowed: &str, extra: &str) -> String {
    format!(
        r#"
data "hss_host_port_drift" "d" {{
  host_id = "{host}"
  allowed = {allowed}
  {extra}
}}
output "in_policy" {{ value = data.hss_host_port_drift.d.in_policy }}
output "summary" {{ value = data.hss_host_port_drift.d.summary }}
output "missing" {{ value = data.hss_host_port_drift.d.missing }}
output "unexpected" {{ value = [for p in data.hss_host_port_drift.d.unexpected : "${{p.type}}/${{p.port}}@${{p.laddr}}"] }}
"#
    )
}

#[test]
fn a_host_in_policy_passes_and_its_second_plan_is_clean() {
    let sim = simulator();
    for tf in terraform::versions() {
        let ws = terraform::with_sim(
            tf,
            &sim,
            &drift(REFERENCE_HOST, r#"["68/udp", "*/udp@loopback"]"#, "fail_on_drift = true"),
        );
        let out = ws.apply_outputs();
        assert_eq!(out["in_policy"]["value"], true, "{}", tf.version);
        assert_eq!(out["summary"]["value"], "0 unexpected, 0 missing", "{}", tf.version);
        ws.assert_plan_is_clean("in policy");
    }
}

#[test]
fn an_unexpected_port_fails_the_plan_naming_port_address_and_process() {
    let sim = simulator();
    for tf in terraform::versions() {
        // 22 is allowed on loopback only, and sshd listens on 0.0.0.0: that is drift too.
        let body = drift("web-1", r#"["22/tcp@127.0.0.1", "443/tcp"]"#, "fail_on_drift = true");
        let text = terraform::with_sim(tf, &sim, &body).fails(&["plan", "-no-color"]);
        assert!(text.contains("Open ports of host web-1 drift from the policy"), "{}: {text}", tf.version);
        assert!(text.contains("TCP/8080 on 0.0.0.0 by /opt/app/bin/server (pid 4242)"), "{}: {text}", tf.version);
        assert!(text.contains("TCP/22 on 0.0.0.0 by /usr/sbin/sshd"), "{}: {text}", tf.version);
        assert!(!text.contains("TCP/443"), "{}: 443 is allowed: {text}", tf.version);

        // Without fail_on_drift the same check reports instead of failing.
        let out =
            terraform::with_sim(tf, &sim, &drift("web-1", r#"["22/tcp@127.0.0.1", "443/tcp"]"#, "")).apply_outputs();
        assert_eq!(out["in_policy"]["value"], false);
        assert_eq!(out["unexpected"]["value"], serde_json::json!(["TCP/22@0.0.0.0", "TCP/8080@0.0.0.0"]));
        let summary = out["summary"]["value"].as_str().unwrap_or_default();
        assert!(summary.starts_with("2 unexpected (TCP/22 on 0.0.0.0"), "{summary}");
    }
}

#[test]
fn a_missing_required_port_is_reported_and_can_fail_the_plan() {
    let sim = simulator();
    for tf in terraform::versions() {
        let extra = r#"required = ["22/tcp", "68/udp"]"#;
        let out = terraform::with_sim(tf, &sim, &drift(REFERENCE_HOST, r#"["*"]"#, extra)).apply_outputs();
        assert_eq!(out["missing"]["value"], serde_json::json!(["22/tcp"]), "{}", tf.version);
        assert_eq!(out["in_policy"]["value"], false);
        let body = drift(REFERENCE_HOST, r#"["*"]"#, &format!("{extra}\n  fail_on_drift = true"));
        let text = terraform::with_sim(tf, &sim, &body).fails(&["plan", "-no-color"]);
        assert!(text.contains("1 required rule(s) match no open port"), "{}: {text}", tf.version);
        assert!(text.contains("- 22/tcp"), "{}: {text}", tf.version);
    }
}

#[test]
fn a_bad_rule_fails_at_plan_time_at_its_index() {
    let sim = simulator();
    for tf in terraform::versions() {
        let body = drift(REFERENCE_HOST, r#"["22/tcp", "68/udp", "9000-80"]"#, "");
        let text = terraform::with_sim(tf, &sim, &body).fails(&["plan", "-no-color"]);
        assert!(text.contains("Invalid rule at allowed[2]"), "{}: {text}", tf.version);
        assert!(text.contains("port range 9000-80 is reversed"), "{}: {text}", tf.version);
        // Terraform quotes the offending line.
        assert!(text.contains("allowed = [\"22/tcp\", \"68/udp\", \"9000-80\"]"), "{}: {text}", tf.version);
    }
    assert_eq!(sim.handle.stats().requests, 0, "a bad rule is caught before any request");
}

/// The Terraform versions that call provider functions (>= 1.8).
fn with_functions() -> Vec<&'static Terraform> {
    terraform::versions()
        .iter()
        .filter(|tf| {
            let mut parts = tf.version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (1, 8)
        })
        .collect()
}

#[test]
fn functions_match_like_the_data_source_and_name_bad_rules() {
    let sim = simulator();
    let versions = with_functions();
    if versions.is_empty() {
        eprintln!("no Terraform >= 1.8 on PATH: provider functions are not exercised here");
    }
    for tf in versions {
        let body = r#"
data "hss_host_ports" "web" {
  host_id = "web-1"
}
output "unexpected" {
  value = [for p in provider::hss::unexpected_ports(data.hss_host_ports.web.ports, ["22/tcp", "443/tcp@::"]) : p.port]
}
output "literal" {
  value = provider::hss::unexpected_ports([{ port = 22, type = "TCP", laddr = "0.0.0.0", note = "kept" }], ["22@loopback"])
}
output "allowed" {
  value = provider::hss::port_allowed({ port = 22, type = "TCP", laddr = "0.0.0.0" }, ["22/tcp@127.0.0.1"])
}
"#;
        let out = terraform::with_sim(tf, &sim, body).apply_outputs();
        assert_eq!(out["unexpected"]["value"], serde_json::json!([8080]), "{}", tf.version);
        assert_eq!(out["literal"]["value"][0]["note"], "kept", "elements come back unchanged");
        assert_eq!(out["allowed"]["value"], false, "a wildcard listener is not loopback");

        let bad = r#"
output "bad" {
  value = provider::hss::port_allowed({ port = 22, type = "TCP", laddr = "0.0.0.0" }, ["22", "70000/tcp"])
}
"#;
        // Terraform wraps long messages: compare with the whitespace collapsed.
        let text = terraform::with_sim(tf, &sim, bad).fails(&["plan", "-no-color"]);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("Invalid value for \"allowed\" parameter"), "{}: {text}", tf.version);
        let message = "allowed[1]: rule \"70000/tcp\": port 70000 is out of range 1-65535";
        assert!(flat.contains(message), "{}: {text}", tf.version);
    }
}

#[test]
fn terraform_console_evaluates_the_functions_without_configuration() {
    for tf in with_functions() {
        // No simulator and no credentials: functions must not need the provider's configuration.
        let ws = Workspace::new(tf, PROVIDER);
        let out = ws.run_with_stdin(
            &["console"],
            "provider::hss::port_allowed({ port = 323, type = \"UDP\", laddr = \"::ffff:127.0.0.1\" }, [\"*/udp@loopback\"])\n",
        );
        assert!(out.contains("true"), "{}: {out}", tf.version);
    }
}

#[test]
fn the_example_policy_module_passes_terraform_test() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in terraform::versions().iter().filter(|tf| !tf.version.starts_with("1.0.")) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policy-test");
        let ws = Workspace::new(tf, &std::fs::read_to_string(root.join("main.tf")).expect("main.tf"))
            .env("HW_HSS_ENDPOINT", &sim.url())
            .env("HW_PROJECT_ID", sim::PROJECT)
            .env("HW_AUTH_TOKEN", sim::TOKEN);
        ws.write(
            "tests/policy.tftest.hcl",
            &std::fs::read_to_string(root.join("tests/policy.tftest.hcl")).expect("test file"),
        );
        let out = ws.ok(&["test", "-no-color"]);
        assert!(out.contains("3 passed, 0 failed"), "{}: {out}", tf.version);
    }
}
