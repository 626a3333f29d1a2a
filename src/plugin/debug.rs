//! Debug (reattach) mode: the provider runs on its own, under a debugger or with verbose logs,
//! and prints the `TF_REATTACH_PROVIDERS` value that makes Terraform use this process instead of
//! starting its own. It serves without TLS until Ctrl-C, one Terraform command after another.

use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use super::handshake::PROTOCOL_VERSION;
use super::serve::{self, Listener, Options};
use crate::proto::tfplugin6::provider_server::Provider;

/// The provider address users write in `required_providers`.
pub(crate) const PROVIDER_ADDRESS: &str = "registry.terraform.io/local/hss";

/// The JSON value for `TF_REATTACH_PROVIDERS`. `"Test": true` is required for protocol 6: without
/// it Terraform 1.0.3 assumes protocol 5, and go-plugin would also try to kill our process.
pub(crate) fn reattach_json(network: &str, address: &str, pid: u32) -> String {
    let addr = serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": network, "String": address },
        }
    });
    addr.to_string()
}

/// Serves in debug mode until SIGINT or SIGTERM.
pub async fn serve<P: Provider>(provider: P) -> ExitCode {
    let listener = match Listener::bind(None, None, None).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("terraform-provider-hss: {err}");
            return ExitCode::FAILURE;
        }
    };
    let value = reattach_json(listener.address.network(), &listener.address.string(), std::process::id());
    let text = format!(
        "Provider started in debug mode. To attach Terraform, run in another shell:\n\n\
         \texport TF_REATTACH_PROVIDERS='{value}'\n\n\
         then run terraform as usual. Press Ctrl-C here to stop the provider."
    );
    if let Err(err) = super::announce(&text) {
        eprintln!("terraform-provider-hss: {err}");
        return ExitCode::FAILURE;
    }

    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        stop.cancel();
    });
    let options = Options { tls: None, exit_on_shutdown: false };
    match serve::run(provider, listener, options, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("terraform-provider-hss: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_stop_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        // Without a handler the default action still stops the process.
        std::future::pending::<()>().await;
    }
}

#[cfg(unix)]
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        // Without handlers the default actions still stop the process.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_value_has_the_fields_terraform_reads() {
        let json = reattach_json("unix", "/tmp/plugin9", 42);
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        let p = &v[PROVIDER_ADDRESS];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 42);
        assert_eq!(p["Test"], true);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Addr"]["String"], "/tmp/plugin9");
    }
}
