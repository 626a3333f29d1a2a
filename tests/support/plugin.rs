//! Starts a provider binary as Terraform would (the one cargo built, or a release binary through
//! a launcher such as chroot or qemu) and connects gRPC clients to it.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
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

/// How long a provider may take to print its handshake line (under qemu it is slower).
pub const HANDSHAKE_LIMIT: Duration = Duration::from_secs(30);

/// How to start a provider binary: as it is, or through a launcher (`chroot ROOT /binary`,
/// `qemu-aarch64 BINARY`).
#[derive(Clone, Debug)]
pub struct Launch {
    program: PathBuf,
    args: Vec<OsString>,
    /// The directory the process sees as `/` (under chroot), so that its unix socket path can
    /// be reached from here.
    root: Option<PathBuf>,
}

impl Launch {
    /// The provider binary cargo built for these tests.
    pub fn cargo_built() -> Launch {
        Launch::binary(Path::new(env!("CARGO_BIN_EXE_terraform-provider-hss")))
    }

    /// `binary`, run as it is.
    pub fn binary(binary: &Path) -> Launch {
        Launch { program: binary.to_owned(), args: Vec::new(), root: None }
    }

    /// `launcher binary`, e.g. `qemu-aarch64 BINARY`.
    pub fn through(launcher: &Path, binary: &Path) -> Launch {
        Launch { program: launcher.to_owned(), args: vec![binary.into()], root: None }
    }

    /// `chroot ROOT INSIDE`: `inside` is the binary's path as seen in `root`.
    pub fn chroot(chroot: &Path, root: &Path, inside: &str) -> Launch {
        Launch { program: chroot.to_owned(), args: vec![root.into(), inside.into()], root: Some(root.to_owned()) }
    }
}

/// A provider process started with the go-plugin environment.
pub struct PluginProcess {
    pub child: Child,
    /// The protocol version from the handshake line.
    pub protocol: String,
    pub network: String,
    /// Where the test connects: a unix socket path as seen from here, or host:port.
    pub address: String,
    /// The server certificate from the handshake line (empty without TLS).
    pub server_cert: Vec<u8>,
    pub handshake_line: String,
    /// The rest of stdout after the handshake line, including whatever the reader buffered.
    pub stdout: BufReader<ChildStdout>,
}

impl PluginProcess {
    /// Starts the provider cargo built with AutoMTLS for `client`, plus `extra` environment
    /// variables.
    pub fn start(client: Option<&Identity>, extra: &[(&str, &str)]) -> PluginProcess {
        PluginProcess::launch(&Launch::cargo_built(), client, extra)
    }

    /// Starts the provider as `launch` says, with the go-plugin environment, AutoMTLS for
    /// `client` and `extra`; waits at most [`HANDSHAKE_LIMIT`] for the handshake line.
    pub fn launch(launch: &Launch, client: Option<&Identity>, extra: &[(&str, &str)]) -> PluginProcess {
        let mut cmd = Command::new(&launch.program);
        cmd.args(&launch.args)
            .env_clear()
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
        let what = format!("{cmd:?}");
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send((read, reader));
        });
        let (line, stdout) = match rx.recv_timeout(HANDSHAKE_LIMIT) {
            Ok((Ok(line), reader)) => (line.trim_end().to_owned(), reader),
            Ok((Err(e), _)) => fail(child, &format!("{what}: reading the handshake line: {e}")),
            Err(_) => fail(child, &format!("{what}: no handshake line within {} s", HANDSHAKE_LIMIT.as_secs())),
        };
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() != 6 {
            fail(child, &format!("{what}: handshake line {line:?}"));
        }
        let server_cert =
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(fields[5]).expect("unpadded base64 cert");
        let address = match (&launch.root, fields[2]) {
            (Some(root), "unix") => root.join(fields[3].trim_start_matches('/')).display().to_string(),
            _ => fields[3].to_owned(),
        };
        PluginProcess {
            protocol: fields[1].to_owned(),
            network: fields[2].to_owned(),
            address,
            server_cert,
            handshake_line: line.clone(),
            child,
            stdout,
        }
    }

    /// Collects stderr from now on (so that logging never blocks the provider on a full pipe).
    pub fn collect_stderr(&mut self) -> StderrLog {
        let log = StderrLog::default();
        match self.child.stderr.take() {
            Some(mut pipe) => {
                let (sink, closed) = (log.text.clone(), log.closed.clone());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = pipe.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        sink.lock().expect("stderr buffer").extend_from_slice(&buf[..n]);
                    }
                    closed.store(true, Ordering::SeqCst);
                });
            }
            None => log.closed.store(true, Ordering::SeqCst),
        }
        log
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
            .connect_timeout(Duration::from_secs(10))
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
        super::proc::wait(&mut self.child, limit)
    }
}

/// Kills a provider that did not hand shake and fails with `why` and what it wrote on stderr.
fn fail(mut child: Child, why: &str) -> ! {
    let _ = child.kill();
    let status = child.wait();
    let stderr = super::proc::read_to_end_within(child.stderr.take(), Duration::from_secs(5));
    panic!("{why} ({status:?}); stderr:\n{stderr}");
}

/// What a provider wrote on stderr, collected by [`PluginProcess::collect_stderr`].
#[derive(Clone, Default)]
pub struct StderrLog {
    text: Arc<Mutex<Vec<u8>>>,
    /// Set once the pipe reached end of file: every process holding it has closed it.
    closed: Arc<AtomicBool>,
}

impl StderrLog {
    /// Everything so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.text.lock().expect("stderr buffer")).into_owned()
    }

    /// Whether the pipe reached end of file, so that [`StderrLog::text`] is all there will be.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
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
