//! Starts the built provider binary as Terraform would and connects gRPC clients to it.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint, Uri};

pub use hss_provider::proto::tfplugin6 as pb;

pub const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client identity: a self-signed certificate and its key, like Terraform's AutoMTLS one.
#[derive(Clone)]
pub struct Identity {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_der: Vec<u8>,
}

impl Identity {
    /// ECDSA P-521 / SHA-512, CA:TRUE, `localhost`: the shape Terraform generates.
    pub fn terraform_like() -> Identity {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.extended_key_usages =
            vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth, rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.self_signed(&key).expect("self-signed");
        Identity { cert_pem: cert.pem(), cert_der: cert.der().clone(), key_der: key.serialize_der() }
    }
}

/// How a test client reaches the plugin.
pub enum ClientAuth<'a> {
    /// TLS presenting this identity.
    Tls(&'a Identity),
    /// TLS without any client certificate.
    TlsAnonymous,
    /// Plain HTTP/2, no TLS at all.
    Plaintext,
}

/// A provider process started with the go-plugin environment.
pub struct PluginProcess {
    pub child: Child,
    pub network: String,
    pub address: String,
    /// The server certificate from the handshake line (empty without TLS).
    pub server_cert: Vec<u8>,
    pub handshake_line: String,
    /// The rest of stdout after the handshake line, including whatever the reader buffered.
    pub stdout: BufReader<ChildStdout>,
}

impl PluginProcess {
    /// Starts the provider with AutoMTLS for `client`, plus `extra` environment variables.
    pub fn start(client: Option<&Identity>, extra: &[(&str, &str)]) -> PluginProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_terraform-provider-hss"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(identity) = client {
            cmd.env("PLUGIN_CLIENT_CERT", &identity.cert_pem);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn provider");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let mut stdout = BufReader::new(stdout);
        stdout.read_line(&mut line).expect("read handshake");
        let line = line.trim_end().to_owned();
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(fields.len(), 6, "handshake line {line:?}");
        let server_cert =
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(fields[5]).expect("unpadded base64 cert");
        PluginProcess {
            network: fields[2].to_owned(),
            address: fields[3].to_owned(),
            server_cert,
            handshake_line: line.clone(),
            child,
            stdout,
        }
    }

    /// Opens a gRPC channel with the given client authentication.
    pub async fn channel(&self, auth: ClientAuth<'_>) -> Result<Channel, tonic::transport::Error> {
        let tls = match auth {
            ClientAuth::Plaintext => None,
            ClientAuth::TlsAnonymous => Some(client_config(&self.server_cert, None)),
            ClientAuth::Tls(identity) => Some(client_config(&self.server_cert, Some(identity))),
        };
        let network = self.network.clone();
        let address = self.address.clone();
        let connector = tower::service_fn(move |_: Uri| {
            let (network, address, tls) = (network.clone(), address.clone(), tls.clone());
            async move { connect(&network, &address, tls).await.map(TokioIo::new) }
        });
        Endpoint::from_static("http://localhost")
            .connect_timeout(Duration::from_secs(5))
            .connect_with_connector(connector)
            .await
    }

    /// A provider client over mutual TLS with `identity`.
    pub async fn client(&self, identity: &Identity) -> pb::provider_client::ProviderClient<Channel> {
        let channel = self.channel(ClientAuth::Tls(identity)).await.expect("mTLS channel");
        pb::provider_client::ProviderClient::new(channel)
    }

    /// Waits for the process to exit, up to `limit`; returns whether it did.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Any stream a channel can run over.
pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> Io for T {}

async fn connect(network: &str, address: &str, tls: Option<Arc<rustls::ClientConfig>>) -> std::io::Result<Box<dyn Io>> {
    let io: Box<dyn Io> = if network == "unix" {
        Box::new(tokio::net::UnixStream::connect(address).await?)
    } else {
        Box::new(tokio::net::TcpStream::connect(address).await?)
    };
    match tls {
        None => Ok(io),
        Some(config) => {
            let name = ServerName::try_from("localhost").expect("server name");
            let stream = tokio_rustls::TlsConnector::from(config).connect(name, io).await?;
            Ok(Box::new(stream))
        }
    }
}

fn client_config(server_cert: &[u8], identity: Option<&Identity>) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        PinnedServer { expected: server_cert.to_vec(), algorithms: provider.signature_verification_algorithms };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                vec![id.cert_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der.clone())),
            )
            .expect("client cert"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// Trusts exactly the certificate from the handshake line, as go-plugin's client does.
#[derive(Debug)]
struct PinnedServer {
    expected: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("server certificate differs from the handshake".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
