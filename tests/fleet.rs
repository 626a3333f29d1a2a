//! Acceptance tests of the fleet data sources (`hss_hosts`, `hss_port_hosts`,
//! `hss_fleet_port_drift`) and their examples: the real Terraform CLI (1.0.3, and any other
//! version on PATH) against the simulator's generated fleet.
//!
//! The simulator's fleet is seeded (`Sim::config` uses seed 7), so every run sees the same
//! servers; the truth each test compares with comes from the simulator itself.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use hss_sim::{FleetSpec, HostInfo, PortHostInfo, PortRecord, SimConfig, Skew};
use serde_json::Value as Json;
use support::sim::{self, Sim};
use support::terraform::{self, Terraform, Workspace};

const PROVIDER: &str = r#"
terraform {
  required_providers {
    hss = { source = "local/hss" }
  }
}
provider "hss" {}
"#;

/// 200 generated servers (plus the reference host), `rare` listeners on 12 servers each.
fn fleet_config(rare: usize) -> SimConfig {
    let mut cfg = Sim::config(&[]);
    cfg.fleet = FleetSpec { hosts: 200, ports_per_host: 12, pairs: 60, rare_pairs: rare, rare_hosts: 12 };
    cfg
}

fn workspace(tf: &Terraform, sim: &Sim, body: &str) -> Workspace {
    Workspace::new(tf, &format!("{PROVIDER}\n{body}"))
        .env("HW_HSS_ENDPOINT", &sim.url())
        .env("HW_PROJECT_ID", sim::PROJECT)
        .env("HW_AUTH_TOKEN", sim::TOKEN)
}

/// Compares an object Terraform output with the simulator's record: every attribute Terraform
/// has is the record's field, or null where the record has none.
fn assert_same_object(got: &Json, want: &Json, what: &str) {
    let got = got.as_object().unwrap_or_else(|| panic!("{what}: not an object: {got}"));
    let want = want.as_object().unwrap_or_else(|| panic!("{what}: not an object: {want}"));
    for (k, v) in got {
        assert_eq!(v, want.get(k).unwrap_or(&Json::Null), "{what}: {k}");
    }
    for k in want.keys() {
        assert!(got.contains_key(k), "{what}: {k} is not in the schema");
    }
}

/// The servers of the default enterprise project, sorted by ID.
fn default_project(sim: &Sim) -> Vec<HostInfo> {
    sim.handle.hosts().into_iter().filter(|h| h.enterprise_project_id.as_deref() == Some("0")).collect()
}

#[test]
fn hss_hosts_lists_the_whole_fleet_sorted_and_a_second_plan_is_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("hosts.json");
    std::fs::write(&fixture, r#"{"elsewhere-1": {"enterprise_project_id": "ep-2", "host_name": "far away"}}"#)
        .expect("fixture");
    let sim = Sim::start(SimConfig { host_fixture: Some(fixture), ..fleet_config(0) });
    let truth = default_project(&sim);
    assert_eq!(truth.len(), 201);
    let body = r#"
data "hss_hosts" "all" {}
data "hss_hosts" "every_project" {
  enterprise_project_id = "all_granted_eps"
  page_size             = 10
}
output "hosts" { value = data.hss_hosts.all.hosts }
output "ids" { value = data.hss_hosts.all.ids }
output "total_num" { value = data.hss_hosts.all.total_num }
output "id" { value = data.hss_hosts.all.id }
output "every_project" { value = data.hss_hosts.every_project.ids }
output "every_project_id" { value = data.hss_hosts.every_project.id }
"#;
    for tf in terraform::versions() {
        let ws = workspace(tf, &sim, body);
        let out = ws.apply_outputs();
        let hosts = out["hosts"]["value"].as_array().expect("hosts");
        assert_eq!(hosts.len(), truth.len(), "{}", tf.version);
        for (got, want) in hosts.iter().zip(&truth) {
            let want = serde_json::to_value(want).expect("json");
            assert_same_object(got, &want, &format!("{} {}", tf.version, want["host_id"]));
        }
        assert_eq!(hosts[0].as_object().map(|o| o.len()), Some(27), "every documented field");
        let ids: Vec<&str> = truth.iter().filter_map(|h| h.host_id.as_deref()).collect();
        assert_eq!(out["ids"]["value"], serde_json::json!(ids), "{}", tf.version);
        assert_eq!(out["total_num"]["value"], 201);
        assert_eq!(out["id"]["value"], "hosts");
        let every = out["every_project"]["value"].as_array().expect("ids");
        assert_eq!(every.len(), 202, "{}: the other project's server too", tf.version);
        assert!(every.contains(&Json::from("elsewhere-1")));
        assert_eq!(out["every_project_id"]["value"], "hosts?enterprise_project_id=all_granted_eps");
        ws.assert_plan_is_clean("fleet");
    }
}

#[test]
fn hss_port_hosts_lists_every_server_with_the_port_sorted() {
    let sim = Sim::start(fleet_config(2));
    let body = r#"
data "hss_port_hosts" "ssh" {
  port = 22
}
data "hss_port_hosts" "ssh_tcp_small_pages" {
  port      = 22
  type      = "TCP"
  page_size = 10
}
data "hss_port_hosts" "app_containers" {
  port     = 8080
  category = "container"
}
output "ssh" { value = data.hss_port_hosts.ssh.hosts }
output "ssh_total" { value = data.hss_port_hosts.ssh.total_num }
output "ssh_id" { value = data.hss_port_hosts.ssh.id }
output "ssh_tcp" { value = data.hss_port_hosts.ssh_tcp_small_pages.hosts }
output "containers" { value = data.hss_port_hosts.app_containers.hosts }
"#;
    let truth = |port: u32, container: bool| -> Vec<PortHostInfo> {
        let mut v: Vec<PortHostInfo> =
            sim.handle.port_hosts(port).into_iter().filter(|r| r.container_id.is_empty() != container).collect();
        v.sort_by(|a, b| {
            (&a.host_id, a.port, &a.port_type, &a.laddr, a.pid, &a.path, &a.container_id).cmp(&(
                &b.host_id,
                b.port,
                &b.port_type,
                &b.laddr,
                b.pid,
                &b.path,
                &b.container_id,
            ))
        });
        v
    };
    let ssh = truth(22, false);
    let containers = truth(8080, true);
    assert!(ssh.len() > 40 && ssh.iter().any(|r| r.laddr == "::"), "sshd on both families");
    assert!(!containers.is_empty());
    for tf in terraform::versions() {
        let ws = workspace(tf, &sim, body);
        let out = ws.apply_outputs();
        for (name, want) in [("ssh", &ssh), ("ssh_tcp", &ssh), ("containers", &containers)] {
            let got = out[name]["value"].as_array().expect("list");
            assert_eq!(got.len(), want.len(), "{} {name}", tf.version);
            for (g, w) in got.iter().zip(want) {
                assert_same_object(g, &serde_json::to_value(w).expect("json"), &format!("{} {name}", tf.version));
            }
        }
        assert_eq!(out["ssh_total"]["value"].as_u64(), Some(ssh.len() as u64));
        assert_eq!(out["ssh_id"]["value"], "22");
        ws.assert_plan_is_clean("fleet");
    }
}

#[test]
fn filters_reach_the_api_percent_encoded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("hosts.json");
    let details = serde_json::json!({ "fx-1": {
        "host_name": "web 1+x/é", "private_ip": "10.9.8.7", "public_ip": "2001:db8::7",
        "enterprise_project_id": "ep 7", "os_type": "Linux", "host_status": "ACTIVE", "agent_status": "online",
        "protect_status": "opened", "version": "hss.version.premium", "group_id": "g-1", "group_name": "blue team",
        "policy_group_id": "pg-1", "policy_group_name": "policy é", "labels": ["prod", "pci"],
        "asset_value": "important", "vpc_id": "vpc-1"
    }});
    std::fs::write(&fixture, details.to_string()).expect("fixture");
    let mut cfg = SimConfig { host_fixture: Some(fixture), ..fleet_config(0) };
    let sshd = PortRecord {
        agent_id: "a".into(),
        container_id: String::new(),
        host_id: "fx-1".into(),
        laddr: "10.9.8.7".into(),
        path: "/usr/sbin/sshd".into(),
        pid: 812,
        port: 22,
        status: "normal".into(),
        port_type: "TCP".into(),
    };
    cfg.hosts = BTreeMap::from([("fx-1".to_owned(), vec![sshd])]);
    let sim = Sim::start(cfg);
    let body = r#"
data "hss_hosts" "f" {
  enterprise_project_id = "ep 7"
  host_name             = "web 1+x/é"
  host_id               = "fx-1"
  private_ip            = "10.9.8.7"
  public_ip             = "2001:db8::7"
  ip_addr               = "10.9.8.7"
  os_type               = "Linux"
  host_status           = "ACTIVE"
  agent_status          = "online"
  protect_status        = "opened"
  version               = "hss.version.premium"
  group_id              = "g-1"
  group_name            = "blue team"
  policy_group_id       = "pg-1"
  policy_group_name     = "policy é"
  label                 = "pci"
  asset_value           = "important"
  vpc_id                = "vpc-1"
  page_size             = 50
}
data "hss_port_hosts" "f" {
  port                  = 22
  type                  = "TCP"
  category              = "host"
  host_name             = "web 1+x/é"
  host_ip               = "10.9.8.7"
  enterprise_project_id = "ep 7"
  page_size             = 10
}
output "hosts" { value = data.hss_hosts.f.ids }
output "port_hosts" { value = [for r in data.hss_port_hosts.f.hosts : "${r.host_name} ${r.laddr} ${r.path}"] }
output "hosts_id" { value = data.hss_hosts.f.id }
"#;
    for tf in terraform::versions() {
        sim.handle.reset_stats();
        let out = workspace(tf, &sim, body).apply_outputs();
        assert_eq!(out["hosts"]["value"], serde_json::json!(["fx-1"]), "{}", tf.version);
        assert_eq!(out["port_hosts"]["value"], serde_json::json!(["web 1+x/é 10.9.8.7 /usr/sbin/sshd"]));
        let id = out["hosts_id"]["value"].as_str().unwrap_or_default();
        assert!(
            id.starts_with("hosts?enterprise_project_id=ep%207&host_name=web%201%2Bx%2F%C3%A9&host_id=fx-1"),
            "{id}"
        );
        let queries = sim.handle.queries();
        let hosts = queries.iter().find(|q| q.contains("os_type=")).expect("the hosts query");
        for part in [
            "enterprise_project_id=ep%207",
            "host_name=web%201%2Bx%2F%C3%A9",
            "host_id=fx-1",
            "private_ip=10.9.8.7",
            "public_ip=2001%3Adb8%3A%3A7",
            "ip_addr=10.9.8.7",
            "os_type=Linux",
            "host_status=ACTIVE",
            "agent_status=online",
            "protect_status=opened",
            "version=hss.version.premium",
            "group_id=g-1",
            "group_name=blue%20team",
            "policy_group_id=pg-1",
            "policy_group_name=policy%20%C3%A9",
            "label=pci",
            "asset_value=important",
            "vpc_id=vpc-1",
            "limit=50",
            "offset=0",
        ] {
            assert!(hosts.split('&').any(|p| p == part), "{}: {part} missing from {hosts}", tf.version);
        }
        let ports = queries.iter().find(|q| q.contains("port=22")).expect("the port hosts query");
        for part in [
            "port=22",
            "type=TCP",
            "category=host",
            "host_name=web%201%2Bx%2F%C3%A9",
            "host_ip=10.9.8.7",
            "enterprise_project_id=ep%207",
            "limit=10",
        ] {
            assert!(ports.split('&').any(|p| p == part), "{}: {part} missing from {ports}", tf.version);
        }
    }
}

#[test]
fn bad_arguments_fail_at_plan_time_before_any_request() {
    let sim = Sim::start(fleet_config(0));
    let cases: [(&str, &[&str]); 3] = [
        (
            r#"data "hss_hosts" "b" {
  os_type      = "linux"
  agent_status = "dead"
  public_ip    = "example.com"
  host_id      = "0123456789012345678901234567890123456789012345678901234567890123456789"
  version      = "hss.version.gold"
  page_size    = 5
}"#,
            &[
                "Invalid os_type",
                "Invalid agent_status",
                "Invalid public_ip",
                "Invalid host_id",
                "Invalid version",
                "Invalid page_size",
            ],
        ),
        (
            r#"data "hss_port_hosts" "b" {
  port     = 0
  type     = "TCP6"
  category = "vm"
}"#,
            &["Invalid port", "Invalid type", "Invalid category"],
        ),
        (
            r#"data "hss_fleet_port_drift" "b" {
  allowed   = ["22/tcp", "22-"]
  category  = "vm"
  page_size = 500
}"#,
            &["Invalid rule at allowed[1]", "Invalid category", "Invalid page_size"],
        ),
    ];
    for tf in terraform::versions() {
        for (body, errors) in cases {
            let text = workspace(tf, &sim, body).fails(&["plan", "-no-color"]);
            for e in errors {
                assert!(text.contains(e), "{}: {e} missing:\n{text}", tf.version);
            }
        }
        let text = workspace(tf, &sim, "data \"hss_port_hosts\" \"b\" {}\n").fails(&["plan", "-no-color"]);
        assert!(text.contains("port"), "{}: {text}", tf.version);
    }
    assert_eq!(sim.handle.stats().requests, 0, "nothing was sent");
}

/// Rules with and without addresses, so that the plan has every kind of pair: allowed
/// everywhere, on some addresses (443 only on IPv4's wildcard, databases on loopback, the
/// exporter on the private network, UDP application ports on loopback) and nowhere (the rare
/// 40000+ listeners).
const POLICY: &str = r#"[
    "22/tcp", "80/tcp", "443/tcp@0.0.0.0", "68/udp", "123/udp@0.0.0.0/0",
    "323/udp@loopback", "53/udp@127.0.0.1", "25/tcp@loopback",
    "3306/tcp@loopback", "5432/tcp@127.0.0.0/8", "6379/tcp@loopback",
    "9100/tcp@10.0.0.0/8", "8080/tcp", "3000/tcp@0.0.0.0",
    "1024-20000/tcp", "1024-39999/udp@loopback", "20001-39999/tcp@::"
  ]"#;

/// (host, port, type, laddr, pid, path) of each record Terraform output.
fn keys(records: &Json) -> Vec<(String, u64, String, String, u64, String)> {
    let mut v: Vec<_> = records
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                r["host_id"].as_str().unwrap_or_default().to_owned(),
                r["port"].as_u64().unwrap_or_default(),
                r["type"].as_str().unwrap_or_default().to_owned(),
                r["laddr"].as_str().unwrap_or_default().to_owned(),
                r["pid"].as_u64().unwrap_or_default(),
                r["path"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_fleet_check_finds_exactly_what_per_server_checks_find() {
    let sim = Sim::start(fleet_config(3));
    assert!(sim.handle.hosts().len() >= 200);
    let body = format!(
        r#"
locals {{
  allowed = {POLICY}
}}
data "hss_hosts" "all" {{}}
data "hss_host_port_drift" "each" {{
  for_each = toset(data.hss_hosts.all.ids)
  host_id  = each.key
  allowed  = local.allowed
}}
data "hss_fleet_port_drift" "fleet" {{
  allowed = local.allowed
}}
output "fleet" {{ value = data.hss_fleet_port_drift.fleet.violations }}
output "fleet_hosts" {{ value = data.hss_fleet_port_drift.fleet.hosts_in_violation }}
output "in_policy" {{ value = data.hss_fleet_port_drift.fleet.in_policy }}
output "summary" {{ value = data.hss_fleet_port_drift.fleet.summary }}
output "id" {{ value = data.hss_fleet_port_drift.fleet.id }}
output "per_server" {{ value = flatten([for d in data.hss_host_port_drift.each : d.unexpected]) }}
output "per_server_hosts" {{ value = sort([for id, d in data.hss_host_port_drift.each : id if !d.in_policy]) }}
output "checked" {{ value = length(data.hss_host_port_drift.each) }}
"#
    );
    for tf in terraform::versions() {
        let ws = workspace(tf, &sim, &body);
        let out = ws.apply_outputs();
        assert_eq!(out["checked"]["value"], 201, "{}: every server read on its own", tf.version);
        let fleet = keys(&out["fleet"]["value"]);
        let per_server = keys(&out["per_server"]["value"]);
        assert!(fleet.len() > 50, "{}: a policy with real drift: {}", tf.version, fleet.len());
        assert_eq!(fleet, per_server, "{}", tf.version);
        assert_eq!(out["fleet_hosts"]["value"], out["per_server_hosts"]["value"], "{}", tf.version);
        // Sorted by host, then port.
        let order: Vec<(String, u64)> = out["fleet"]["value"]
            .as_array()
            .expect("list")
            .iter()
            .map(|r| (r["host_id"].as_str().unwrap_or_default().to_owned(), r["port"].as_u64().unwrap_or_default()))
            .collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{}: sorted by host then port", tf.version);
        // Each violation carries the port-hosts record shape.
        let first = &out["fleet"]["value"][0];
        for field in ["host_name", "host_ip", "status", "container_name", "agent_id"] {
            assert!(first.get(field).is_some(), "{field}");
        }
        assert_eq!(out["in_policy"]["value"], false);
        let summary = out["summary"]["value"].as_str().unwrap_or_default();
        assert!(summary.starts_with(&format!("{} unexpected on ", fleet.len())), "{summary}");
        assert!(out["id"]["value"].as_str().is_some_and(|id| id.starts_with("fleet#policy-")), "{}", out["id"]);
        ws.assert_plan_is_clean("fleet");
    }
}

/// Pages of an overlapping read of `total` records: 0, then steps of `size − 1`.
fn pages(total: usize, size: usize) -> u64 {
    if total <= size { 1 } else { 1 + (total - size).div_ceil(size - 1) as u64 }
}

#[test]
fn the_request_count_follows_the_read_plan() {
    let sim = Sim::start(fleet_config(3));
    let stats = sim.handle.port_statistics("0");
    // With `1-39999` allowed everywhere, the candidates are the rare listeners (TCP, 40000+).
    let candidates: BTreeSet<u32> = stats.iter().filter(|r| r.port >= 40_000).map(|r| r.port).collect();
    assert_eq!(candidates.len(), 3);
    let listed = |port| sim.handle.port_hosts(port).iter().filter(|r| r.container_id.is_empty()).count();
    for tf in terraform::versions() {
        for page_size in [10usize, 200] {
            let body = format!(
                r#"
data "hss_fleet_port_drift" "f" {{
  allowed   = ["1-39999"]
  page_size = {page_size}
}}
output "requests" {{ value = data.hss_fleet_port_drift.f.requests }}
output "summary" {{ value = data.hss_fleet_port_drift.f.summary }}
output "violations" {{ value = length(data.hss_fleet_port_drift.f.violations) }}
"#
            );
            let expected: u64 =
                pages(stats.len(), page_size) + candidates.iter().map(|p| pages(listed(*p), page_size)).sum::<u64>();
            let before = sim.handle.stats().requests;
            let out = workspace(tf, &sim, &body).apply_outputs();
            let sent = sim.handle.stats().requests - before;
            assert_eq!(out["requests"]["value"].as_u64(), Some(expected), "{} page_size {page_size}", tf.version);
            assert_eq!(sent, expected, "{} page_size {page_size}: what the simulator counted", tf.version);
            assert_eq!(out["violations"]["value"], 36, "3 rare listeners on 12 servers each");
            let summary = out["summary"]["value"].as_str().unwrap_or_default();
            let tail = format!("; 3 of {} port/protocol pairs read server by server", stats.len());
            assert!(summary.ends_with(&tail), "{summary}");
        }
    }
}

#[test]
fn fail_on_drift_fails_the_plan_with_violations_grouped_by_server() {
    let sim = Sim::start(fleet_config(3));
    let body = r#"
data "hss_fleet_port_drift" "f" {
  allowed       = ["1-39999"]
  fail_on_drift = true
}
"#;
    // The first server in violation, by ID, and its listener.
    let rare_ports: Vec<u32> =
        sim.handle.port_statistics("0").iter().filter(|r| r.port >= 40_000).map(|r| r.port).collect();
    let mut rare: Vec<PortHostInfo> = rare_ports.iter().flat_map(|p| sim.handle.port_hosts(*p)).collect();
    rare.sort_by(|a, b| (&a.host_id, a.port).cmp(&(&b.host_id, b.port)));
    let first = &rare[0];
    let hosts: BTreeSet<&str> = rare.iter().map(|r| r.host_id.as_str()).collect();
    for tf in terraform::versions() {
        let text = workspace(tf, &sim, body).fails(&["plan", "-no-color"]);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = hosts.len();
        assert!(
            flat.contains(&format!("Open ports of {n} server(s) drift from the fleet policy")),
            "{}: {text}",
            tf.version
        );
        assert!(flat.contains(&format!("36 open port(s) on {n} server(s) match no allowed rule:")), "{text}");
        let line = format!(
            "{} ({}): - TCP/{} on 0.0.0.0 by {} (pid {})",
            first.host_name, first.host_id, first.port, first.path, first.pid
        );
        assert!(flat.contains(&line), "{}: {line} missing:\n{text}", tf.version);
        assert!(flat.contains(&format!("... and {} more server(s) with", n - 10)), "{}: capped: {text}", tf.version);
    }
}

#[test]
fn statistics_that_do_not_add_up_are_re_read_then_fail_clearly() {
    let mut cfg = fleet_config(3);
    cfg.faults.stats_skew = Skew::Once;
    let sim = Sim::start(cfg);
    let body = r#"
data "hss_fleet_port_drift" "f" {
  allowed = ["1-39999"]
}
output "requests" { value = data.hss_fleet_port_drift.f.requests }
output "violations" { value = length(data.hss_fleet_port_drift.f.violations) }
"#;
    let tf = &terraform::versions()[0];
    let out = workspace(tf, &sim, body).apply_outputs();
    // One statistics page and three candidates, read twice: the first counts were off.
    assert_eq!(out["requests"]["value"], 8, "{}", tf.version);
    assert_eq!(out["violations"]["value"], 36);

    sim.handle.set_faults(hss_sim::Faults { stats_skew: Skew::Always, ..Default::default() });
    for tf in terraform::versions() {
        let text = workspace(tf, &sim, body).fails(&["plan", "-no-color"]);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("Cannot check the fleet's open ports: the answers do not add up"), "{text}");
        assert!(flat.contains("disagreed on each of 3 reads (12 requests)"), "{}: {text}", tf.version);
        assert!(flat.contains("the statistics count 13 server(s), ListPortHost lists 12"), "{}: {text}", tf.version);
    }
}

/// An example directory as a workspace against `sim`.
fn example(tf: &Terraform, sim: &Sim, dir: &str) -> Workspace {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(dir);
    let main =
        std::fs::read_to_string(root.join(if dir.starts_with("data-sources/") { "data-source.tf" } else { "main.tf" }))
            .expect("example");
    Workspace::new(tf, &main)
        .env("HW_HSS_ENDPOINT", &sim.url())
        .env("HW_PROJECT_ID", sim::PROJECT)
        .env("HW_AUTH_TOKEN", sim::TOKEN)
}

/// What `["22/tcp", "*@loopback"]` leaves unexpected, by a matcher of our own: the first
/// violation of the first server in violation, as the error shows it.
fn first_violation_of_ssh_and_loopback(sim: &Sim) -> String {
    for host in default_project(sim) {
        let id = host.host_id.clone().unwrap_or_default();
        let mut records: Vec<PortRecord> =
            sim.handle.ports(&id).into_iter().filter(|r| r.container_id.is_empty()).collect();
        records.sort_by(|a, b| (a.port, &a.port_type, &a.laddr, a.pid).cmp(&(b.port, &b.port_type, &b.laddr, b.pid)));
        let loopback = |laddr: &str| laddr.starts_with("127.") || laddr == "::1";
        if let Some(r) = records.iter().find(|r| !((r.port == 22 && r.port_type == "TCP") || loopback(&r.laddr))) {
            let name = host.host_name.unwrap_or_default();
            return format!("{name} ({id}): - {}/{} on {} by {} (pid {})", r.port_type, r.port, r.laddr, r.path, r.pid);
        }
    }
    panic!("no server in violation")
}

#[test]
fn the_fleet_examples_run() {
    let clean = Sim::start(fleet_config(0));
    let online = clean.handle.hosts().iter().filter(|h| h.agent_status.as_deref() == Some("online")).count();
    // The example's policy allows 22, 80 and 443/TCP and 68 and 123/UDP everywhere, and ports
    // 1024-39999 everywhere: the other ports below 1024 are allowed on loopback only, so each is
    // read server by server.
    let everywhere = [(22, "TCP"), (80, "TCP"), (443, "TCP"), (68, "UDP"), (123, "UDP")];
    let candidates: BTreeSet<(u32, String)> = clean
        .handle
        .port_statistics("0")
        .into_iter()
        .map(|r| (r.port, r.port_type.trim_end_matches('6').to_owned()))
        .filter(|(port, ty)| *port < 1024 && !everywhere.iter().any(|(p, t)| p == port && t == ty))
        .collect();
    assert!(!candidates.is_empty());
    let first = first_violation_of_ssh_and_loopback(&clean);
    for tf in terraform::versions() {
        // The fleet check passes on a fleet without stray listeners, in a few requests...
        let ws = example(tf, &clean, "fleet-drift");
        let out = ws.apply_outputs();
        assert_eq!(out["in_policy"]["value"], true, "{}: {}", tf.version, out["summary"]["value"]);
        assert_eq!(
            out["requests"]["value"].as_u64(),
            Some(1 + candidates.len() as u64),
            "{}: {candidates:?}",
            tf.version
        );
        // ...and stops the plan on a stricter policy, naming the servers.
        let text = ws.fails(&["plan", "-no-color", "-var", "allowed=[\"22/tcp\", \"*@loopback\"]"]);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("drift from the fleet policy"), "{}: {text}", tf.version);
        assert!(flat.contains(&first), "{}: {first} missing: {text}", tf.version);

        let out = example(tf, &clean, "fleet-for-each").apply_outputs();
        assert_eq!(out["servers_checked"]["value"].as_u64(), Some(online as u64), "{}", tf.version);
        assert_eq!(out["servers_in_violation"]["value"], serde_json::json!([]), "{}", tf.version);

        let out = example(tf, &clean, "data-sources/hss_hosts").apply_outputs();
        assert!(out["unreachable_ids"]["value"].as_array().is_some_and(|v| !v.is_empty()), "{}", tf.version);
        let out = example(tf, &clean, "data-sources/hss_port_hosts").apply_outputs();
        let servers = out["ssh_servers"]["value"].as_array().map_or(0, Vec::len);
        assert!(servers > 20, "{}: {servers}", tf.version);
        let out = example(tf, &clean, "data-sources/hss_fleet_port_drift").apply_outputs();
        let summary = out["fleet_policy"]["value"].as_str().unwrap_or_default();
        assert!(summary.starts_with("0 unexpected on 0 server(s); "), "{}: {summary}", tf.version);
    }
}
