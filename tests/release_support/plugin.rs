//! A release binary started as Terraform starts a provider (go-plugin, AutoMTLS with a P-521
//! client certificate), through any launcher: `chroot ROOT /binary` or `qemu-aarch64 binary`.
//! Self-contained on purpose: it needs nothing but the generated protocol types.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint, Uri};

use super::msgpack;

pub use hss_provider::proto::tfplugin6 as pb;

pub const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// How long a provider may take to print its handshake line (qemu is slower than native).
pub const HANDSHAKE_LIMIT: Duration = Duration::from_secs(30);
/// How long one gRPC call may take.
pub const CALL_LIMIT: Duration = Duration::from_secs(30);

pub type Client = pb::provider_client::ProviderClient<Channel>;

/// Terraform's client identity: ECDSA P-521 / SHA-512, self-signed, CA:TRUE, `localhost`.
pub struct Identity {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_der: Vec<u8>,
}

impl Identity {
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

/// A running provider and what its handshake line said.
pub struct Plugin {
    child: Child,
    pub handshake_line: String,
    pub protocol: String,
    pub network: String,
    /// Where the test connects: a unix socket path as seen from the host, or host:port.
    pub address: String,
    pub server_cert: Vec<u8>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Plugin {
    /// Starts `cmd` with exactly the go-plugin environment plus `env`. `root` is the directory
    /// the process sees as `/` (for a chroot), so that its socket path can be found from here.
    pub fn start(mut cmd: Command, identity: &Identity, env: &[(&str, &str)], root: Option<&Path>) -> Plugin {
        cmd.env_clear()
            .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_CLIENT_CERT", &identity.cert_pem)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let what = format!("{cmd:?}");
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let sink = stderr.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().expect("stderr").extend_from_slice(&buf[..n]);
                }
            });
        }
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining, so that the provider never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = match rx.recv_timeout(HANDSHAKE_LIMIT) {
            Ok(line) => line.trim_end().to_owned(),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{what}: no handshake line within {} s; stderr:\n{}",
                    HANDSHAKE_LIMIT.as_secs(),
                    String::from_utf8_lossy(&stderr.lock().expect("stderr"))
                );
            }
        };
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() != 6 {
            let _ = child.kill();
            let status = child.wait();
            std::thread::sleep(Duration::from_millis(100));
            panic!(
                "{what}: handshake line {line:?} ({status:?}); stderr:\n{}",
                String::from_utf8_lossy(&stderr.lock().expect("stderr"))
            );
        }
        let server_cert =
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(fields[5]).expect("unpadded base64 certificate");
        let mut address = fields[3].to_owned();
        if fields[2] == "unix"
            && let Some(root) = root
        {
            address = root.join(address.trim_start_matches('/')).display().to_string();
        }
        Plugin {
            child,
            protocol: fields[1].to_owned(),
            network: fields[2].to_owned(),
            address,
            server_cert,
            handshake_line: line,
            stderr,
        }
    }

    /// Everything the provider wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("stderr")).into_owned()
    }

    /// A provider client over mutual TLS, pinned to the handshake's server certificate.
    pub async fn client(&self, identity: &Identity) -> Client {
        let tls = client_config(&self.server_cert, identity);
        let (network, address) = (self.network.clone(), self.address.clone());
        let connector = tower::service_fn(move |_: Uri| {
            let (network, address, tls) = (network.clone(), address.clone(), tls.clone());
            async move { connect(&network, &address, tls).await.map(TokioIo::new) }
        });
        let channel = Endpoint::from_static("http://localhost")
            .connect_timeout(Duration::from_secs(10))
            .timeout(CALL_LIMIT)
            .connect_with_connector(connector)
            .await
            .unwrap_or_else(|e| panic!("mTLS channel to {}: {e}; stderr:\n{}", self.address, self.stderr()));
        Client::new(channel).max_decoding_message_size(64 << 20)
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Stream = Box<dyn Io>;
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> Io for T {}

async fn connect(network: &str, address: &str, tls: Arc<rustls::ClientConfig>) -> std::io::Result<Stream> {
    let io: Stream = if network == "unix" {
        Box::new(tokio::net::UnixStream::connect(address).await?)
    } else {
        Box::new(tokio::net::TcpStream::connect(address).await?)
    };
    let name = ServerName::try_from("localhost").expect("server name");
    Ok(Box::new(tokio_rustls::TlsConnector::from(tls).connect(name, io).await?))
}

fn client_config(server_cert: &[u8], identity: &Identity) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        PinnedServer { expected: server_cert.to_vec(), algorithms: provider.signature_verification_algorithms };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(
            vec![identity.cert_der.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone())),
        )
        .expect("client certificate");
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

/// A msgpack object of the schema's attributes, all null but `set` (strings): the way Terraform
/// encodes a configuration (only strings are needed here).
pub fn msgpack_config(schema: &pb::Schema, set: &[(&str, &str)]) -> pb::DynamicValue {
    let block = schema.block.as_ref().expect("schema block");
    for (k, _) in set {
        assert!(block.attributes.iter().any(|a| a.name == *k), "no attribute {k} in the schema");
    }
    let entries: Vec<(String, Option<String>)> = block
        .attributes
        .iter()
        .map(|a| (a.name.clone(), set.iter().find(|(k, _)| *k == a.name).map(|(_, v)| (*v).to_owned())))
        .collect();
    pb::DynamicValue { msgpack: msgpack::encode_string_map(&entries), json: Vec::new() }
}

/// Where a provider's files live: a fresh empty root for chroot.
pub fn empty_root_with(binary: &Path, name: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::Builder::new().prefix("hss-root").tempdir().expect("root dir");
    let inside = root.path().join(name);
    std::fs::copy(binary, &inside).expect("copy the binary into the root");
    (root, inside)
}
