//! Acceptance tests: the real Terraform CLI (1.0.3, and any other version on PATH) runs our
//! provider against the simulator. Every scenario runs once per Terraform version.

mod support;

use serde_json::Value as Json;
use support::sim::{self, Sim};
use support::terraform::{self, PROVIDER, Workspace};

const REFERENCE_HOST: &str = "dd91cd32-a238-4c0e-bc01-3b11653714ac";

/// `ports` and `total_num` of one host, as Terraform outputs them.
fn host_body(host: &str) -> String {
    format!(
        r#"
data "hss_host_ports" "h" {{
  host_id = "{host}"
}}
output "ports" {{ value = data.hss_host_ports.h.ports }}
output "total_num" {{ value = data.hss_host_ports.h.total_num }}
output "id" {{ value = data.hss_host_ports.h.id }}
"#
    )
}

/// Like [`host_body`], but outputs the list as one JSON string, `ports_json`. Terraform 1.11
/// compares a list-valued output with its prior value in time quadratic in its length (about
/// 0.8 s at 1,000 elements, 7 s at 3,000, 1.5 to 3 minutes at 10,000, whatever the provider),
/// on every later plan; a string is compared at once. The README's "Large lists" says the same
/// to users.
fn large_host_body(host: &str) -> String {
    host_body(host).replace(
        r#"output "ports" { value = data.hss_host_ports.h.ports }"#,
        r#"output "ports_json" { value = jsonencode(data.hss_host_ports.h.ports) }"#,
    )
}

/// Checks that the ports output (`ports`, or `ports_json` from [`large_host_body`], as
/// `terraform output -json` gives them) is exactly the simulator's truth, sorted.
fn assert_complete_and_sorted(sim: &Sim, host: &str, outputs: &Json) {
    let decoded: Json = match outputs["ports_json"]["value"].as_str() {
        Some(text) => serde_json::from_str(text).expect("ports_json is JSON"),
        None => outputs["ports"]["value"].clone(),
    };
    let ports = decoded.as_array().expect("ports list");
    let truth = sim.handle.ports(host);
    assert_eq!(ports.len(), truth.len(), "every port of {host}");
    assert_eq!(outputs["total_num"]["value"].as_u64(), Some(truth.len() as u64));
    let key = |p: &Json| {
        (
            p["port"].as_u64().unwrap_or(0),
            p["type"].as_str().unwrap_or("").to_owned(),
            p["laddr"].as_str().unwrap_or("").to_owned(),
            p["pid"].as_u64().unwrap_or(0),
        )
    };
    let keys: Vec<_> = ports.iter().map(key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ports sorted by port, type, laddr, pid");
    let mut got: Vec<String> = ports
        .iter()
        .map(|p| format!("{}/{}/{}/{}/{}", p["type"], p["port"], p["laddr"], p["pid"], p["path"]))
        .collect();
    let mut want: Vec<String> = truth
        .iter()
        .map(|r| format!("\"{}\"/{}/\"{}\"/{}/\"{}\"", r.port_type, r.port, r.laddr, r.pid, r.path))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "the same records as the simulator holds");
}

#[test]
fn providers_schema_lists_the_provider_and_the_data_source() {
    for tf in terraform::versions() {
        let ws = Workspace::new(tf, PROVIDER);
        let out = ws.ok(&["providers", "schema", "-json"]);
        let json: Json = serde_json::from_str(&out).expect("schema JSON");
        let schemas = &json["provider_schemas"];
        let (_, ours) = schemas
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.ends_with("local/hss")))
            .expect("local/hss listed");
        assert!(ours["provider"]["block"]["attributes"]["secret_key"]["sensitive"].as_bool() == Some(true));
        let ds = &ours["data_source_schemas"]["hss_host_ports"]["block"]["attributes"];
        assert_eq!(ds["host_id"]["required"], true, "{}", tf.version);
        assert!(ds["ports"]["computed"].as_bool() == Some(true));
    }
}

#[test]
fn token_auth_reads_the_reference_host_in_order() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in terraform::versions() {
        let out = terraform::with_sim(tf, &sim, &host_body(REFERENCE_HOST)).apply_outputs();
        assert_complete_and_sorted(&sim, REFERENCE_HOST, &out);
        let ports = &out["ports"]["value"];
        assert_eq!(ports[0]["port"], 68);
        assert_eq!(ports[0]["path"], "/usr/sbin/dhclient");
        assert_eq!(ports[1]["port"], 323);
        assert_eq!(ports[1]["status"], "unknow", "status exactly as the API spells it");
        assert_eq!(ports[1]["container_id"], "");
        assert_eq!(out["id"]["value"], REFERENCE_HOST);
    }
}

#[test]
fn aksk_auth_is_verified_by_the_simulator() {
    let sim = Sim::start(Sim::config(&[("signed-host", 3)]));
    for tf in terraform::versions() {
        let ws = Workspace::new(tf, &format!("{PROVIDER}\n{}", host_body("signed-host")))
            .env("HW_HSS_ENDPOINT", &sim.url())
            .env("HW_PROJECT_ID", sim::PROJECT)
            .env("HW_ACCESS_KEY", sim::ACCESS_KEY)
            .env("HW_SECRET_KEY", sim::SECRET_KEY);
        let out = ws.apply_outputs();
        assert_complete_and_sorted(&sim, "signed-host", &out);
    }
}

#[test]
fn hosts_of_every_size_are_read_completely_and_plans_stay_clean() {
    let sim = Sim::start(Sim::config(&[("empty-host", 0), ("mid-host", 450), ("big-host", 10_000)]));
    for tf in terraform::versions() {
        for host in ["empty-host", REFERENCE_HOST, "mid-host", "big-host"] {
            let ws = terraform::with_sim(tf, &sim, &large_host_body(host));
            let out = ws.apply_outputs();
            assert_complete_and_sorted(&sim, host, &out);
            ws.assert_plan_is_clean(host);
        }
    }
}

#[test]
fn every_filter_reaches_the_api_percent_encoded() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in terraform::versions() {
        sim.handle.reset_stats();
        let body = format!(
            r#"
data "hss_host_ports" "f" {{
  host_id               = "{REFERENCE_HOST}"
  host_name             = "web 1+x/é"
  host_ip               = "192.168.0.10"
  port                  = 68
  type                  = "UDP"
  status                = "unknown"
  enterprise_project_id = "all_granted_eps"
  category              = "host"
  page_size             = 50
}}
output "n" {{ value = data.hss_host_ports.f.total_num }}
"#
        );
        terraform::with_sim(tf, &sim, &body).apply_outputs();
        let queries = sim.handle.queries();
        let q = queries.iter().find(|q| q.contains("host_name=")).expect("a filtered query");
        for part in [
            "host_name=web%201%2Bx%2F%C3%A9",
            "host_ip=192.168.0.10",
            "port=68",
            "type=UDP",
            "status=unknown",
            "enterprise_project_id=all_granted_eps",
            "category=host",
            "limit=50",
            "offset=0",
            &format!("host_id={REFERENCE_HOST}"),
        ] {
            assert!(q.split('&').any(|p| p == part), "{part} missing from {q}");
        }
    }
}

#[test]
fn bad_inputs_fail_at_plan_naming_the_attribute() {
    let sim = Sim::start(Sim::config(&[]));
    let cases = [
        ("port = 70000", "port"),
        ("type = \"SCTP\"", "type"),
        ("page_size = 5", "page_size"),
        ("status = \"bad\"", "status"),
    ];
    for tf in terraform::versions() {
        for (line, attr) in cases {
            let body = format!("data \"hss_host_ports\" \"b\" {{\n  host_id = \"h\"\n  {line}\n}}\n");
            let text = terraform::with_sim(tf, &sim, &body).fails(&["plan", "-no-color"]);
            assert!(text.contains(&format!("Invalid {attr}")), "{}: {line}: {text}", tf.version);
            // Terraform quotes the offending line when the diagnostic carries its path.
            assert!(text.contains(line), "{}: the error points at {line:?}: {text}", tf.version);
        }
        let text = terraform::with_sim(tf, &sim, "data \"hss_host_ports\" \"b\" {}\n").fails(&["plan", "-no-color"]);
        assert!(text.contains("host_id"), "{}: {text}", tf.version);
    }
}

#[test]
fn wrong_credentials_give_a_clear_error_with_a_hint() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in terraform::versions() {
        let ws = Workspace::new(tf, &format!("{PROVIDER}\n{}", host_body(REFERENCE_HOST)))
            .env("HW_HSS_ENDPOINT", &sim.url())
            .env("HW_PROJECT_ID", sim::PROJECT)
            .env("HW_ACCESS_KEY", sim::ACCESS_KEY)
            .env("HW_SECRET_KEY", "not-the-secret-key");
        let text = ws.fails(&["plan", "-no-color"]);
        assert!(text.contains("APIGW.0301"), "{text}");
        assert!(text.contains("clock"), "the hint mentions the clock: {text}");
        assert!(!text.contains("not-the-secret-key"), "the secret key leaked: {text}");
    }
}

#[test]
fn provider_config_errors_name_the_attribute() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in terraform::versions() {
        let body = format!("{}\n{}", host_body(REFERENCE_HOST), "");
        let ws = Workspace::new(
            tf,
            &format!(
                "{}\n{body}",
                PROVIDER
                    .replace("provider \"hss\" {}", "provider \"hss\" {\n  token = \"t\"\n  access_key = \"ak\"\n}")
            ),
        )
        .env("HW_HSS_ENDPOINT", &sim.url())
        .env("HW_PROJECT_ID", sim::PROJECT);
        let text = ws.fails(&["plan", "-no-color"]);
        assert!(text.contains("Conflicting credentials"), "{text}");
        let ws = Workspace::new(tf, &format!("{PROVIDER}\n{body}")).env("HW_AUTH_TOKEN", "t");
        let text = ws.fails(&["plan", "-no-color"]);
        assert!(text.contains("Missing project_id"), "{text}");
        assert!(text.contains("Missing region"), "{text}");
    }
}

#[test]
fn for_each_over_fifty_hosts_in_one_plan() {
    let hosts: Vec<String> = (0..50).map(|i| format!("fleet-{i:02}")).collect();
    let spec: Vec<(&str, usize)> = hosts.iter().enumerate().map(|(i, h)| (h.as_str(), 1 + i % 7 * 40)).collect();
    let sim = Sim::start(Sim::config(&spec));
    let body = terraform::for_each_port_counts(&hosts);
    for tf in terraform::versions() {
        let out = terraform::with_sim(tf, &sim, &body).apply_outputs();
        let counts = out["counts"]["value"].as_object().expect("counts");
        assert_eq!(counts.len(), 50);
        for (host, n) in &spec {
            assert_eq!(counts[*host].as_u64(), Some(*n as u64), "{} {host}", tf.version);
        }
    }
}
