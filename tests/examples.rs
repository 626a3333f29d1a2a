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
        assert_eq!(out["drift"]["value"], "no drift", "{}", tf.version);
        let text = ws.fails(&["plan", "-no-color", "-var", "allowed_ports=[\"UDP/68\"]"]);
        assert!(text.contains("UNEXPECTED OPEN PORTS"), "{}: {text}", tf.version);
        assert!(text.contains("UDP/323"), "{}: names the port: {text}", tf.version);
    }
}
