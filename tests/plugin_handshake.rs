//! The go-plugin contract, tested against the built binary started the way Terraform starts it:
//! the magic cookie, protocol negotiation, the handshake line, AutoMTLS (and refusing every
//! other client), health, Shutdown, SIGINT.

mod support;

use std::io::Read;
use std::time::Duration;

use hss_provider::proto::plugin::{Empty, grpc_controller_client::GrpcControllerClient};
use support::plugin::{ClientAuth, Identity, PluginProcess, pb};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

#[test]
fn without_the_cookie_it_explains_itself_and_exits_1() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-hss"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing may go to stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plugin for Terraform"), "{stderr}");
    assert!(stderr.contains("--debug"), "{stderr}");
}

#[test]
fn a_client_without_protocol_6_is_refused_before_the_handshake() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-hss"))
        .env("TF_PLUGIN_MAGIC_COOKIE", support::plugin::MAGIC_COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("protocol 6"));
}

#[test]
fn handshake_line_names_a_unix_socket_in_the_requested_dir_and_the_server_cert() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_str = dir.path().to_str().expect("utf-8 path");
    let id = Identity::terraform_like();
    let plugin = PluginProcess::start(Some(&id), &[("PLUGIN_UNIX_SOCKET_DIR", dir_str)]);
    let fields: Vec<&str> = plugin.handshake_line.split('|').collect();
    assert_eq!(&fields[..3], ["1", "6", "unix"]);
    assert!(fields[3].starts_with(dir_str), "{}", fields[3]);
    assert_eq!(fields[4], "grpc");
    assert!(!fields[5].ends_with('='), "base64 must be unpadded");
    assert!(plugin.server_cert.len() > 100, "a DER certificate");
}

#[tokio::test]
async fn terraform_client_gets_health_and_schema_over_mtls() {
    let id = Identity::terraform_like();
    let plugin = PluginProcess::start(Some(&id), &[]);
    let channel = plugin.channel(ClientAuth::Tls(&id)).await.expect("mTLS connect");

    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest { service: "plugin".into() })
        .await
        .expect("health");
    assert_eq!(health.into_inner().status, ServingStatus::Serving as i32);

    let schema = pb::provider_client::ProviderClient::new(channel)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    assert!(schema.data_source_schemas.contains_key("hss_host_ports"));
}

/// Every client but Terraform's must be refused: no certificate, another certificate, no TLS.
#[tokio::test]
async fn other_clients_are_refused() {
    let id = Identity::terraform_like();
    let plugin = PluginProcess::start(Some(&id), &[]);
    let stranger = Identity::terraform_like();
    let attempts = [
        ("no client certificate", ClientAuth::TlsAnonymous),
        ("a different certificate", ClientAuth::Tls(&stranger)),
        ("plaintext", ClientAuth::Plaintext),
    ];
    for (what, auth) in attempts {
        let refused = match plugin.channel(auth).await {
            Err(_) => true,
            Ok(channel) => pb::provider_client::ProviderClient::new(channel)
                .get_provider_schema(pb::get_provider_schema::Request {})
                .await
                .is_err(),
        };
        assert!(refused, "a client with {what} was served");
    }
    // And the legitimate client still is.
    let mut client = plugin.client(&id).await;
    client.get_provider_schema(pb::get_provider_schema::Request {}).await.expect("served");
}

#[tokio::test]
async fn shutdown_exits_promptly_and_cleanly_with_nothing_more_on_stdout() {
    let id = Identity::terraform_like();
    let mut plugin = PluginProcess::start(Some(&id), &[]);
    let socket = plugin.address.clone();
    let channel = plugin.channel(ClientAuth::Tls(&id)).await.expect("connect");
    // go-plugin keeps a broker stream open; shutdown must not wait for it.
    let _ = GrpcControllerClient::new(channel).shutdown(Empty {}).await;
    let status = plugin.wait_exit(Duration::from_secs(1)).expect("exited within 1 s");
    assert!(status.success(), "{status:?}");
    assert!(!std::path::Path::new(&socket).exists(), "socket file removed");
    // The process has exited, so stdout is closed and this read ends.
    let mut rest = String::new();
    plugin.stdout.read_to_string(&mut rest).expect("stdout");
    assert_eq!(rest, "", "stdout carries the handshake line only");
}

#[tokio::test]
async fn sigint_is_ignored() {
    let id = Identity::terraform_like();
    let mut plugin = PluginProcess::start(Some(&id), &[]);
    let pid = plugin.child.id().to_string();
    let status = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill");
    assert!(status.success());
    assert!(plugin.wait_exit(Duration::from_millis(300)).is_none(), "SIGINT must not stop the plugin");
    let mut client = plugin.client(&id).await;
    client.get_provider_schema(pb::get_provider_schema::Request {}).await.expect("still serving");
}

#[tokio::test]
async fn without_a_client_cert_it_serves_plaintext() {
    let plugin = PluginProcess::start(None, &[]);
    assert!(plugin.handshake_line.ends_with("|grpc|"), "{}", plugin.handshake_line);
    let channel = plugin.channel(ClientAuth::Plaintext).await.expect("plaintext connect");
    pb::provider_client::ProviderClient::new(channel)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("served");
}
