//! The go-plugin transport: how Terraform starts, authenticates and talks to this process.
//!
//! [`serve`] is the managed mode Terraform uses; [`debug::serve`] is the reattach mode a person
//! starts by hand. Neither knows anything about HSS: they serve any tfplugin6 `Provider`.

pub mod debug;
pub(crate) mod handshake;
mod serve;
mod services;
pub(crate) mod tls;

use std::io::Write as _;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use crate::proto::tfplugin6::provider_server::Provider;
use handshake::Environment;
use serve::{Listener, Options};

/// Runs the plugin as Terraform expects: checks the handshake environment, sets up AutoMTLS,
/// prints the handshake line and serves until Terraform sends `Shutdown`.
pub async fn serve<P: Provider>(provider: P) -> ExitCode {
    let env = Environment::from_process();
    if !env.cookie_ok {
        eprint!("{}", handshake::NOT_A_PLUGIN);
        return ExitCode::FAILURE;
    }
    match serve_managed(provider, env).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Terraform shows the plugin's stderr when the handshake never comes.
            tracing::error!(error = %err, "provider could not serve");
            eprintln!("terraform-provider-hss: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_managed<P: Provider>(provider: P, env: Environment) -> Result<(), String> {
    env.negotiate()?;
    let tls = env.client_cert_pem.as_deref().map(tls::server_config).transpose().map_err(|e| e.to_string())?;
    let listener =
        Listener::bind(env.unix_socket_dir.as_deref(), env.min_port, env.max_port).await.map_err(|e| e.to_string())?;

    // Before the handshake line: from then on Terraform may be interrupted, and a SIGINT that
    // arrived before the handler would still kill us.
    ignore_interrupts();
    let line = handshake::line(&listener.address, tls.as_ref().map(|t| t.cert_der.as_slice()));
    announce(&line)?;
    tracing::debug!(address = %listener.address.string(), tls = tls.is_some(), "plugin serving");

    let options = Options { tls: tls.map(|t| t.config), exit_on_shutdown: true };
    let result = serve::run(provider, listener, options, CancellationToken::new()).await;
    if tracing::enabled!(tracing::Level::DEBUG) {
        // The benchmark reads this line for the provider's memory use.
        tracing::debug!(peak_rss_kb = peak_rss_kb().unwrap_or(0), "plugin exiting");
    }
    result.map_err(|e| e.to_string())
}

/// The process's peak resident set size (`VmHWM`), where /proc provides it.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes `text` and a newline to stdout in a single write, then flushes: the handshake, or
/// debug mode's instructions. One write means a reader that stops after the line it wants
/// cannot make a second write fail.
fn announce(text: &str) -> Result<(), String> {
    let line = format!("{text}\n");
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes()).and_then(|()| out.flush()).map_err(|e| format!("could not write to stdout: {e}"))
}

/// Go plugins ignore SIGINT: when the user presses Ctrl-C, the terminal signals the whole
/// process group, and Terraform wants to cancel through `StopProvider` and shut us down itself.
/// On Windows, Ctrl-C reaches every process of the console the same way.
fn ignore_interrupts() {
    #[cfg(unix)]
    let interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    #[cfg(windows)]
    let interrupts = tokio::signal::windows::ctrl_c();
    match interrupts {
        Ok(mut interrupts) => {
            tokio::spawn(async move {
                while interrupts.recv().await.is_some() {
                    tracing::debug!("SIGINT ignored; Terraform stops the provider through the protocol");
                }
            });
        }
        Err(err) => tracing::warn!(error = %err, "could not install the SIGINT handler"),
    }
}
