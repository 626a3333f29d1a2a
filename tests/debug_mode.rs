//! Debug (reattach) mode: `terraform-provider-hss --debug` serves on its own, prints the
//! `TF_REATTACH_PROVIDERS` value, and real Terraform uses that process, command after command.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::sim::{self, Sim};
use support::terraform::{self, Workspace};

struct DebugProvider {
    child: Child,
    reattach: String,
    // Kept open, as a terminal would be: the provider may still be writing to it.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl DebugProvider {
    /// Starts `--debug` with `env`: in debug mode the provider reads the environment of its own
    /// process, not Terraform's.
    fn start(env: &[(&str, &str)]) -> DebugProvider {
        let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-hss"))
            .arg("--debug")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start --debug");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut reattach = None;
        for _ in 0..20 {
            let mut line = String::new();
            if stdout.read_line(&mut line).expect("read stdout") == 0 {
                break;
            }
            if let Some(rest) = line.trim().strip_prefix("export TF_REATTACH_PROVIDERS='") {
                reattach = Some(rest.trim_end_matches('\'').to_owned());
                break;
            }
        }
        DebugProvider { child, reattach: reattach.expect("an export line"), _stdout: stdout }
    }
}

impl Drop for DebugProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn reattach_value_is_what_terraform_expects() {
    let provider = DebugProvider::start(&[]);
    let json: serde_json::Value = serde_json::from_str(&provider.reattach).expect("JSON");
    let entry = &json["registry.terraform.io/local/hss"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], provider.child.id());
    assert_eq!(entry["Addr"]["Network"], "unix");
}

#[test]
fn terraform_reuses_the_debug_process_across_commands_and_ctrl_c_stops_it() {
    let sim = Sim::start(Sim::config(&[]));
    let url = sim.url();
    let mut provider = DebugProvider::start(&[
        ("HW_HSS_ENDPOINT", &url),
        ("HW_PROJECT_ID", sim::PROJECT),
        ("HW_AUTH_TOKEN", sim::TOKEN),
    ]);
    let main_tf = r#"
terraform {
  required_providers {
    hss = { source = "local/hss" }
  }
}
provider "hss" {}
data "hss_host_ports" "h" {
  host_id = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
}
output "n" { value = data.hss_host_ports.h.total_num }
"#;
    for tf in terraform::versions() {
        let ws = Workspace::new(tf, main_tf).env("TF_REATTACH_PROVIDERS", &provider.reattach);
        let out = ws.apply_outputs();
        assert_eq!(out["n"]["value"], 2, "{}", tf.version);
        assert!(provider.child.try_wait().expect("status").is_none(), "still serving after {}", tf.version);
    }
    let pid = provider.child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().expect("kill").success());
    let stopped = support::proc::wait(&mut provider.child, Duration::from_secs(2));
    assert!(stopped.is_some(), "Ctrl-C must stop a debug-mode provider within 2 s");
}
