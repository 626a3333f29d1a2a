//! AutoMTLS: the server certificate we mint at start-up, and a client-certificate verifier that
//! accepts exactly the one certificate Terraform handed us in `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is a self-signed ECDSA P-521 / SHA-512 certificate marked
//! CA:TRUE. Two things therefore do not work with a stock rustls set-up: the `ring` backend
//! cannot verify P-521 signatures (so the scheme is never offered and Go sends no certificate),
//! and webpki's chain building rejects a CA certificate used as an end entity. We pin the exact
//! DER instead of building a chain, and verify the handshake signature with aws-lc-rs, whose
//! algorithm list includes P-521.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};

/// Errors while setting up TLS; all of them stop the provider before the handshake line.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    #[error("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {0}")]
    ClientCert(String),
    #[error("could not generate the server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("could not build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The server side of AutoMTLS: our certificate (for the handshake line) and the rustls config.
pub(crate) struct ServerTls {
    pub(crate) cert_der: Vec<u8>,
    pub(crate) config: Arc<rustls::ServerConfig>,
}

/// The crypto provider for every TLS use in the plugin: aws-lc-rs, for its P-521 support.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the server TLS config that requires `client_cert_pem`'s certificate and no other.
pub(crate) fn server_config(client_cert_pem: &str) -> Result<ServerTls, TlsError> {
    let client =
        CertificateDer::from_pem_slice(client_cert_pem.as_bytes()).map_err(|e| TlsError::ClientCert(e.to_string()))?;
    let (cert, key) = self_signed()?;
    let provider = provider();
    let verifier =
        PinnedClientCert { expected: client.into_owned(), algorithms: provider.signature_verification_algorithms };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![cert.clone()], key)?;
    // Newer gRPC clients (Terraform >= 1.12, OpenTofu >= 1.11) refuse a server without ALPN h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerTls { cert_der: cert.to_vec(), config: Arc::new(config) })
}

/// A fresh self-signed certificate for `localhost`, shaped like the one go-plugin makes:
/// P-256, CA:TRUE, usable for server and client authentication.
pub(crate) fn self_signed() -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages =
        vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth, rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().clone(), key_der))
}

/// Accepts one exact certificate and verifies handshake signatures against its key.
#[derive(Debug)]
struct PinnedClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: Go then offers its only certificate whatever its issuer.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("refused a TLS client whose certificate is not Terraform's");
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_p521_so_terraform_sends_its_certificate() {
        let algorithms = provider().signature_verification_algorithms;
        assert!(algorithms.supported_schemes().contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn garbage_client_cert_is_an_error() {
        let err = server_config("not a certificate").err().expect("must fail");
        assert!(err.to_string().contains("PLUGIN_CLIENT_CERT"), "{err}");
    }

    #[test]
    fn server_config_advertises_h2_and_requires_client_auth() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("key");
        let client =
            rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params").self_signed(&key).expect("cert");
        let tls = server_config(&client.pem()).expect("config");
        assert_eq!(tls.config.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(!tls.cert_der.is_empty());
    }
}
