//! The go-plugin handshake: what Terraform tells us through the environment, and the one line we
//! answer with on stdout.
//!
//! Terraform starts the binary with a magic cookie, the protocol versions it speaks, optional
//! port bounds and socket directory, and (with AutoMTLS) its client certificate. It then reads
//! exactly one line from our stdout: `1|6|unix|/path|grpc|<base64 DER cert>`.

use std::env;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// The cookie Terraform sets so that a plugin knows it was started by Terraform.
pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub(crate) const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The go-plugin core protocol version (first field of the handshake line).
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only Terraform plugin protocol we serve.
pub(crate) const PROTOCOL_VERSION: u32 = 6;

/// Everything the handshake environment says, parsed once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Environment {
    pub(crate) cookie_ok: bool,
    /// Versions the client speaks (`PLUGIN_PROTOCOL_VERSIONS`); empty when unset.
    pub(crate) client_versions: Vec<u32>,
    pub(crate) min_port: Option<u16>,
    pub(crate) max_port: Option<u16>,
    pub(crate) unix_socket_dir: Option<String>,
    /// Terraform's client certificate (PEM) when AutoMTLS is on.
    pub(crate) client_cert_pem: Option<String>,
}

impl Environment {
    pub(crate) fn from_process() -> Self {
        Self::from_lookup(|key| env::var(key).ok())
    }

    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let port = |key: &str| get(key).and_then(|v| v.trim().parse::<u16>().ok());
        Environment {
            cookie_ok: get(MAGIC_COOKIE_KEY).as_deref() == Some(MAGIC_COOKIE_VALUE),
            client_versions: get("PLUGIN_PROTOCOL_VERSIONS")
                .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
                .unwrap_or_default(),
            min_port: port("PLUGIN_MIN_PORT"),
            max_port: port("PLUGIN_MAX_PORT"),
            unix_socket_dir: get("PLUGIN_UNIX_SOCKET_DIR").filter(|d| !d.is_empty()),
            client_cert_pem: get("PLUGIN_CLIENT_CERT").filter(|c| !c.trim().is_empty()),
        }
    }

    /// The protocol to speak: 6 when the client offers it (or offers nothing, as very old
    /// clients do), otherwise an error naming what was offered.
    pub(crate) fn negotiate(&self) -> Result<u32, String> {
        if self.client_versions.is_empty() || self.client_versions.contains(&PROTOCOL_VERSION) {
            Ok(PROTOCOL_VERSION)
        } else {
            Err(format!(
                "this provider speaks Terraform plugin protocol {PROTOCOL_VERSION}, \
                 but the client offered {:?}; use Terraform 1.0 or newer",
                self.client_versions
            ))
        }
    }
}

/// Where the server listens, as written in the handshake line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Address {
    /// A unix socket; on Windows, go-plugin (and so this provider) always uses TCP.
    #[cfg_attr(not(unix), allow(dead_code))]
    Unix(std::path::PathBuf),
    Tcp(std::net::SocketAddr),
}

impl Address {
    pub(crate) fn network(&self) -> &'static str {
        match self {
            Address::Unix(_) => "unix",
            Address::Tcp(_) => "tcp",
        }
    }

    pub(crate) fn string(&self) -> String {
        match self {
            Address::Unix(path) => path.display().to_string(),
            Address::Tcp(addr) => addr.to_string(),
        }
    }
}

/// Formats the handshake line (without the newline). The certificate is the server's DER in
/// standard base64 without padding; empty when serving without TLS.
pub(crate) fn line(addr: &Address, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der.map(|der| STANDARD_NO_PAD.encode(der)).unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{}|{}|grpc|{cert}", addr.network(), addr.string())
}

/// What a person who runs the binary by hand sees.
pub(crate) const NOT_A_PLUGIN: &str = "\
This binary is a plugin for Terraform (and OpenTofu). It is not meant to be run directly:
Terraform starts it when a configuration uses the provider \"local/hss\".

To use it:
  * install it (see the README: `make install`) or point Terraform at it with a
    dev_overrides block in your CLI configuration, then run `terraform plan`;
  * to debug it, run it with `--debug`: it serves on its own and prints a
    TF_REATTACH_PROVIDERS value to export in the shell where you run Terraform.

Other flags: --version, --help.
";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> Environment {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Environment::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn cookie_must_match_exactly() {
        assert!(env_of(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)]).cookie_ok);
        assert!(!env_of(&[(MAGIC_COOKIE_KEY, "nope")]).cookie_ok);
        assert!(!env_of(&[]).cookie_ok);
    }

    #[test]
    fn negotiates_six_in_any_order() {
        assert_eq!(env_of(&[("PLUGIN_PROTOCOL_VERSIONS", "6,5")]).negotiate(), Ok(6));
        assert_eq!(env_of(&[("PLUGIN_PROTOCOL_VERSIONS", "5, 6")]).negotiate(), Ok(6));
        assert_eq!(env_of(&[]).negotiate(), Ok(6));
        let err = env_of(&[("PLUGIN_PROTOCOL_VERSIONS", "4,5")]).negotiate().unwrap_err();
        assert!(err.contains("[4, 5]"), "{err}");
    }

    #[test]
    fn ports_and_dirs_are_parsed() {
        let env = env_of(&[
            ("PLUGIN_MIN_PORT", "10000"),
            ("PLUGIN_MAX_PORT", "25000"),
            ("PLUGIN_UNIX_SOCKET_DIR", "/run/x"),
            ("PLUGIN_CLIENT_CERT", "  "),
        ]);
        assert_eq!((env.min_port, env.max_port), (Some(10000), Some(25000)));
        assert_eq!(env.unix_socket_dir.as_deref(), Some("/run/x"));
        assert_eq!(env.client_cert_pem, None);
    }

    #[test]
    fn line_has_six_fields_and_unpadded_base64() {
        let addr = Address::Unix("/tmp/plugin1".into());
        assert_eq!(line(&addr, Some(&[1, 2, 3, 4])), "1|6|unix|/tmp/plugin1|grpc|AQIDBA");
        let tcp = Address::Tcp("127.0.0.1:1234".parse().expect("addr"));
        assert_eq!(line(&tcp, None), "1|6|tcp|127.0.0.1:1234|grpc|");
    }
}
