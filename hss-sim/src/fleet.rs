//! The simulated fleet: every host of the store seen from the three fleet APIs, so that
//! ListHostStatus (`GET /v5/{project_id}/host-management/hosts`), ListPortHost
//! (`GET /v5/{project_id}/asset/ports/detail`), ListPortStatistics
//! (`GET /v5/{project_id}/asset/port/statistics`) and the port list (`GET .../asset/ports`)
//! always agree: they are all computed from the same store, on each request.
//!
//! # Data
//!
//! - [`FleetSpec`] (`--fleet N`): N generated servers, each with host details and open ports
//!   drawn from a seeded pool of `pairs` distinct (port, protocol) listeners: well-known
//!   services, then ports 1024-38999; `rare_pairs` of them (ports 40000-49999, TCP on
//!   `0.0.0.0`) are open on only `rare_hosts` servers each. One listener in ten binds another
//!   address than its usual one (a loopback database on `0.0.0.0`, a service on the server's
//!   private IP), one server in ten runs a container (TCP 8080, maybe 9090), and the servers
//!   without an installed agent report no ports.
//! - Every other host of the store (the reference host, `--generate`, `--fixture`) is a server
//!   too, with derived details (online, `ACTIVE`, protected).
//! - `--host-fixture FILE`: `{"host_id": {"host_name": "web-1", "labels": ["prod"], ...}}`
//!   overrides details of any server (a `null` removes the field from the answers) and adds
//!   servers without ports.
//!
//! A server's `host_name` and `private_ip` are also what the port list's `host_name` and
//! `host_ip` filters match.
//!
//! # Semantics
//!
//! Queries are validated as the API documents them (`HSS.1001` on a bad value), then go through
//! the same authentication, project check, latency and faults as the port list. Omitting
//! `enterprise_project_id` means the default project `0`; `all_granted_eps` means every one.
//! `host_name`, `private_ip`, `public_ip`, `ip_addr` and `host_ip` match substrings, the rest
//! exactly; `agent_status=not_online` is everything but `online`. ListPortHost's `type=TCP`
//! (`UDP`) lists IPv4 and IPv6 listeners alike; ListPortStatistics counts IPv6 listeners
//! (an IPv6 `laddr`) apart, as `TCP6`/`UDP6`, and `num` is the number of distinct servers. A
//! pair's status is `danger` if any of its records is, else `unknown` if any is `unknow`, else
//! `normal` (generated listeners have one status on every server). Lists are served in a seeded order that is stable across requests (statistics by
//! port with `sort_key=port`).
//!
//! [`Skew`] (`--stats-skew`) makes the statistics inconsistent: every `num` one too high.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::SimHandle;
use super::config::SimConfig;
use super::data::{DataError, HostData, HostMeta, PortRecord, Store, check_host_id, read_fixture};
use super::faults::{Rng, decide, fnv1a, mix};
use super::server::{Shared, denial, error, lock, not_found, page_body, refusal, served};
use super::validate::{INVALID_PARAM_CODE, ValidationError, parse_pairs};

/// A generated fleet (`--fleet N` and the `--fleet-*` flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetSpec {
    /// Servers to generate (0: none).
    pub hosts: usize,
    /// Ports each server opens from the common pool.
    pub ports_per_host: usize,
    /// Distinct (port, protocol) listeners in the pool, rare ones included.
    pub pairs: usize,
    /// Listeners of the pool open on only a few servers each.
    pub rare_pairs: usize,
    /// Servers each rare listener is open on (0: one in fifty servers, at least one).
    pub rare_hosts: usize,
}

impl Default for FleetSpec {
    fn default() -> Self {
        FleetSpec { hosts: 0, ports_per_host: 12, pairs: 60, rare_pairs: 0, rare_hosts: 0 }
    }
}

/// Inconsistent statistics, to test the readers' re-reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Skew {
    /// The statistics add up.
    #[default]
    None,
    /// Every statistics page is skewed until the first ListPortHost request after one: the
    /// first whole check sees counts that do not add up, a re-read does not.
    Once,
    /// Every statistics page is skewed.
    Always,
}

impl Skew {
    /// Parses `none`, `once` or `always` (the CLI spelling).
    pub fn parse(s: &str) -> Option<Skew> {
        match s {
            "none" => Some(Skew::None),
            "once" => Some(Skew::Once),
            "always" => Some(Skew::Always),
            _ => None,
        }
    }
}

/// One server as ListHostStatus returns it; an absent field is left out of the answer.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // the API's field names
pub struct HostInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protect_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect_result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intrusion: Option<i64>,
}

/// One record of ListPortHost.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // the API's field names
pub struct PortHostInfo {
    pub host_id: String,
    pub host_name: String,
    pub host_ip: String,
    pub laddr: String,
    pub port: u32,
    #[serde(rename = "type")]
    pub port_type: String,
    pub pid: u32,
    pub path: String,
    pub status: String,
    pub container_id: String,
    pub container_name: String,
    pub agent_id: String,
}

/// One row of ListPortStatistics.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // the API's field names
pub struct PortStatisticInfo {
    pub port: u32,
    /// `TCP`, `TCP6`, `UDP` or `UDP6`.
    #[serde(rename = "type")]
    pub port_type: String,
    pub num: u32,
    pub status: String,
}

/// Why the fleet could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FleetError {
    /// Reading the host fixture, or a host ID in it.
    #[error("host fixture: {0}")]
    Fixture(#[from] DataError),
    #[error("host fixture {}: host {host:?}: {source}", path.display())]
    Field { path: PathBuf, host: String, source: serde_json::Error },
    #[error("generated fleet host {0:?} is also a host of the port fixture or --generate; give that one another ID")]
    Collision(String),
    #[error("--fleet-rare ({rare}) must be smaller than --fleet-pairs ({pairs}), and both at most 10000")]
    Pairs { rare: usize, pairs: usize },
    #[error("--fleet {0}: at most 100000 servers")]
    TooMany(usize),
}

impl From<FleetError> for io::Error {
    fn from(e: FleetError) -> io::Error {
        let kind = match e {
            FleetError::Fixture(inner) => return inner.into(),
            FleetError::Pairs { .. } | FleetError::TooMany(_) | FleetError::Collision(_) => io::ErrorKind::InvalidInput,
            FleetError::Field { .. } => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

/// The details of every server, and the state of the statistics fault.
pub(crate) struct Fleet {
    hosts: BTreeMap<String, HostInfo>,
    /// Host IDs in served order.
    order: Vec<String>,
    /// `Skew::Once`: set once a ListPortHost request followed skewed statistics.
    skew_spent: AtomicBool,
    skewed: AtomicBool,
}

// ---------------------------------------------------------------------------------------------
// Generation

const SALT_FLEET: u64 = 0xf1ee7;

/// Well-known listeners of the pool: (port, type, usual laddr, path).
const SERVICES: &[(u32, &str, &str, &str)] = &[
    (22, "TCP", "0.0.0.0", "/usr/sbin/sshd"),
    (22, "TCP", "::", "/usr/sbin/sshd"),
    (68, "UDP", "0.0.0.0", "/usr/sbin/dhclient"),
    (123, "UDP", "0.0.0.0", "/usr/sbin/chronyd"),
    (323, "UDP", "127.0.0.1", "/usr/sbin/chronyd"),
    (3000, "TCP", "0.0.0.0", "/usr/sbin/grafana-server"),
    (80, "TCP", "0.0.0.0", "/usr/sbin/nginx"),
    (443, "TCP", "0.0.0.0", "/usr/sbin/nginx"),
    (443, "TCP", "::", "/usr/sbin/nginx"),
    (3306, "TCP", "127.0.0.1", "/usr/sbin/mysqld"),
    (5432, "TCP", "127.0.0.1", "/usr/lib/postgresql/bin/postgres"),
    (6379, "TCP", "127.0.0.1", "/usr/bin/redis-server"),
    (53, "UDP", "127.0.0.1", "/usr/sbin/named"),
    (25, "TCP", "127.0.0.1", "/usr/libexec/postfix/master"),
    (9100, "TCP", "0.0.0.0", "/usr/local/bin/node_exporter"),
    (8080, "TCP", "0.0.0.0", "/usr/bin/java"),
];

const BINARIES: &[&str] = &[
    "/usr/bin/java",
    "/usr/bin/python3",
    "/usr/bin/node",
    "/usr/local/bin/envoy",
    "/usr/sbin/haproxy",
    "/opt/app/bin/server",
    "/usr/local/bin/consul",
    "/usr/bin/memcached",
];

const RARE_BINARIES: &[&str] = &["/tmp/.cache/kworkerd", "/usr/bin/nc", "/opt/debug/bin/pprof", "/usr/bin/socat"];

/// One listener of the pool.
#[derive(Clone, Debug)]
struct Listener {
    port: u32,
    port_type: &'static str,
    laddr: &'static str,
    path: &'static str,
}

fn pool(rng: &mut Rng, common: usize) -> Vec<Listener> {
    let mut out: Vec<Listener> = SERVICES
        .iter()
        .take(common)
        .map(|&(port, port_type, laddr, path)| Listener { port, port_type, laddr, path })
        .collect();
    let mut taken: BTreeSet<(u32, &str)> = out.iter().map(|l| (l.port, l.port_type)).collect();
    while out.len() < common {
        let port_type = if rng.below(4) == 0 { "UDP" } else { "TCP" };
        let port = 1024 + rng.below(39_000 - 1024) as u32;
        if !taken.insert((port, port_type)) {
            continue;
        }
        let laddr = ["0.0.0.0", "0.0.0.0", "127.0.0.1", "::"][rng.below(4) as usize];
        let path = BINARIES[rng.below(BINARIES.len() as u64) as usize];
        out.push(Listener { port, port_type, laddr, path });
    }
    out
}

fn hex(rng: &mut Rng, chars: usize) -> String {
    let mut s = String::with_capacity(chars + 16);
    while s.len() < chars {
        s.push_str(&format!("{:016x}", rng.next_u64()));
    }
    s.truncate(chars);
    s
}

fn uuid(rng: &mut Rng) -> String {
    let h = hex(rng, 32);
    format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len() as u64) as usize]
}

/// `pick` with weights.
fn weighted<'a>(rng: &mut Rng, items: &[(&'a str, u64)]) -> &'a str {
    let total: u64 = items.iter().map(|(_, w)| w).sum();
    let mut at = rng.below(total.max(1));
    for (item, w) in items {
        if at < *w {
            return item;
        }
        at -= w;
    }
    items.last().map_or("", |(item, _)| item)
}

fn pid(seed: u64, host_id: &str, path: &str) -> u32 {
    300 + (mix(seed, fnv1a(host_id), fnv1a(path)) % 65_000) as u32
}

/// The details of a host that was not generated as part of the fleet: a healthy server.
fn plain_info(seed: u64, host_id: &str, host: &HostData) -> HostInfo {
    let mut rng = Rng::new(seed ^ fnv1a(host_id) ^ SALT_FLEET);
    HostInfo {
        host_id: Some(host_id.to_owned()),
        host_name: Some(host.meta.name.clone()),
        agent_id: Some(host.agent_id.clone()),
        private_ip: Some(host.meta.ip.clone()),
        enterprise_project_id: Some("0".into()),
        enterprise_project_name: Some("default".into()),
        os_type: Some("Linux".into()),
        os_name: Some("EulerOS".into()),
        os_version: Some("2.0".into()),
        host_status: Some("ACTIVE".into()),
        agent_status: Some("online".into()),
        protect_status: Some("opened".into()),
        version: Some("hss.version.enterprise".into()),
        detect_result: Some("clean".into()),
        asset_value: Some("common".into()),
        labels: Some(Vec::new()),
        agent_version: Some("3.2.10".into()),
        asset: Some(0),
        vulnerability: Some(rng.below(5) as i64),
        baseline: Some(rng.below(5) as i64),
        intrusion: Some(0),
        ..Default::default()
    }
}

const ROLES: &[&str] = &["web", "app", "db", "cache", "batch"];
const GROUPS: &[(&str, &str)] = &[
    ("6a8b1c2d-0000-4000-a000-000000000001", "web-servers"),
    ("6a8b1c2d-0000-4000-a000-000000000002", "databases"),
    ("6a8b1c2d-0000-4000-a000-000000000003", "batch"),
];
const VPCS: &[&str] = &["vpc-0f1e2d3c-prod", "vpc-4b5a6978-test"];

/// Generates the fleet's servers into `store`; returns their details.
fn generate(seed: u64, spec: &FleetSpec, store: &mut Store) -> Result<BTreeMap<String, HostInfo>, FleetError> {
    let mut infos = BTreeMap::new();
    if spec.hosts == 0 {
        return Ok(infos);
    }
    if spec.hosts > 100_000 {
        return Err(FleetError::TooMany(spec.hosts));
    }
    if spec.rare_pairs >= spec.pairs.max(1) || spec.pairs > 10_000 {
        return Err(FleetError::Pairs { rare: spec.rare_pairs, pairs: spec.pairs });
    }
    let mut rng = Rng::new(seed ^ SALT_FLEET);
    let common = pool(&mut rng, spec.pairs - spec.rare_pairs);
    let rare: Vec<Listener> = (0..spec.rare_pairs)
        .map(|j| Listener {
            port: 40_000 + 17 * j as u32 + rng.below(17) as u32,
            port_type: "TCP",
            laddr: "0.0.0.0",
            path: RARE_BINARIES[j % RARE_BINARIES.len()],
        })
        .collect();
    let mut ids = Vec::with_capacity(spec.hosts);
    for i in 0..spec.hosts {
        let id = uuid(&mut rng);
        let role = ROLES[i % ROLES.len()];
        let private_ip = format!("10.{}.{}.{}", i / 62_500 % 256, i / 250 % 250, i % 250 + 1);
        let windows = rng.below(8) == 0;
        let agent_status = weighted(
            &mut rng,
            &[
                ("online", 85),
                ("offline", 7),
                ("not_installed", 3),
                ("installing", 1),
                ("install_failed", 1),
                ("installed", 3),
            ],
        );
        let group = (rng.below(4) < 3).then(|| GROUPS[rng.below(GROUPS.len() as u64) as usize]);
        let mut labels: Vec<String> =
            ["prod", "dmz", "pci", "blue"].iter().filter(|_| rng.below(3) == 0).map(|l| (*l).to_owned()).collect();
        labels.sort();
        let info = HostInfo {
            host_id: Some(id.clone()),
            host_name: Some(format!("{role}-{i:04}")),
            agent_id: Some(hex(&mut rng, 64)),
            private_ip: Some(private_ip.clone()),
            public_ip: (rng.below(4) == 0).then(|| format!("203.0.113.{}", 1 + i % 254)),
            enterprise_project_id: Some("0".into()),
            enterprise_project_name: Some("default".into()),
            os_type: Some(if windows { "Windows" } else { "Linux" }.into()),
            os_name: Some(
                if windows { "Windows Server" } else { pick(&mut rng, &["EulerOS", "CentOS", "Ubuntu"]) }.into(),
            ),
            os_version: Some(if windows { "2019" } else { pick(&mut rng, &["2.0", "7.9", "22.04"]) }.into()),
            host_status: Some(
                weighted(&mut rng, &[("ACTIVE", 92), ("SHUTOFF", 5), ("BUILDING", 2), ("ERROR", 1)]).into(),
            ),
            agent_status: Some(agent_status.into()),
            protect_status: Some(
                weighted(&mut rng, &[("opened", 85), ("closed", 12), ("protection_exception", 3)]).into(),
            ),
            version: Some(
                weighted(
                    &mut rng,
                    &[
                        ("hss.version.enterprise", 60),
                        ("hss.version.premium", 20),
                        ("hss.version.basic", 15),
                        ("hss.version.null", 5),
                    ],
                )
                .into(),
            ),
            detect_result: Some(
                weighted(&mut rng, &[("clean", 60), ("risk", 30), ("undetected", 8), ("scanning", 2)]).into(),
            ),
            group_id: group.map(|g| g.0.to_owned()),
            group_name: group.map(|g| g.1.to_owned()),
            policy_group_id: Some("d1e2f3a4-0000-4000-a000-00000000000".to_owned() + &(i % 2).to_string()),
            policy_group_name: Some(
                if i % 2 == 0 { "default_enterprise_policy_group" } else { "web_policy_group" }.into(),
            ),
            asset_value: Some(weighted(&mut rng, &[("common", 70), ("important", 20), ("test", 10)]).into()),
            labels: Some(labels),
            vpc_id: Some(VPCS[usize::from(rng.below(5) == 0)].into()),
            agent_version: Some(pick(&mut rng, &["3.2.10", "3.2.12"]).into()),
            asset: Some(rng.below(10) as i64),
            vulnerability: Some(rng.below(40) as i64),
            baseline: Some(rng.below(20) as i64),
            intrusion: Some(rng.below(3) as i64),
        };
        let agent_id = info.agent_id.clone().unwrap_or_default();
        let name = info.host_name.clone().unwrap_or_default();
        let mut host = HostData {
            meta: HostMeta { name, ip: private_ip },
            agent_id,
            records: Vec::new(),
            drifted_once: false,
            always_extra: None,
        };
        if agent_status != "not_installed" {
            host_ports(seed, &mut rng, &id, &mut host, &common, spec.ports_per_host);
        }
        if store.hosts.contains_key(&id) {
            return Err(FleetError::Collision(id));
        }
        store.hosts.insert(id.clone(), host);
        infos.insert(id.clone(), info);
        ids.push(id);
    }
    // The rare listeners, each on a few servers that report ports.
    let with_ports: Vec<&String> =
        ids.iter().filter(|id| store.hosts.get(*id).is_some_and(|h| !h.records.is_empty())).collect();
    let per_rare = if spec.rare_hosts == 0 { (spec.hosts / 50).max(1) } else { spec.rare_hosts };
    for listener in &rare {
        let mut chosen = with_ports.clone();
        rng.shuffle(&mut chosen);
        for id in chosen.into_iter().take(per_rare) {
            if let Some(host) = store.hosts.get_mut(id.as_str()) {
                let record = record(seed, id, host, listener, listener.laddr, String::new());
                host.records.push(PortRecord { status: "danger".into(), ..record });
            }
        }
    }
    for id in &ids {
        if let Some(host) = store.hosts.get_mut(id) {
            Rng::new(seed ^ fnv1a(id) ^ SALT_FLEET).shuffle(&mut host.records);
        }
    }
    Ok(infos)
}

fn record(
    seed: u64,
    host_id: &str,
    host: &HostData,
    listener: &Listener,
    laddr: &str,
    container_id: String,
) -> PortRecord {
    PortRecord {
        agent_id: host.agent_id.clone(),
        container_id,
        host_id: host_id.to_owned(),
        laddr: laddr.to_owned(),
        path: listener.path.to_owned(),
        pid: pid(seed, host_id, listener.path),
        port: listener.port,
        // A property of the listener, so that the statistics give each pair one status.
        status: match mix(seed, u64::from(listener.port), fnv1a(listener.port_type)) % 100 {
            0..80 => "normal",
            80..92 => "unknow",
            _ => "danger",
        }
        .into(),
        port_type: listener.port_type.to_owned(),
    }
}

/// `n` listeners of the pool for one server, some on another address than usual, and for one
/// server in ten a container with a port or two.
fn host_ports(seed: u64, rng: &mut Rng, host_id: &str, host: &mut HostData, pool: &[Listener], n: usize) {
    let mut indices: Vec<usize> = (0..pool.len()).collect();
    let n = n.min(indices.len());
    for i in 0..n {
        let j = i + rng.below((indices.len() - i) as u64) as usize;
        indices.swap(i, j);
    }
    let mut records = Vec::with_capacity(n + 2);
    for &i in &indices[..n] {
        let listener = &pool[i];
        let laddr = match (listener.laddr, rng.below(10)) {
            // A database or cache listening on every address.
            ("127.0.0.1", 0) if listener.port >= 1024 => "0.0.0.0".to_owned(),
            ("0.0.0.0", 0) => host.meta.ip.clone(),
            (usual, _) => usual.to_owned(),
        };
        records.push(record(seed, host_id, host, listener, &laddr, String::new()));
    }
    if rng.below(10) == 0 {
        let container = hex(rng, 64);
        let app = Listener { port: 8080, port_type: "TCP", laddr: "0.0.0.0", path: "/usr/local/bin/app" };
        records.push(record(seed, host_id, host, &app, "0.0.0.0", container.clone()));
        if rng.below(2) == 0 {
            let metrics = Listener { port: 9090, port_type: "TCP", laddr: "0.0.0.0", path: "/usr/local/bin/app" };
            records.push(record(seed, host_id, host, &metrics, "0.0.0.0", container));
        }
    }
    host.records = records;
}

/// Reads a host fixture: `{"host_id": {field: value, ...}}`.
fn load_host_fixture(path: &Path) -> Result<BTreeMap<String, serde_json::Map<String, serde_json::Value>>, DataError> {
    read_fixture(path)
}

/// `info` with the fixture's fields set (`null` removes one).
fn overlay(
    path: &Path,
    host: &str,
    info: &HostInfo,
    patch: &serde_json::Map<String, serde_json::Value>,
) -> Result<HostInfo, FleetError> {
    let field = |source| FleetError::Field { path: path.to_path_buf(), host: host.to_owned(), source };
    let mut value = serde_json::to_value(info).map_err(field)?;
    if let Some(map) = value.as_object_mut() {
        for (k, v) in patch {
            if v.is_null() {
                map.remove(k);
            } else {
                map.insert(k.clone(), v.clone());
            }
        }
        map.insert("host_id".into(), serde_json::Value::String(host.to_owned()));
    }
    serde_json::from_value(value).map_err(field)
}

/// Builds the fleet over `store`: generates `cfg.fleet`, derives the details of every other
/// host, applies the host fixture, and makes the store's host metadata agree with it.
pub(crate) fn build(cfg: &SimConfig, store: &mut Store) -> Result<Fleet, FleetError> {
    let seed = cfg.seed;
    let mut infos = generate(seed, &cfg.fleet, store)?;
    if let Some(path) = &cfg.host_fixture {
        for (host_id, patch) in load_host_fixture(path)? {
            check_host_id(&host_id)?;
            let host = store.hosts.entry(host_id.clone()).or_insert_with(|| HostData {
                meta: HostMeta::for_host(&host_id),
                agent_id: hex(&mut Rng::new(seed ^ fnv1a(&host_id)), 64),
                records: Vec::new(),
                drifted_once: false,
                always_extra: None,
            });
            let base = infos.remove(&host_id).unwrap_or_else(|| plain_info(seed, &host_id, host));
            infos.insert(host_id.clone(), overlay(path, &host_id, &base, &patch)?);
        }
    }
    for (host_id, host) in store.hosts.iter_mut() {
        let info = infos.entry(host_id.clone()).or_insert_with(|| plain_info(seed, host_id, host));
        // The port list's host_name and host_ip filters see the same server.
        host.meta = HostMeta {
            name: info.host_name.clone().unwrap_or_default(),
            ip: info.private_ip.clone().unwrap_or_default(),
        };
    }
    let mut order: Vec<String> = infos.keys().cloned().collect();
    Rng::new(seed ^ SALT_FLEET.rotate_left(9)).shuffle(&mut order);
    Ok(Fleet { hosts: infos, order, skew_spent: AtomicBool::new(false), skewed: AtomicBool::new(false) })
}

// ---------------------------------------------------------------------------------------------
// Queries

/// The three APIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Hosts,
    PortHosts,
    Statistics,
}

/// `/v5/{project_id}/<api>` -> the raw project segment and the API.
fn route(path: &str) -> Option<(&str, Api)> {
    let rest = path.strip_prefix("/v5/")?;
    let (project, api) = rest.split_once('/')?;
    let api = match api {
        "host-management/hosts" => Api::Hosts,
        "asset/ports/detail" => Api::PortHosts,
        "asset/port/statistics" => Api::Statistics,
        _ => return None,
    };
    (!project.is_empty()).then_some((project, api))
}

/// The decoded parameters of one query, read as the API documents them.
struct Params<'a>(&'a [(String, String)]);

fn invalid(param: &'static str, what: String) -> ValidationError {
    ValidationError { param, msg: format!("Invalid parameter '{param}': {what}") }
}

impl Params<'_> {
    fn first(&self, name: &'static str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A string of `min..=max` characters.
    fn string(&self, name: &'static str, min: usize, max: usize) -> Result<Option<String>, ValidationError> {
        match self.first(name) {
            None => Ok(None),
            Some(v) if !(min..=max).contains(&v.chars().count()) => {
                Err(invalid(name, format!("must contain {min} to {max} characters")))
            }
            Some(v) => Ok(Some(v.to_owned())),
        }
    }

    fn int(&self, name: &'static str, min: i64, max: i64) -> Result<Option<i64>, ValidationError> {
        let Some(v) = self.first(name) else { return Ok(None) };
        let digits = v.strip_prefix('-').unwrap_or(v);
        let n = (!digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<i64>().ok())
            .flatten()
            .filter(|n| (min..=max).contains(n));
        n.map(Some).ok_or_else(|| invalid(name, format!("must be an integer from {min} to {max}, got {v:?}")))
    }

    fn one_of(&self, name: &'static str, allowed: &[&str]) -> Result<Option<String>, ValidationError> {
        match self.first(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_owned())),
            Some(v) => Err(invalid(name, format!("must be one of {}, got {v:?}", allowed.join(", ")))),
        }
    }

    fn boolean(&self, name: &'static str) -> Result<Option<bool>, ValidationError> {
        Ok(self.one_of(name, &["true", "false"])?.map(|v| v == "true"))
    }

    /// `limit` (10-200, default 10) and `offset` (0-2,000,000, default 0).
    fn paging(&self) -> Result<(usize, usize), ValidationError> {
        let limit = self.int("limit", 10, 200)?.unwrap_or(10) as usize;
        let offset = self.int("offset", 0, 2_000_000)?.unwrap_or(0) as usize;
        Ok((limit, offset))
    }

    fn enterprise_project(&self) -> Result<String, ValidationError> {
        Ok(self.string("enterprise_project_id", 1, 256)?.unwrap_or_else(|| "0".to_owned()))
    }
}

fn in_project(info: &HostInfo, project: &str) -> bool {
    project == "all_granted_eps" || info.enterprise_project_id.as_deref().unwrap_or("0") == project
}

fn contains(field: &Option<String>, wanted: &Option<String>) -> bool {
    wanted.as_ref().is_none_or(|w| field.as_deref().is_some_and(|f| f.contains(w.as_str())))
}

fn equals(field: &Option<String>, wanted: &Option<String>) -> bool {
    wanted.as_ref().is_none_or(|w| field.as_deref() == Some(w.as_str()))
}

const OS_TYPES: &[&str] = &["Linux", "Windows"];
const HOST_STATUSES: &[&str] = &["ACTIVE", "SHUTOFF", "BUILDING", "ERROR"];
const AGENT_STATUSES: &[&str] =
    &["installed", "not_installed", "online", "offline", "install_failed", "installing", "not_online"];
const PROTECT_STATUSES: &[&str] = &["closed", "opened", "protection_exception"];
const VERSIONS: &[&str] = &[
    "hss.version.null",
    "hss.version.basic",
    "hss.version.advanced",
    "hss.version.enterprise",
    "hss.version.premium",
    "hss.version.wtp",
    "hss.version.container.enterprise",
];
const ASSET_VALUES: &[&str] = &["important", "common", "test"];

/// A validated ListHostStatus query: a predicate over servers.
struct HostFilter {
    project: String,
    host_name: Option<String>,
    host_id: Option<String>,
    host_ids: Option<Vec<String>>,
    private_ip: Option<String>,
    public_ip: Option<String>,
    ip_addr: Option<String>,
    exact: Vec<(&'static str, String)>,
    agent_status: Option<String>,
    label: Option<String>,
    has: Vec<(&'static str, bool)>,
}

fn host_filter(p: &Params<'_>) -> Result<HostFilter, ValidationError> {
    let project = p.enterprise_project()?;
    let host_name = p.string("host_name", 1, 256)?;
    let host_id = p.string("host_id", 1, 64)?;
    let host_ids = match p.first("host_id_list") {
        None => None,
        Some(list) => {
            let ids: Vec<String> = list.split(',').map(str::to_owned).collect();
            if ids.len() > 100 || ids.iter().any(|id| id.is_empty() || id.chars().count() > 36) {
                return Err(invalid("host_id_list", "must list 1 to 100 IDs of 1 to 36 characters".into()));
            }
            Some(ids)
        }
    };
    let private_ip = p.string("private_ip", 1, 128)?;
    let public_ip = p.string("public_ip", 1, 128)?;
    if let Some(ip) = &public_ip
        && ip.parse::<IpAddr>().is_err()
    {
        return Err(invalid("public_ip", format!("must be an IPv4 or IPv6 address, got {ip:?}")));
    }
    let ip_addr = p.string("ip_addr", 1, 128)?;
    let mut exact = Vec::new();
    for (name, value) in [
        ("os_type", p.one_of("os_type", OS_TYPES)?),
        ("host_status", p.one_of("host_status", HOST_STATUSES)?),
        ("protect_status", p.one_of("protect_status", PROTECT_STATUSES)?),
        ("version", p.one_of("version", VERSIONS)?),
        ("group_id", p.string("group_id", 1, 128)?),
        ("group_name", p.string("group_name", 1, 64)?),
        ("policy_group_id", p.string("policy_group_id", 0, 128)?.filter(|v| !v.is_empty())),
        ("policy_group_name", p.string("policy_group_name", 1, 256)?),
        ("vpc_id", p.string("vpc_id", 1, 128)?),
        ("asset_value", p.one_of("asset_value", ASSET_VALUES)?),
    ] {
        if let Some(v) = value {
            exact.push((name, v));
        }
    }
    let agent_status = p.one_of("agent_status", AGENT_STATUSES)?;
    let label = p.string("label", 1, 64)?;
    let mut has = Vec::new();
    for name in ["has_intrusion", "has_vul", "has_baseline"] {
        if let Some(b) = p.boolean(name)? {
            has.push((name, b));
        }
    }
    p.paging()?;
    Ok(HostFilter {
        project,
        host_name,
        host_id,
        host_ids,
        private_ip,
        public_ip,
        ip_addr,
        exact,
        agent_status,
        label,
        has,
    })
}

fn field<'a>(info: &'a HostInfo, name: &str) -> &'a Option<String> {
    match name {
        "os_type" => &info.os_type,
        "host_status" => &info.host_status,
        "protect_status" => &info.protect_status,
        "version" => &info.version,
        "group_id" => &info.group_id,
        "group_name" => &info.group_name,
        "policy_group_id" => &info.policy_group_id,
        "policy_group_name" => &info.policy_group_name,
        "vpc_id" => &info.vpc_id,
        "asset_value" => &info.asset_value,
        _ => &info.agent_status,
    }
}

impl HostFilter {
    fn matches(&self, info: &HostInfo) -> bool {
        let agent = match self.agent_status.as_deref() {
            None => true,
            Some("not_online") => info.agent_status.as_deref() != Some("online"),
            Some(s) => info.agent_status.as_deref() == Some(s),
        };
        let ip_addr = self.ip_addr.as_ref().is_none_or(|w| {
            [&info.private_ip, &info.public_ip].iter().any(|f| f.as_deref().is_some_and(|f| f.contains(w.as_str())))
        });
        let has = self.has.iter().all(|(name, want)| {
            let n = match *name {
                "has_intrusion" => info.intrusion,
                "has_vul" => info.vulnerability,
                _ => info.baseline,
            };
            (n.unwrap_or(0) > 0) == *want
        });
        in_project(info, &self.project)
            && contains(&info.host_name, &self.host_name)
            && equals(&info.host_id, &self.host_id)
            && self.host_ids.as_ref().is_none_or(|ids| info.host_id.as_ref().is_some_and(|h| ids.contains(h)))
            && contains(&info.private_ip, &self.private_ip)
            && contains(&info.public_ip, &self.public_ip)
            && ip_addr
            && self.exact.iter().all(|(name, v)| field(info, name).as_deref() == Some(v.as_str()))
            && agent
            && self.label.as_ref().is_none_or(|l| info.labels.as_ref().is_some_and(|ls| ls.contains(l)))
            && has
    }
}

/// A validated ListPortHost query.
struct PortHostFilter {
    port: u32,
    port_type: Option<String>,
    container: bool,
    host_name: Option<String>,
    host_ip: Option<String>,
    project: String,
}

fn port_host_filter(p: &Params<'_>) -> Result<PortHostFilter, ValidationError> {
    let port = match p.int("port", 1, 65_535)? {
        Some(n) => n as u32,
        None => return Err(invalid("port", "is required".into())),
    };
    let port_type = p.one_of("type", &["TCP", "UDP"])?;
    let container = p.one_of("category", &["host", "container"])?.is_some_and(|c| c == "container");
    let host_name = p.string("host_name", 1, 256)?;
    let host_ip = p.string("host_ip", 1, 256)?;
    let project = p.enterprise_project()?;
    p.paging()?;
    Ok(PortHostFilter { port, port_type, container, host_name, host_ip, project })
}

/// A validated ListPortStatistics query.
struct StatisticsFilter {
    project: String,
    container: bool,
    port: Option<u32>,
    port_string: Option<String>,
    port_type: Option<String>,
    status: Option<String>,
    sorted: bool,
    descending: bool,
}

fn statistics_filter(p: &Params<'_>) -> Result<StatisticsFilter, ValidationError> {
    let project = p.enterprise_project()?;
    let container = p.one_of("category", &["host", "container"])?.is_some_and(|c| c == "container");
    let port = p.int("port", 1, 65_535)?.map(|n| n as u32);
    let port_string = p.string("port_string", 1, 5)?;
    let port_type = p.one_of("type", &["TCP", "TCP6", "UDP", "UDP6"])?;
    let status = p.one_of("status", &["danger", "normal", "unknown"])?;
    let sorted = p.one_of("sort_key", &["port"])?.is_some();
    let descending = p.one_of("sort_dir", &["asc", "desc"])?.is_some_and(|d| d == "desc");
    p.paging()?;
    Ok(StatisticsFilter { project, container, port, port_string, port_type, status, sorted, descending })
}

fn is_v6(laddr: &str) -> bool {
    laddr.trim().parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6())
}

fn container_name(container_id: &str) -> String {
    if container_id.is_empty() {
        String::new()
    } else {
        format!("ctr-{}", container_id.chars().take(8).collect::<String>())
    }
}

impl Fleet {
    /// The servers in served order, with their records.
    fn servers<'a>(&'a self, store: &'a Store) -> impl Iterator<Item = (&'a HostInfo, Option<&'a HostData>)> + 'a {
        self.order.iter().filter_map(move |id| self.hosts.get(id).map(|info| (info, store.hosts.get(id))))
    }

    fn hosts_list<'a>(&'a self, store: &'a Store, f: &HostFilter) -> Vec<&'a HostInfo> {
        self.servers(store).filter(|(info, _)| f.matches(info)).map(|(info, _)| info).collect()
    }

    fn port_hosts(&self, store: &Store, f: &PortHostFilter) -> Vec<PortHostInfo> {
        let mut out = Vec::new();
        for (info, host) in self.servers(store) {
            let Some(host) = host else { continue };
            if !in_project(info, &f.project) || !contains(&info.host_name, &f.host_name) {
                continue;
            }
            let ip_matches = f.host_ip.as_ref().is_none_or(|w| {
                [&info.private_ip, &info.public_ip]
                    .iter()
                    .any(|ip| ip.as_deref().is_some_and(|ip| ip.contains(w.as_str())))
            });
            if !ip_matches {
                continue;
            }
            for r in &host.records {
                if r.port != f.port
                    || f.port_type.as_ref().is_some_and(|t| &r.port_type != t)
                    || r.container_id.is_empty() == f.container
                {
                    continue;
                }
                out.push(PortHostInfo {
                    host_id: r.host_id.clone(),
                    host_name: info.host_name.clone().unwrap_or_default(),
                    host_ip: info.private_ip.clone().unwrap_or_default(),
                    laddr: r.laddr.clone(),
                    port: r.port,
                    port_type: r.port_type.clone(),
                    pid: r.pid,
                    path: r.path.clone(),
                    status: r.status.clone(),
                    container_id: r.container_id.clone(),
                    container_name: container_name(&r.container_id),
                    agent_id: r.agent_id.clone(),
                });
            }
        }
        out
    }

    /// Every (port, type) row with its number of servers, sorted by port and type, before the
    /// query's own filters. Computed on each request (a few milliseconds for 50,000 records):
    /// the store may drift.
    fn statistics(&self, store: &Store, project: &str, container: bool) -> Vec<PortStatisticInfo> {
        // (port, type, IPv6) -> (servers, index of the last server counted, worst status).
        let mut pairs: HashMap<(u32, &str, bool), (u32, usize, u8)> = HashMap::new();
        for (i, (info, host)) in self.servers(store).enumerate() {
            let Some(host) = host else { continue };
            if !in_project(info, project) {
                continue;
            }
            for r in host.records.iter().filter(|r| r.container_id.is_empty() != container) {
                let entry = pairs.entry((r.port, r.port_type.as_str(), is_v6(&r.laddr))).or_insert((0, usize::MAX, 0));
                if entry.1 != i {
                    entry.0 += 1;
                    entry.1 = i;
                }
                let rank = match r.status.as_str() {
                    "danger" => 2,
                    "unknow" | "unknown" => 1,
                    _ => 0,
                };
                entry.2 = entry.2.max(rank);
            }
        }
        let mut rows: Vec<PortStatisticInfo> = pairs
            .into_iter()
            .map(|((port, ty, v6), (num, _, rank))| PortStatisticInfo {
                port,
                port_type: if v6 { format!("{ty}6") } else { ty.to_owned() },
                num,
                status: ["normal", "unknown", "danger"][usize::from(rank)].to_owned(),
            })
            .collect();
        rows.sort_by(|a, b| (a.port, &a.port_type).cmp(&(b.port, &b.port_type)));
        rows
    }

    fn statistics_list(&self, store: &Store, f: &StatisticsFilter, skew: bool) -> Vec<PortStatisticInfo> {
        let mut rows: Vec<PortStatisticInfo> = self
            .statistics(store, &f.project, f.container)
            .into_iter()
            .filter(|r| f.port.is_none_or(|p| r.port == p))
            .filter(|r| f.port_string.as_ref().is_none_or(|s| r.port.to_string().contains(s.as_str())))
            .filter(|r| f.port_type.as_ref().is_none_or(|t| &r.port_type == t))
            .filter(|r| f.status.as_ref().is_none_or(|s| &r.status == s))
            .collect();
        if f.sorted {
            // Already in (port, type) order.
            if f.descending {
                rows.reverse();
            }
        } else {
            // The API's own order: busiest first.
            rows.sort_by(|a, b| b.num.cmp(&a.num).then(a.port.cmp(&b.port)).then(a.port_type.cmp(&b.port_type)));
        }
        if skew {
            for r in &mut rows {
                r.num += 1;
            }
        }
        rows
    }

    /// Whether this statistics answer is skewed, under `skew`.
    fn skew_statistics(&self, skew: Skew) -> bool {
        match skew {
            Skew::None => false,
            Skew::Always => true,
            Skew::Once => {
                let on = !self.skew_spent.load(Ordering::Relaxed);
                if on {
                    self.skewed.store(true, Ordering::Relaxed);
                }
                on
            }
        }
    }

    /// A ListPortHost request after skewed statistics ends `Skew::Once`.
    fn saw_port_hosts(&self) {
        if self.skewed.load(Ordering::Relaxed) {
            self.skew_spent.store(true, Ordering::Relaxed);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Serving

/// Serves the three fleet APIs; `None` when `path` is none of them.
pub(crate) async fn api(
    shared: &Shared,
    drop_now: &Notify,
    req: &Request<Incoming>,
    path: &str,
    raw_query: &str,
) -> Option<Response<Full<Bytes>>> {
    let (project, which) = route(path)?;
    Some(serve(shared, drop_now, req, path, raw_query, project, which).await)
}

async fn serve(
    shared: &Shared,
    drop_now: &Notify,
    req: &Request<Incoming>,
    path: &str,
    raw_query: &str,
    project: &str,
    which: Api,
) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        return not_found();
    }
    // Authentication and project, as for the port list.
    if let Some(resp) = denial(shared, req, path, raw_query, project) {
        return resp;
    }
    // Validation.
    let pairs = parse_pairs(raw_query);
    let params = Params(&pairs);
    let bad = |e: ValidationError| error(StatusCode::BAD_REQUEST, INVALID_PARAM_CODE, &e.msg);
    let (limit, offset) = match params.paging() {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    enum Query {
        Hosts(HostFilter),
        PortHosts(PortHostFilter),
        Statistics(StatisticsFilter),
    }
    let query = match which {
        Api::Hosts => host_filter(&params).map(Query::Hosts),
        Api::PortHosts => port_host_filter(&params).map(Query::PortHosts),
        Api::Statistics => statistics_filter(&params).map(Query::Statistics),
    };
    let query = match query {
        Ok(q) => q,
        Err(e) => return bad(e),
    };
    // Faults, from the same sequence as the port list's.
    let n = shared.fault_seq.fetch_add(1, Ordering::Relaxed);
    let faults = lock(&shared.faults).clone();
    let seed = shared.seed;
    let decision = decide(&faults, seed, n);
    if let Some(resp) = refusal(shared, drop_now, &decision, &faults, path, raw_query).await {
        return resp;
    }
    // Data.
    let fleet = &shared.fleet;
    let mut injected = 0u64;
    let (body, shifted) = {
        let store = lock(&shared.store);
        let page = decision.page;
        match &query {
            Query::Hosts(f) => page_body(&fleet.hosts_list(&store, f), offset, limit, page, seed, n),
            Query::PortHosts(f) => {
                fleet.saw_port_hosts();
                page_body(&fleet.port_hosts(&store, f), offset, limit, page, seed, n)
            }
            Query::Statistics(f) => {
                let skew = fleet.skew_statistics(faults.stats_skew);
                injected += u64::from(skew);
                page_body(&fleet.statistics_list(&store, f, skew), offset, limit, page, seed, n)
            }
        }
    };
    injected += u64::from(shifted);
    served(shared, &decision, body, injected)
}

// ---------------------------------------------------------------------------------------------
// The truth, for tests

impl SimHandle {
    /// Every server as ListHostStatus knows it (all enterprise projects), sorted by `host_id`.
    pub fn hosts(&self) -> Vec<HostInfo> {
        self.shared.fleet.hosts.values().cloned().collect()
    }

    /// Every record ListPortHost lists for `port` (any type, host processes and containers,
    /// every enterprise project), in served order.
    pub fn port_hosts(&self, port: u32) -> Vec<PortHostInfo> {
        let store = lock(&self.shared.store);
        let all = |container| PortHostFilter {
            port,
            port_type: None,
            container,
            host_name: None,
            host_ip: None,
            project: "all_granted_eps".into(),
        };
        let mut out = self.shared.fleet.port_hosts(&store, &all(false));
        out.extend(self.shared.fleet.port_hosts(&store, &all(true)));
        out
    }

    /// The statistics rows of the host processes of enterprise project `project` (`0` is the
    /// default, `all_granted_eps` every one), sorted by port and type.
    pub fn port_statistics(&self, project: &str) -> Vec<PortStatisticInfo> {
        let store = lock(&self.shared.store);
        self.shared.fleet.statistics(&store, project, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(hosts: usize) -> FleetSpec {
        FleetSpec { hosts, ports_per_host: 20, pairs: 80, rare_pairs: 3, rare_hosts: 4 }
    }

    fn fleet(seed: u64, spec: FleetSpec) -> (Fleet, Store) {
        let cfg = SimConfig { seed, fleet: spec, ..Default::default() };
        let mut store = Store::build(&cfg).expect("store");
        let fleet = build(&cfg, &mut store).expect("fleet");
        (fleet, store)
    }

    fn q(raw: &str) -> Vec<(String, String)> {
        parse_pairs(raw)
    }

    #[test]
    fn generation_is_deterministic_and_consistent() {
        let (a, sa) = fleet(3, spec(200));
        let (b, _) = fleet(3, spec(200));
        let (c, _) = fleet(4, spec(200));
        assert_eq!(a.hosts, b.hosts);
        assert_ne!(a.hosts, c.hosts);
        assert_eq!(a.hosts.len(), 201, "the reference host is a server too");
        for (id, info) in &a.hosts {
            let host = &sa.hosts[id];
            assert_eq!(info.host_name.as_deref(), Some(host.meta.name.as_str()));
            assert_eq!(info.private_ip.as_deref(), Some(host.meta.ip.as_str()));
            assert!(host.records.iter().all(|r| &r.host_id == id));
            if info.agent_status.as_deref() == Some("not_installed") {
                assert!(host.records.is_empty());
            }
        }
        // Rare listeners: each on exactly 4 servers.
        let rows = a.statistics(&sa, "0", false);
        let rare: Vec<_> = rows.iter().filter(|r| (40_000..50_000).contains(&r.port)).collect();
        assert_eq!(rare.len(), 3, "{rare:?}");
        assert!(rare.iter().all(|r| r.num == 4 && r.port_type == "TCP" && r.status == "danger"));
        // Both families of sshd are counted apart.
        assert!(rows.iter().any(|r| r.port == 22 && r.port_type == "TCP6"));
        assert!(rows.iter().any(|r| r.port == 22 && r.port_type == "TCP"));
        assert!(a.statistics(&sa, "0", true).iter().any(|r| r.port == 8080), "containers are counted apart");
    }

    #[test]
    fn statistics_agree_with_port_hosts_and_the_port_lists() {
        let (f, s) = fleet(5, spec(120));
        for row in f.statistics(&s, "0", false) {
            let ty = row.port_type.trim_end_matches('6');
            let filter = port_host_filter(&Params(&q(&format!("port={}&type={ty}", row.port)))).unwrap();
            let listed = f.port_hosts(&s, &filter);
            let hosts: BTreeSet<&str> = listed
                .iter()
                .filter(|r| is_v6(&r.laddr) == row.port_type.ends_with('6'))
                .map(|r| r.host_id.as_str())
                .collect();
            assert_eq!(hosts.len(), row.num as usize, "{row:?}");
            // The same records as the servers' own port lists.
            let per_host: usize = s
                .hosts
                .values()
                .flat_map(|h| &h.records)
                .filter(|r| r.port == row.port && r.port_type == ty && r.container_id.is_empty())
                .count();
            assert_eq!(listed.len(), per_host);
        }
    }

    #[test]
    fn host_filters() {
        let (f, s) = fleet(6, spec(100));
        let list = |raw: &str| f.hosts_list(&s, &host_filter(&Params(&q(raw))).unwrap()).len();
        assert_eq!(list(""), 101);
        assert_eq!(list("enterprise_project_id=all_granted_eps"), 101);
        assert_eq!(list("enterprise_project_id=other"), 0);
        let windows = list("os_type=Windows");
        assert!(windows > 0 && windows < 101);
        assert_eq!(list("os_type=Linux") + windows, 101);
        let online = list("agent_status=online");
        assert_eq!(online + list("agent_status=not_online"), 101);
        assert_eq!(list("host_name=web-000"), 2, "web-0000 and web-0005 (fuzzy)");
        assert_eq!(list("host_name=web-0005"), 1);
        assert_eq!(list("private_ip=10.0.0.1&ip_addr=10.0.0.1"), 1 + 10 + 1, "substring: .1, .1x, .100");
        let some = f.hosts.values().find(|h| h.host_name.as_deref() == Some("db-0002")).unwrap();
        assert_eq!(list(&format!("host_id={}", some.host_id.as_deref().unwrap())), 1);
        assert!(list("label=prod") > 0);
        for bad in ["os_type=linux", "agent_status=dead", "public_ip=nope", "limit=5", "host_id=", "version=x"] {
            assert!(host_filter(&Params(&q(bad))).is_err(), "{bad}");
        }
        assert!(port_host_filter(&Params(&q("type=TCP"))).is_err(), "port is required");
        assert!(statistics_filter(&Params(&q("type=SCTP"))).is_err());
        assert!(statistics_filter(&Params(&q("sort_key=num"))).is_err());
    }

    #[test]
    fn statistics_sort_and_skew() {
        let (f, s) = fleet(7, spec(50));
        let rows = |raw: &str, skew| f.statistics_list(&s, &statistics_filter(&Params(&q(raw))).unwrap(), skew);
        let ports: Vec<u32> = rows("sort_key=port", false).iter().map(|r| r.port).collect();
        assert!(ports.windows(2).all(|w| w[0] <= w[1]));
        let desc: Vec<u32> = rows("sort_key=port&sort_dir=desc", false).iter().map(|r| r.port).collect();
        assert!(desc.windows(2).all(|w| w[0] >= w[1]));
        let skewed = rows("sort_key=port", true);
        let plain = rows("sort_key=port", false);
        assert!(skewed.iter().zip(&plain).all(|(a, b)| a.num == b.num + 1));
        assert_eq!(rows("port=22&type=TCP6", false).len(), 1);
        assert!(f.skew_statistics(Skew::Once));
        assert!(f.skew_statistics(Skew::Once), "until ListPortHost is asked");
        f.saw_port_hosts();
        assert!(!f.skew_statistics(Skew::Once));
        assert!(f.skew_statistics(Skew::Always));
    }

    #[test]
    fn host_fixture_overrides_and_adds_servers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts.json");
        std::fs::write(
            &path,
            r#"{"dd91cd32-a238-4c0e-bc01-3b11653714ac": {"host_name": "ref host", "labels": ["prod"], "public_ip": null},
                "bare-1": {"enterprise_project_id": "ep-9", "os_type": "Windows"}}"#,
        )
        .unwrap();
        let cfg = SimConfig { host_fixture: Some(path.clone()), ..Default::default() };
        let mut store = Store::build(&cfg).unwrap();
        let f = build(&cfg, &mut store).unwrap();
        let reference = &f.hosts["dd91cd32-a238-4c0e-bc01-3b11653714ac"];
        assert_eq!(reference.host_name.as_deref(), Some("ref host"));
        assert_eq!(store.hosts["dd91cd32-a238-4c0e-bc01-3b11653714ac"].meta.name, "ref host");
        assert_eq!(f.hosts["bare-1"].enterprise_project_id.as_deref(), Some("ep-9"));
        assert!(store.hosts["bare-1"].records.is_empty());
        std::fs::write(&path, r#"{"h": {"colour": "red"}}"#).unwrap();
        let mut store = Store::build(&cfg).unwrap();
        assert!(matches!(build(&cfg, &mut store), Err(FleetError::Field { .. })));
    }

    #[test]
    fn routes() {
        assert_eq!(route("/v5/p/host-management/hosts"), Some(("p", Api::Hosts)));
        assert_eq!(route("/v5/p/asset/ports/detail"), Some(("p", Api::PortHosts)));
        assert_eq!(route("/v5/p/asset/port/statistics"), Some(("p", Api::Statistics)));
        assert_eq!(route("/v5/p/asset/ports"), None);
        assert_eq!(route("/v5//host-management/hosts"), None);
    }
}
