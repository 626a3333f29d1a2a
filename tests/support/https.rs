//! A static file server over HTTPS on 127.0.0.1, with a certificate from a throwaway CA: what any
//! web server hosting the network mirror would be. HTTP/1.1, GET only, one request per
//! connection (`Connection: close`), which is all Terraform's client needs. It logs the paths it
//! was asked for and stops when dropped.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncWriteExt;

/// How long one connection may take from accept to the last byte sent.
const CONNECTION_LIMIT: Duration = Duration::from_secs(60);

pub struct StaticHttps {
    pub addr: SocketAddr,
    /// The CA's certificate in PEM, for SSL_CERT_FILE.
    pub ca_pem: String,
    /// `GET path -> status` for every request served.
    log: Arc<Mutex<Vec<String>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl StaticHttps {
    /// Serves the files under `root`.
    pub fn start(root: &Path) -> StaticHttps {
        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("CA key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "hss release test CA");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);

        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("server key");
        let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, "127.0.0.1");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &issuer).expect("server certificate");

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server config");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (root, served) = (root.to_owned(), log.clone());
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let (acceptor, root, served) = (acceptor.clone(), root.clone(), served.clone());
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(CONNECTION_LIMIT, async move {
                        let mut tls = acceptor.accept(tcp).await?;
                        let head = read_head(&mut tls).await?;
                        let (status, body) = respond(&root, &head);
                        let request = head.lines().next().unwrap_or("").to_owned();
                        served.lock().expect("log").push(format!("{request} -> {status}"));
                        let kind = if request.contains(".json ") { "application/json" } else { "application/zip" };
                        let header = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        tls.write_all(header.as_bytes()).await?;
                        tls.write_all(&body).await?;
                        tls.shutdown().await?;
                        Ok::<_, std::io::Error>(())
                    })
                    .await;
                });
            }
        });
        StaticHttps { addr, ca_pem: ca_cert.pem(), log, runtime: Some(runtime) }
    }

    /// Every request so far, as `GET /path HTTP/1.1 -> 200 OK`.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for StaticHttps {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn read_head<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<String> {
    let head = super::loopback::read_request_head(stream)
        .await
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "incomplete request head"))?;
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn respond(root: &Path, head: &str) -> (&'static str, Vec<u8>) {
    let mut words = head.split_whitespace();
    let (Some("GET"), Some(target)) = (words.next(), words.next()) else {
        return ("405 Method Not Allowed", Vec::new());
    };
    let path = target.split('?').next().unwrap_or("");
    let relative = PathBuf::from(path.trim_start_matches('/'));
    if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return ("404 Not Found", Vec::new());
    }
    match std::fs::read(root.join(relative)) {
        Ok(body) => ("200 OK", body),
        Err(_) => ("404 Not Found", Vec::new()),
    }
}
