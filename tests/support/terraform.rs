//! Runs the real Terraform CLI against the built provider: installs Terraform 1.0.3 (once),
//! finds any other `terraform` on PATH, and runs commands, each with a time limit, in a scratch
//! directory with our own CLI configuration (`dev_overrides` pointing at the binary cargo built
//! for these tests, or a mirror with a private HOME for the release tests).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::proc::{self, Finished};

/// One Terraform binary and its version.
#[derive(Clone, Debug)]
pub struct Terraform {
    pub path: PathBuf,
    pub version: String,
}

/// Every Terraform to test against: 1.0.3, installed by the project itself (never skipped),
/// then whatever `terraform` is on PATH when it is another version.
pub fn versions() -> &'static [Terraform] {
    static VERSIONS: OnceLock<Vec<Terraform>> = OnceLock::new();
    VERSIONS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("bash")
            .arg(root.join("scripts/install-terraform.sh"))
            .output()
            .expect("run scripts/install-terraform.sh");
        assert!(out.status.success(), "installing Terraform 1.0.3 failed: {}", String::from_utf8_lossy(&out.stderr));
        let installed = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let mut found = vec![probe(&installed).expect("Terraform 1.0.3 runs")];
        if let Some(on_path) = proc::on_path("terraform").and_then(|p| probe(&p))
            && found.iter().all(|t| t.version != on_path.version)
        {
            found.push(on_path);
        }
        eprintln!("terraform versions under test: {:?}", found.iter().map(|t| &t.version).collect::<Vec<_>>());
        found
    })
}

fn probe(path: &Path) -> Option<Terraform> {
    let out = Command::new(path).args(["version", "-json"]).env("CHECKPOINT_DISABLE", "1").output().ok()?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let version = json["terraform_version"].as_str()?.to_owned();
    Some(Terraform { path: path.to_owned(), version })
}

/// The `terraform` and `provider` blocks every test configuration starts with.
pub const PROVIDER: &str = r#"
terraform {
  required_providers {
    hss = { source = "local/hss" }
  }
}
provider "hss" {}
"#;

/// A workspace holding [`PROVIDER`] and `body`, whose provider reaches `sim` with the test token.
pub fn with_sim(tf: &Terraform, sim: &super::sim::Sim, body: &str) -> Workspace {
    Workspace::new(tf, &format!("{PROVIDER}\n{body}"))
        .env("HW_HSS_ENDPOINT", &sim.url())
        .env("HW_PROJECT_ID", super::sim::PROJECT)
        .env("HW_AUTH_TOKEN", super::sim::TOKEN)
}

/// A configuration that reads `hosts` with one `hss_host_ports` per host (`for_each`), and
/// outputs `counts`: each host's number of ports.
pub fn for_each_port_counts(hosts: &[String]) -> String {
    let list: Vec<String> = hosts.iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        r#"
data "hss_host_ports" "fleet" {{
  for_each = toset([{}])
  host_id  = each.key
}}
output "counts" {{ value = {{ for k, d in data.hss_host_ports.fleet : k => length(d.ports) }} }}
"#,
        list.join(", ")
    )
}

/// By default one Terraform command may take this long before it is killed and the test fails
/// (init may unpack a 7 MB zip; plan starts the provider); [`Workspace::time_limit`] changes it.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(180);

/// A scratch working directory with its own CLI configuration.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub terraform: Terraform,
    cli_config: PathBuf,
    /// A HOME of the workspace's own, or `None` for the test's.
    home: Option<PathBuf>,
    env: Vec<(String, String)>,
    limit: Duration,
}

impl Workspace {
    /// A workspace holding `main.tf`, with `dev_overrides` for `local/hss`.
    pub fn new(terraform: &Terraform, main_tf: &str) -> Workspace {
        let provider_dir = Path::new(env!("CARGO_BIN_EXE_terraform-provider-hss")).parent().expect("bin dir");
        let cli_config = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"local/hss\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir.display()
        );
        Workspace::create(terraform, &cli_config, main_tf, false)
    }

    /// A workspace holding `main.tf` and the CLI configuration `cli_config` (a filesystem or
    /// network mirror, say), with a private HOME: nothing of the machine's own setup is used.
    pub fn with_cli_config(terraform: &Terraform, cli_config: &str, main_tf: &str) -> Workspace {
        Workspace::create(terraform, cli_config, main_tf, true)
    }

    fn create(terraform: &Terraform, cli_config: &str, main_tf: &str, private_home: bool) -> Workspace {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_path = dir.path().join("terraformrc");
        std::fs::write(&config_path, cli_config).expect("write CLI config");
        std::fs::write(dir.path().join("main.tf"), main_tf).expect("write main.tf");
        let home = private_home.then(|| dir.path().join("home"));
        if let Some(home) = &home {
            std::fs::create_dir(home).expect("home dir");
        }
        Workspace {
            dir,
            terraform: terraform.clone(),
            cli_config: config_path,
            home,
            env: Vec::new(),
            limit: COMMAND_LIMIT,
        }
    }

    /// Adds an environment variable for every command run here.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Lets each command here take up to `limit` instead of [`COMMAND_LIMIT`].
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Writes a file of the workspace; `name` may include directories (`tests/x.tftest.hcl`).
    pub fn write(&self, name: &str, contents: &str) {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write file");
    }

    /// Runs `terraform ARGS` here with a clean, controlled environment, within the workspace's
    /// time limit.
    pub fn run(&self, args: &[&str]) -> Finished {
        self.run_env(&[], args)
    }

    /// Like [`Workspace::run`], with `env` set after the workspace's own variables.
    pub fn run_env(&self, env: &[(String, String)], args: &[&str]) -> Finished {
        self.bounded(self.command(args, env), args, None)
    }

    /// Runs `terraform ARGS` with `input` on stdin (for `terraform console`); returns stdout
    /// and stderr together.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> String {
        self.bounded(self.command(args, &[]), args, Some(input)).text()
    }

    fn bounded(&self, mut cmd: Command, args: &[&str], input: Option<&str>) -> Finished {
        proc::run_with_input(&mut cmd, input, self.limit, &self.what(args)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `terraform ARGS (VERSION)`, for messages.
    fn what(&self, args: &[&str]) -> String {
        format!("terraform {} ({})", args.join(" "), self.terraform.version)
    }

    fn command(&self, args: &[&str], env: &[(String, String)]) -> Command {
        let mut cmd = Command::new(&self.terraform.path);
        cmd.args(args).current_dir(self.dir.path()).env_clear();
        for key in ["PATH", "HOME", "TMPDIR", "USER"] {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        if let Some(home) = &self.home {
            cmd.env("HOME", home);
        }
        cmd.env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1");
        for (k, v) in self.env.iter().chain(env) {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.success(), "{} failed:\n{}\n{}", self.what(args), out.stdout, out.stderr);
        out.stdout
    }

    /// A plan after an apply must show no changes: same data, same order, same id.
    pub fn assert_plan_is_clean(&self, what: &str) {
        let plan = self.run(&["plan", "-detailed-exitcode", "-no-color"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "{} {what}: the plan after apply shows changes or failed:\n{}\n{}",
            self.terraform.version,
            plan.stdout,
            plan.stderr
        );
    }

    /// Runs a command that must fail; returns stdout and stderr together.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = out.text();
        assert!(!out.success(), "{} should fail:\n{text}", self.what(args));
        text
    }

    /// `terraform apply -auto-approve`, then `terraform output -json`.
    pub fn apply_outputs(&self) -> serde_json::Value {
        self.ok(&["apply", "-auto-approve", "-no-color"]);
        let out = self.ok(&["output", "-json"]);
        serde_json::from_str(&out).expect("output -json")
    }
}
