//! Simulator configuration: where to listen, which credentials to accept, which data to serve
//! and which faults to inject.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::data::PortRecord;
use super::fleet::{FleetSpec, Skew};

/// The project ID the simulator serves when none is configured.
pub const DEFAULT_PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";

/// Everything [`crate::Simulator::start`] needs.
///
/// Build it with struct-update syntax: `SimConfig { seed: 7, ..Default::default() }`.
#[derive(Clone)]
pub struct SimConfig {
    /// Address to bind. Default `127.0.0.1:0` (an ephemeral loopback port).
    pub listen: SocketAddr,
    /// The only project ID accepted in `/v5/{project_id}/asset/ports`.
    pub project_id: String,
    /// When set, `X-Auth-Token` must equal it (unless AK/SK authentication succeeds).
    pub token: Option<String>,
    /// Access key for `SDK-HMAC-SHA256` authentication (needs `secret_key` too).
    pub access_key: Option<String>,
    /// Secret key for `SDK-HMAC-SHA256` authentication (needs `access_key` too).
    pub secret_key: Option<String>,
    /// `(host_id, n)`: generate `n` deterministic ports for `host_id` (additive).
    pub generate: Vec<(String, usize)>,
    /// JSON fixture file: `{ "host_id": [ {port record}, ... ], ... }`.
    pub fixture: Option<PathBuf>,
    /// Extra in-code data, merged with the fixture and the generated ports.
    pub hosts: BTreeMap<String, Vec<PortRecord>>,
    /// Seed for data generation, the served order and fault decisions.
    pub seed: u64,
    /// Initial fault settings (change at runtime with `SimHandle::set_faults`).
    pub faults: Faults,
    /// A generated fleet of servers for the fleet APIs (none by default).
    pub fleet: FleetSpec,
    /// JSON file of server details: `{ "host_id": { "host_name": "web-1", ... }, ... }`.
    pub host_fixture: Option<PathBuf>,
    /// The simulated IAM and ECS metadata service: projects, agencies, credential lifetime.
    pub iam: crate::IamConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            project_id: DEFAULT_PROJECT_ID.to_string(),
            token: None,
            access_key: None,
            secret_key: None,
            generate: Vec::new(),
            fixture: None,
            hosts: BTreeMap::new(),
            seed: 0,
            faults: Faults::default(),
            fleet: FleetSpec::default(),
            host_fixture: None,
            iam: crate::IamConfig::default(),
        }
    }
}

fn redact(v: &Option<String>) -> &'static str {
    if v.is_some() { "Some(<redacted>)" } else { "None" }
}

/// Secrets are never printed, not even with `{:?}`.
impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("project_id", &self.project_id)
            .field("token", &redact(&self.token))
            .field("access_key", &redact(&self.access_key))
            .field("secret_key", &redact(&self.secret_key))
            .field("generate", &self.generate)
            .field("fixture", &self.fixture)
            .field("hosts", &self.hosts.keys().collect::<Vec<_>>())
            .field("seed", &self.seed)
            .field("faults", &self.faults)
            .field("fleet", &self.fleet)
            .field("host_fixture", &self.host_fixture)
            .field("iam", &self.iam)
            .finish()
    }
}

/// Fault injection settings. Rates are probabilities in `[0, 1]` (values `>= 1` always
/// fire, values `<= 0` or NaN never fire). Decisions are deterministic: they depend only on
/// the seed and on the ordinal of the request among the requests that passed routing,
/// authentication and validation.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Added to every API request (not to `/_sim/*`), before anything else is done.
    pub latency: Duration,
    /// Rate of `429 Too Many Requests` (`APIGW.0308`).
    pub rate_429: f64,
    /// `Retry-After` value (seconds) sent with injected 429s; no header when `None`.
    pub retry_after_secs: Option<u64>,
    /// Rate of 500/502/503/504 responses.
    pub rate_5xx: f64,
    /// Rate of `200` responses whose JSON body is truncated.
    pub rate_malformed: f64,
    /// Rate of connections closed without any response.
    pub rate_drop: f64,
    /// Data drift between requests, see [`Drift`].
    pub drift: Drift,
    /// Rate of pages that return the records of another offset (same `total_num`).
    pub rate_repeat_page: f64,
    /// Rate of pages that return fewer records than they should (possibly none).
    pub rate_short_page: f64,
    /// Port statistics whose counts do not add up, see [`Skew`].
    pub stats_skew: Skew,
    /// One record replaced by another between two requests, `total_num` unchanged, see
    /// [`Replace`].
    pub replace: Option<Replace>,
}

/// A port that closes while another opens, between two page reads: right after the simulator
/// has read the page of the `after_request`-th request that reached the fault step (1-based,
/// counted like the other faults' decisions, whatever its outcome), the host of that request
/// loses the record at served position `remove_at` and gains a new record (a unique TCP port
/// on `0.0.0.0`) at served position `insert_at`, counted after the removal. `total_num` stays
/// the same, and every record between the two positions moves by one place:
///
/// - `remove_at < insert_at`: a removal before a page boundary and an insertion after it; the
///   records between them move one place towards the start;
/// - `remove_at > insert_at`: an insertion before the boundary and a removal after it; they
///   move one place towards the end.
///
/// Positions beyond the host's records are clamped to its last record (removal) and its end
/// (insertion). A host without records is left alone. The change happens once per simulator
/// (request ordinals are not reused), and is counted as one injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replace {
    /// The 1-based ordinal of the request after whose page the change happens.
    pub after_request: u64,
    /// Served position (0-based) of the record that is removed.
    pub remove_at: usize,
    /// Served position (0-based, after the removal) where the new record is inserted.
    pub insert_at: usize,
}

impl Replace {
    /// Parses the CLI spelling `N:REMOVE:INSERT`.
    pub fn parse(s: &str) -> Option<Replace> {
        let mut parts = s.split(':');
        let after_request = parts.next()?.parse().ok().filter(|n| *n > 0)?;
        let remove_at = parts.next()?.parse().ok()?;
        let insert_at = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Replace { after_request, remove_at, insert_at })
    }
}

/// How a host's ports change while it is being read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Drift {
    /// Data never changes.
    #[default]
    None,
    /// After the first page (offset 0, status 200) served for a host, the host gains one
    /// port at a seeded position, once per host; later reads are stable.
    Once,
    /// Every request for a known host toggles one extra port (it appears, then disappears,
    /// then appears again ...), so `total_num` differs between consecutive requests.
    Always,
}

impl Drift {
    /// Parses `none`, `once` or `always` (the CLI spelling).
    pub fn parse(s: &str) -> Option<Drift> {
        match s {
            "none" => Some(Drift::None),
            "once" => Some(Drift::Once),
            "always" => Some(Drift::Always),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let cfg = SimConfig {
            token: Some("tok-SECRET".into()),
            access_key: Some("AK-SECRET".into()),
            secret_key: Some("SK-SECRET".into()),
            ..Default::default()
        };
        let s = format!("{cfg:?}");
        assert!(!s.contains("SECRET"), "{s}");
        assert!(s.contains("<redacted>"));
    }

    #[test]
    fn defaults() {
        let cfg = SimConfig::default();
        assert_eq!(cfg.listen.to_string(), "127.0.0.1:0");
        assert_eq!(cfg.project_id, DEFAULT_PROJECT_ID);
        assert_eq!(Drift::parse("once"), Some(Drift::Once));
        assert_eq!(Drift::parse("always"), Some(Drift::Always));
        assert_eq!(Drift::parse("none"), Some(Drift::None));
        assert_eq!(Drift::parse("x"), None);
    }

    #[test]
    fn replace_parses_its_cli_spelling() {
        assert_eq!(Replace::parse("2:150:300"), Some(Replace { after_request: 2, remove_at: 150, insert_at: 300 }));
        for bad in ["", "0:1:2", "1:2", "1:2:3:4", "a:1:2", "1:-1:2", "1:2:x"] {
            assert_eq!(Replace::parse(bad), None, "{bad}");
        }
    }
}
