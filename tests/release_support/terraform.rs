//! Terraform in a scratch directory with a CLI configuration given by the test (a mirror, never
//! dev_overrides) and a private HOME, so that nothing of the machine's own setup is used.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::proc::{self, Finished};

/// One Terraform command may take this long (init unpacks a 7 MB zip; plan starts the provider).
pub const COMMAND_LIMIT: Duration = Duration::from_secs(180);

pub struct Workspace {
    pub dir: tempfile::TempDir,
    terraform: std::path::PathBuf,
    pub version: String,
    env: Vec<(String, String)>,
}

impl Workspace {
    /// A workspace holding `main.tf` and the CLI configuration `cli_config`.
    pub fn new(terraform: &Path, version: &str, cli_config: &str, main_tf: &str) -> Workspace {
        let dir = tempfile::Builder::new().prefix("hss-release-tf").tempdir().expect("tempdir");
        std::fs::write(dir.path().join("terraformrc"), cli_config).expect("write CLI config");
        std::fs::write(dir.path().join("main.tf"), main_tf).expect("write main.tf");
        std::fs::create_dir(dir.path().join("home")).expect("home dir");
        Workspace { dir, terraform: terraform.to_owned(), version: version.to_owned(), env: Vec::new() }
    }

    pub fn env(mut self, key: &str, value: &str) -> Workspace {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self, args: &[&str]) -> Finished {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args).current_dir(self.dir.path()).env_clear();
        for key in ["PATH", "TMPDIR", "USER"] {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        cmd.env("HOME", self.dir.path().join("home"))
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let what = format!("terraform {} ({})", args.join(" "), self.version);
        proc::run(&mut cmd, COMMAND_LIMIT, &what).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs a command that must succeed; returns what it printed on stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let done = self.run(args);
        assert!(
            done.success(),
            "terraform {} ({}) failed:\n{}\n{}",
            args.join(" "),
            self.version,
            done.stdout,
            done.stderr
        );
        done.stdout
    }
}
