//! Every example under `examples/` runs against the simulator with the real Terraform CLI.

mod support;

use support::sim::{self, Sim};
use support::terraform::{self, Workspace};

fn example(tf: &terraform::Terraform, sim: &Sim, dir: &str) -> Workspace {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(dir);
    let mut main = String::new();
    for entry in std::fs::read_dir(&root).expect("example dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "tf") {
            main.push_str(&std::fs::read_to_string(path).expect("read example"));
        }
    }
    Workspace::new(tf, &main)
        .env("HW_HSS_ENDPOINT", &sim.url())
        .env("HW_PROJECT_ID", sim::PROJECT)
        .env("HW_AUTH_TOKEN", sim::TOKEN)
}

#[test]
fn provider_example_reads_the_reference_host() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in terraform::versions() {
        let out = example(tf, &sim, "provider").apply_outputs();
        assert_eq!(out["port_count"]["value"], 2, "{}", tf.version);
    }
}

#[test]
fn data_source_example_lists_ports() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in terraform::versions() {
        let out = example(tf, &sim, "data-sources/hss_host_ports").apply_outputs();
        let open = out["open_ports"]["value"].as_array().expect("list");
        assert_eq!(open[0], "UDP/68 0.0.0.0 /usr/sbin/dhclient", "{}", tf.version);
        assert_eq!(out["total_num"]["value"], 2);
        assert_eq!(out["dangerous_tcp_ports"]["value"], serde_json::json!([]));
    }
}

#[test]
fn drift_check_passes_when_allowed_and_fails_the_plan_on_an_extra_port() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in terraform::versions() {
        let ws = example(tf, &sim, "drift-check");
        let out = ws.apply_outputs();
        assert_eq!(out["in_policy"]["value"], true, "{}", tf.version);
        assert_eq!(out["drift"]["value"], "0 unexpected, 0 missing", "{}", tf.version);
        let text = ws.fails(&["plan", "-no-color", "-var", "allowed=[\"68/udp\"]"]);
        assert!(text.contains("drift from the policy"), "{}: {text}", tf.version);
        assert!(text.contains("UDP/323 on 127.0.0.1 by /usr/sbin/chronyd"), "{}: names the port: {text}", tf.version);
    }
}

/// Terraform versions at or above `major.minor`.
fn at_least(major: u32, minor: u32) -> Vec<&'static terraform::Terraform> {
    terraform::versions()
        .iter()
        .filter(|tf| {
            let mut parts = tf.version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
        })
        .collect()
}

#[test]
fn check_block_example_warns_on_drift() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in at_least(1, 5) {
        let ws = example(tf, &sim, "drift-check-block");
        let clean = ws.ok(&["plan", "-no-color"]);
        assert!(!clean.contains("Check block assertion failed"), "{}: {clean}", tf.version);
        let out = ws.run(&["plan", "-no-color", "-var", "allowed=[\"68/udp\"]"]);
        let text = out.text();
        assert!(out.status.success(), "a check block warns, it does not fail: {text}");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("drifts from its port policy: 1 unexpected (UDP/323"), "{}: {text}", tf.version);
    }
}

#[test]
fn function_example_finds_the_same_drift() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in at_least(1, 8) {
        let out = example(tf, &sim, "drift-function").apply_outputs();
        assert_eq!(out["unexpected_count"]["value"], 0, "{}", tf.version);
        assert_eq!(out["dhclient_allowed_on_loopback_only"]["value"], false, "{}", tf.version);
    }
}

#[test]
fn drift_data_source_and_function_examples_run() {
    let sim = Sim::start(Sim::config(&[]));
    for tf in terraform::versions() {
        let out = example(tf, &sim, "data-sources/hss_host_port_drift").apply_outputs();
        assert_eq!(out["port_policy"]["value"], "0 unexpected, 0 missing", "{}", tf.version);
    }
    for tf in at_least(1, 8) {
        let out = example(tf, &sim, "functions/unexpected_ports").apply_outputs();
        assert_eq!(out["unexpected"]["value"], serde_json::json!([]), "{}", tf.version);
        let out = example(tf, &sim, "functions/port_allowed").apply_outputs();
        assert_eq!(out["sshd_on_all_addresses_is_not_loopback_only"]["value"], false, "{}", tf.version);
    }
}
