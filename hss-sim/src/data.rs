//! The simulated data: port records, host metadata, fixture loading, deterministic
//! generation, the seeded served order, filtering, paging and drift.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::SimConfig;
use super::faults::{Rng, fnv1a, mix, splitmix64};
use super::validate::{Category, Query, StatusFilter};

/// Why the data could not be built (converted to [`io::Error`] by `Simulator::start`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DataError {
    #[error("reading fixture {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("parsing fixture {}: {source}", path.display())]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("host IDs must have 1 to 128 characters, got {0:?}")]
    HostId(String),
    #[error("record {index} of host {host:?} has host_id {found:?}")]
    HostMismatch { host: String, index: usize, found: String },
    #[error("record {index} of host {host:?} has port {port}, outside 0 to 65535")]
    Port { host: String, index: usize, port: u32 },
    #[error(
        "cannot generate {n} ports for {host:?}: the --generate entries for one host add up, and \
         may ask for at most {MAX_GENERATED_PER_HOST} ports in all"
    )]
    TooMany { host: String, n: usize },
    #[error(
        "cannot generate {n} more ports for {host:?}: the generator makes distinct (laddr, port, \
         type) records, and only {free} of the {GENERATOR_CAPACITY} it can make are still free"
    )]
    NoRoom { host: String, n: usize, free: usize },
    #[error(
        "the reference host {REFERENCE_HOST_ID} always has exactly the two records of the API \
         reference's example; it cannot be given other records or generated ports"
    )]
    ReferenceHost,
}

impl From<DataError> for io::Error {
    fn from(e: DataError) -> io::Error {
        let kind = match &e {
            DataError::Read { source, .. } => source.kind(),
            DataError::TooMany { .. } | DataError::NoRoom { .. } | DataError::ReferenceHost => {
                io::ErrorKind::InvalidInput
            }
            DataError::HostId(_)
            | DataError::Parse { .. }
            | DataError::HostMismatch { .. }
            | DataError::Port { .. } => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

/// One open port, exactly as the API's `PortResponseInfo` JSON object.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortRecord {
    /// Agent ID (64 hex characters in real data).
    pub agent_id: String,
    /// Container ID, `""` for host processes.
    pub container_id: String,
    /// Server ID.
    pub host_id: String,
    /// Listening IP address.
    pub laddr: String,
    /// Path of the executable of the listening process.
    pub path: String,
    /// Process ID.
    pub pid: u32,
    /// Port number.
    pub port: u32,
    /// `normal`, `danger` or `unknow` (sic: that is how the API spells it in responses).
    pub status: String,
    /// `TCP` or `UDP`.
    #[serde(rename = "type")]
    pub port_type: String,
}

/// The host of the reference's example; always present.
pub const REFERENCE_HOST_ID: &str = "dd91cd32-a238-4c0e-bc01-3b11653714ac";
const REFERENCE_AGENT_ID: &str = "eb5d03f02fffd85aaf5d0ba5c992d97713244f420e0b076dcf6ae0574c78aa4b";

/// The two records of the reference's example response, in the example's order.
pub fn reference_records() -> Vec<PortRecord> {
    let rec = |laddr: &str, path: &str, pid: u32, port: u32| PortRecord {
        agent_id: REFERENCE_AGENT_ID.to_string(),
        container_id: String::new(),
        host_id: REFERENCE_HOST_ID.to_string(),
        laddr: laddr.to_string(),
        path: path.to_string(),
        pid,
        port,
        status: "unknow".to_string(),
        port_type: "UDP".to_string(),
    };
    vec![rec("0.0.0.0", "/usr/sbin/dhclient", 1507, 68), rec("127.0.0.1", "/usr/sbin/chronyd", 493, 323)]
}

/// Deterministic host metadata used by the `host_name` / `host_ip` filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostMeta {
    /// `"host-"` followed by the first 8 characters of the host ID.
    pub name: String,
    /// `192.168.X.Y`, derived from a hash of the host ID (independent of the seed).
    pub ip: String,
}

impl HostMeta {
    /// The metadata of `host_id`.
    pub fn for_host(host_id: &str) -> HostMeta {
        let h = splitmix64(fnv1a(host_id));
        let prefix: String = host_id.chars().take(8).collect();
        HostMeta { name: format!("host-{prefix}"), ip: format!("192.168.{}.{}", h % 256, 1 + (h >> 8) % 254) }
    }
}

/// A 64-hex-character agent ID derived from the seed and the host ID.
fn agent_id_for(seed: u64, host_id: &str) -> String {
    let h = fnv1a(host_id);
    (0..4).map(|i| format!("{:016x}", mix(seed, h, 100 + i))).collect()
}

pub(crate) struct HostData {
    pub meta: HostMeta,
    pub agent_id: String,
    pub records: Vec<PortRecord>,
    pub drifted_once: bool,
    pub always_extra: Option<PortRecord>,
}

/// All hosts, keyed by host ID, each with its records in served order.
pub(crate) struct Store {
    pub hosts: BTreeMap<String, HostData>,
}

/// A fixture record: everything but `port` may be omitted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureRecord {
    port: u32,
    #[serde(default)]
    host_id: Option<String>,
    #[serde(default)]
    laddr: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, rename = "type")]
    port_type: Option<String>,
    #[serde(default)]
    pid: Option<u32>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    container_id: Option<String>,
}

type Key = (String, u32, String, String); // (laddr, port, type, container_id)

fn key(r: &PortRecord) -> Key {
    (r.laddr.clone(), r.port, r.port_type.clone(), r.container_id.clone())
}

impl HostData {
    fn new(seed: u64, host_id: &str) -> HostData {
        HostData {
            meta: HostMeta::for_host(host_id),
            agent_id: agent_id_for(seed, host_id),
            records: Vec::new(),
            drifted_once: false,
            always_extra: None,
        }
    }

    /// Adds a record as given: identical records are kept, as HSS may list them (two sockets of
    /// one process on the same address and port, for example). The reference host only ever
    /// keeps the example's records once.
    fn push(&mut self, host_id: &str, r: PortRecord) {
        if host_id == REFERENCE_HOST_ID && self.records.contains(&r) {
            return;
        }
        self.records.push(r);
    }
}

pub(crate) fn check_host_id(host_id: &str) -> Result<(), DataError> {
    if host_id.is_empty() || host_id.chars().count() > 128 {
        return Err(DataError::HostId(host_id.to_string()));
    }
    Ok(())
}

/// Reads and parses a JSON fixture file.
pub(crate) fn read_fixture<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, DataError> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|source| DataError::Parse { path: path.to_path_buf(), source })
}

fn load_fixture(path: &Path, seed: u64, store: &mut BTreeMap<String, HostData>) -> Result<(), DataError> {
    let parsed: BTreeMap<String, Vec<FixtureRecord>> = read_fixture(path)?;
    for (host_id, recs) in parsed {
        check_host_id(&host_id)?;
        let host = store.entry(host_id.clone()).or_insert_with(|| HostData::new(seed, &host_id));
        for (index, fr) in recs.into_iter().enumerate() {
            if let Some(found) = fr.host_id
                && found != host_id
            {
                return Err(DataError::HostMismatch { host: host_id, index, found });
            }
            if fr.port > 65_535 {
                return Err(DataError::Port { host: host_id, index, port: fr.port });
            }
            let path_s = fr.path.unwrap_or_else(|| "/usr/bin/unknown".to_string());
            let pid = fr.pid.unwrap_or_else(|| pid_for(seed, &host_id, &path_s));
            host.push(
                &host_id,
                PortRecord {
                    agent_id: fr.agent_id.unwrap_or_else(|| host.agent_id.clone()),
                    container_id: fr.container_id.unwrap_or_default(),
                    host_id: host_id.clone(),
                    laddr: fr.laddr.unwrap_or_else(|| "0.0.0.0".to_string()),
                    path: path_s,
                    pid,
                    port: fr.port,
                    status: fr.status.unwrap_or_else(|| "normal".to_string()),
                    port_type: fr.port_type.unwrap_or_else(|| "TCP".to_string()),
                },
            );
        }
    }
    Ok(())
}

fn pid_for(seed: u64, host_id: &str, path: &str) -> u32 {
    300 + (mix(seed, fnv1a(host_id), fnv1a(path)) % 65_000) as u32
}

/// Well-known services a generated host may run: (path, type, port, laddr).
const CATALOG: &[(&str, &str, u32, &str)] = &[
    ("/usr/sbin/sshd", "TCP", 22, "0.0.0.0"),
    ("/usr/sbin/sshd", "TCP", 22, "::"),
    ("/usr/sbin/dhclient", "UDP", 68, "0.0.0.0"),
    ("/usr/sbin/chronyd", "UDP", 323, "127.0.0.1"),
    ("/usr/sbin/chronyd", "UDP", 323, "::"),
    ("/usr/sbin/chronyd", "UDP", 123, "0.0.0.0"),
    ("/usr/sbin/rpcbind", "TCP", 111, "0.0.0.0"),
    ("/usr/sbin/rpcbind", "UDP", 111, "0.0.0.0"),
    ("/usr/sbin/nginx", "TCP", 80, "0.0.0.0"),
    ("/usr/sbin/nginx", "TCP", 443, "0.0.0.0"),
    ("/usr/sbin/nginx", "TCP", 80, "::"),
    ("/usr/sbin/mysqld", "TCP", 3306, "0.0.0.0"),
    ("/usr/lib/postgresql/bin/postgres", "TCP", 5432, "127.0.0.1"),
    ("/usr/bin/redis-server", "TCP", 6379, "127.0.0.1"),
    ("/usr/sbin/named", "UDP", 53, "127.0.0.1"),
    ("/usr/sbin/named", "TCP", 53, "127.0.0.1"),
    ("/usr/libexec/postfix/master", "TCP", 25, "127.0.0.1"),
    ("/usr/sbin/xinetd", "TCP", 23, "0.0.0.0"),
    ("/usr/bin/dockerd", "TCP", 2375, "0.0.0.0"),
    ("/usr/sbin/smbd", "TCP", 445, "0.0.0.0"),
];

/// Executables for generated high ports.
const BINARIES: &[&str] = &[
    "/usr/bin/java",
    "/usr/bin/python3",
    "/usr/bin/node",
    "/usr/local/bin/envoy",
    "/usr/sbin/haproxy",
    "/usr/bin/containerd",
    "/opt/app/bin/server",
    "/usr/local/bin/consul",
    "/usr/bin/memcached",
    "/usr/sbin/squid",
];

const LADDRS: &[&str] = &["0.0.0.0", "127.0.0.1", "::"];

/// Upper bound on generated ports per host, all `--generate` entries for it together (the real
/// API reports at most 10,000).
pub const MAX_GENERATED_PER_HOST: usize = 100_000;

/// The first port of the generator's random records (ports below come from [`CATALOG`] only).
const RANDOM_PORTS_FROM: u32 = 1024;

/// How many distinct records the generator can make for one host: every (laddr, port, type)
/// of its random space, plus the catalog entries outside that space.
const GENERATOR_CAPACITY: usize = LADDRS.len() * (65_536 - RANDOM_PORTS_FROM as usize) * 2 + CATALOG_LOW_PORTS;

/// Catalog entries with a port below [`RANDOM_PORTS_FROM`] (checked by a test).
const CATALOG_LOW_PORTS: usize = 16;

/// Whether the generator can make a record with this key.
fn in_generator_space(k: &Key) -> bool {
    let (laddr, port, ty, container) = k;
    if !container.is_empty() {
        return false;
    }
    let random = LADDRS.contains(&laddr.as_str())
        && (RANDOM_PORTS_FROM..=65_535).contains(port)
        && matches!(ty.as_str(), "TCP" | "UDP");
    random || CATALOG.iter().any(|(_, t, p, l)| l == laddr && p == port && t == ty)
}

fn generate(seed: u64, host_id: &str, n: usize, host: &mut HostData) -> Result<(), DataError> {
    let mut taken: HashSet<Key> = host.records.iter().map(key).collect();
    // Refused up front: asking for more than the generator can still make would never end.
    let used = taken.iter().filter(|k| in_generator_space(k)).count();
    let free = GENERATOR_CAPACITY.saturating_sub(used);
    if n > free {
        return Err(DataError::NoRoom { host: host_id.to_string(), n, free });
    }
    let mut rng = Rng::new(seed ^ fnv1a(host_id).rotate_left(17) ^ (host.records.len() as u64));
    let mut catalog = CATALOG.to_vec();
    rng.shuffle(&mut catalog);
    let mut catalog = catalog.into_iter();
    let mut made = 0;
    while made < n {
        let (path, ty, port, laddr) = match catalog.next() {
            Some(entry) => entry,
            None => {
                let path = BINARIES[rng.below(BINARIES.len() as u64) as usize];
                let ty = if rng.below(4) == 0 { "UDP" } else { "TCP" };
                let port = RANDOM_PORTS_FROM + rng.below(u64::from(65_536 - RANDOM_PORTS_FROM)) as u32;
                let laddr = LADDRS[rng.below(LADDRS.len() as u64) as usize];
                (path, ty, port, laddr)
            }
        };
        let rec = PortRecord {
            agent_id: host.agent_id.clone(),
            container_id: String::new(),
            host_id: host_id.to_string(),
            laddr: laddr.to_string(),
            path: path.to_string(),
            pid: pid_for(seed, host_id, path),
            port,
            status: match rng.below(100) {
                0..80 => "normal",
                80..92 => "unknow",
                _ => "danger",
            }
            .to_string(),
            port_type: ty.to_string(),
        };
        if taken.insert(key(&rec)) {
            host.records.push(rec);
            made += 1;
        }
    }
    Ok(())
}

impl Store {
    /// Builds the data: reference host, fixture, in-code hosts (records as given, identical ones
    /// kept), generated ports; then shuffles each host with the seed. The reference host
    /// keeps exactly the example's two records in the example's order; a fixture or
    /// [`SimConfig::hosts`] may repeat those records but not add others, and ports cannot be
    /// generated for it.
    pub(crate) fn build(cfg: &SimConfig) -> Result<Store, DataError> {
        let seed = cfg.seed;
        let mut hosts: BTreeMap<String, HostData> = BTreeMap::new();
        let mut reference = HostData::new(seed, REFERENCE_HOST_ID);
        reference.records = reference_records();
        hosts.insert(REFERENCE_HOST_ID.to_string(), reference);
        if let Some(path) = &cfg.fixture {
            load_fixture(path, seed, &mut hosts)?;
        }
        for (host_id, recs) in &cfg.hosts {
            check_host_id(host_id)?;
            let host = hosts.entry(host_id.clone()).or_insert_with(|| HostData::new(seed, host_id));
            for r in recs {
                host.push(host_id, r.clone());
            }
        }
        let mut asked: BTreeMap<&str, usize> = BTreeMap::new();
        for (host_id, n) in &cfg.generate {
            check_host_id(host_id)?;
            let total = asked.entry(host_id).or_default();
            *total = total.saturating_add(*n);
            if *total > MAX_GENERATED_PER_HOST {
                return Err(DataError::TooMany { host: host_id.to_string(), n: *total });
            }
            let host = hosts.entry(host_id.clone()).or_insert_with(|| HostData::new(seed, host_id));
            generate(seed, host_id, *n, host)?;
        }
        for (host_id, host) in hosts.iter_mut() {
            if host_id == REFERENCE_HOST_ID {
                if host.records != reference_records() {
                    return Err(DataError::ReferenceHost);
                }
                continue;
            }
            Rng::new(seed ^ splitmix64(fnv1a(host_id))).shuffle(&mut host.records);
        }
        Ok(Store { hosts })
    }

    /// The current records of a host, in served order (empty for unknown hosts).
    pub(crate) fn ports(&self, host_id: &str) -> Vec<PortRecord> {
        self.hosts.get(host_id).map(|h| h.records.clone()).unwrap_or_default()
    }

    /// The records matching the query's filters, in served order.
    pub(crate) fn select(&self, q: &Query) -> Vec<&PortRecord> {
        let Some(host) = self.hosts.get(&q.host_id) else {
            return Vec::new();
        };
        if let Some(name) = &q.host_name
            && !host.meta.name.contains(name.as_str())
        {
            return Vec::new();
        }
        if let Some(ip) = &q.host_ip
            && !host.meta.ip.contains(ip.as_str())
        {
            return Vec::new();
        }
        host.records.iter().filter(|r| matches(r, q)).collect()
    }

    /// `Drift::Once`: the host gains one port at a seeded position, once.
    /// Returns whether the data changed.
    pub(crate) fn drift_once(&mut self, seed: u64, host_id: &str) -> bool {
        let Some(host) = self.hosts.get_mut(host_id) else {
            return false;
        };
        if host.drifted_once {
            return false;
        }
        host.drifted_once = true;
        let Some(rec) = drift_record(seed, host_id, host, 0) else {
            return false;
        };
        let pos = (mix(seed, fnv1a(host_id), super::faults::SALT_DRIFT) % (host.records.len() as u64 + 1)) as usize;
        host.records.insert(pos, rec);
        true
    }

    /// `Drift::Always`: toggles one extra port of the host. Returns whether the data changed.
    pub(crate) fn drift_always(&mut self, seed: u64, host_id: &str, n: u64) -> bool {
        let Some(host) = self.hosts.get_mut(host_id) else {
            return false;
        };
        if let Some(extra) = host.always_extra.take() {
            if let Some(i) = host.records.iter().position(|r| r == &extra) {
                host.records.remove(i);
            }
        } else {
            let Some(rec) = drift_record(seed, host_id, host, n) else {
                return false;
            };
            let pos = (mix(seed, n, super::faults::SALT_DRIFT) % (host.records.len() as u64 + 1)) as usize;
            host.records.insert(pos, rec.clone());
            host.always_extra = Some(rec);
        }
        true
    }

    /// [`crate::Replace`]: removes the record at `remove_at` and inserts a new one at `insert_at`
    /// (both clamped), so that `total_num` stays the same. Returns whether the data changed.
    pub(crate) fn replace(&mut self, seed: u64, host_id: &str, n: u64, remove_at: usize, insert_at: usize) -> bool {
        let Some(host) = self.hosts.get_mut(host_id) else {
            return false;
        };
        if host.records.is_empty() {
            return false;
        }
        let Some(rec) = drift_record(seed, host_id, host, n) else {
            return false;
        };
        host.records.remove(remove_at.min(host.records.len() - 1));
        let at = insert_at.min(host.records.len());
        host.records.insert(at, rec);
        true
    }
}

/// Ports a drift record may take.
const DRIFT_PORTS: std::ops::Range<u32> = 20_000..60_000;

/// A new, unique TCP port on 0.0.0.0 (visible with the default `category=host`), from a seeded
/// start; `None` when every port of [`DRIFT_PORTS`] is taken.
fn drift_record(seed: u64, host_id: &str, host: &HostData, n: u64) -> Option<PortRecord> {
    let taken: HashSet<Key> = host.records.iter().map(key).collect();
    let span = DRIFT_PORTS.end - DRIFT_PORTS.start;
    let first = Rng::new(mix(seed, n, fnv1a(host_id))).below(u64::from(span)) as u32;
    (0..span).find_map(|i| {
        let port = DRIFT_PORTS.start + (first + i) % span;
        let path = "/usr/bin/python3";
        let rec = PortRecord {
            agent_id: host.agent_id.clone(),
            container_id: String::new(),
            host_id: host_id.to_string(),
            laddr: "0.0.0.0".to_string(),
            path: path.to_string(),
            pid: pid_for(seed, host_id, path),
            port,
            status: "normal".to_string(),
            port_type: "TCP".to_string(),
        };
        (!taken.contains(&key(&rec))).then_some(rec)
    })
}

fn matches(r: &PortRecord, q: &Query) -> bool {
    if let Some(p) = q.port
        && r.port != p
    {
        return false;
    }
    if let Some(t) = &q.port_type
        && &r.port_type != t
    {
        return false;
    }
    match q.status {
        Some(StatusFilter::Danger) if r.status != "danger" => return false,
        Some(StatusFilter::Unknown) if r.status != "unknow" && r.status != "unknown" => {
            return false;
        }
        _ => {}
    }
    match q.category {
        Category::Host => r.container_id.is_empty(),
        Category::Container => !r.container_id.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{parse_pairs, validate};

    fn cfg(generate: Vec<(&str, usize)>, seed: u64) -> SimConfig {
        SimConfig {
            generate: generate.into_iter().map(|(h, n)| (h.to_string(), n)).collect(),
            seed,
            ..Default::default()
        }
    }

    fn q(raw: &str) -> Query {
        validate(&parse_pairs(raw)).unwrap()
    }

    #[test]
    fn reference_host_always_present_in_example_order() {
        let s = Store::build(&cfg(vec![], 99)).unwrap();
        assert_eq!(s.ports(REFERENCE_HOST_ID), reference_records());
        let r = reference_records();
        assert_eq!(r[0].path, "/usr/sbin/dhclient");
        assert_eq!((r[0].port, r[0].pid), (68, 1507));
        assert_eq!((r[1].port, r[1].pid), (323, 493));
    }

    #[test]
    fn generation_is_deterministic_unique_varied_and_shuffled() {
        let a = Store::build(&cfg(vec![("h1", 500)], 7)).unwrap().ports("h1");
        let b = Store::build(&cfg(vec![("h1", 500)], 7)).unwrap().ports("h1");
        let c = Store::build(&cfg(vec![("h1", 500)], 8)).unwrap().ports("h1");
        assert_eq!(a.len(), 500);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let keys: HashSet<Key> = a.iter().map(key).collect();
        assert_eq!(keys.len(), 500);
        for st in ["normal", "danger", "unknow"] {
            assert!(a.iter().any(|r| r.status == st), "{st}");
        }
        for t in ["TCP", "UDP"] {
            assert!(a.iter().any(|r| r.port_type == t));
        }
        for l in LADDRS {
            assert!(a.iter().any(|r| r.laddr == *l));
        }
        assert!(a.iter().all(|r| r.agent_id.len() == 64
            && r.agent_id.chars().all(|c| c.is_ascii_hexdigit())
            && r.container_id.is_empty()
            && r.host_id == "h1"
            && r.path.starts_with('/')
            && r.pid >= 1));
        let mut sorted = a.clone();
        sorted.sort_by_key(|r| (r.port, r.port_type.clone(), r.laddr.clone()));
        assert_ne!(a, sorted);
    }

    #[test]
    fn too_many_generated_is_an_error() {
        assert!(Store::build(&cfg(vec![("h", MAX_GENERATED_PER_HOST + 1)], 1)).is_err());
        assert!(Store::build(&cfg(vec![("", 1)], 1)).is_err());
    }

    #[test]
    fn generate_entries_for_one_host_add_up_to_the_cap() {
        // Four entries of 100,000 would ask for more distinct records than the generator can
        // make (it used to spin forever); entries adding past the cap are refused at once.
        for entries in [vec![("h", 100_000); 4], vec![("h", 60_000), ("h", 60_000)]] {
            let e = Store::build(&cfg(entries, 1)).err().expect("refused");
            assert!(matches!(e, DataError::TooMany { n, .. } if n > MAX_GENERATED_PER_HOST), "{e}");
            assert!(e.to_string().contains("add up"), "{e}");
            assert_eq!(io::Error::from(e).kind(), io::ErrorKind::InvalidInput);
        }
        // Up to the cap, in several entries, is fine; other hosts have caps of their own.
        let s = Store::build(&cfg(vec![("h", 300), ("h", 200), ("g", 500)], 1)).unwrap();
        assert_eq!((s.ports("h").len(), s.ports("g").len()), (500, 500));
    }

    #[test]
    fn generator_capacity_counts_the_records_it_can_make() {
        let low = CATALOG.iter().filter(|(_, _, port, _)| *port < RANDOM_PORTS_FROM).count();
        assert_eq!(low, CATALOG_LOW_PORTS);
        assert!(CATALOG.iter().all(|(_, t, p, l)| in_generator_space(&(
            l.to_string(),
            *p,
            t.to_string(),
            String::new()
        ))));
        assert_eq!(GENERATOR_CAPACITY, 3 * 64_512 * 2 + 16);
        // A fixture that leaves no room is refused with the number still free, not spun on.
        let mut host = HostData::new(1, "h");
        for port in RANDOM_PORTS_FROM..=65_535 {
            for laddr in LADDRS {
                for ty in ["TCP", "UDP"] {
                    host.records.push(PortRecord {
                        agent_id: String::new(),
                        container_id: String::new(),
                        host_id: "h".into(),
                        laddr: laddr.to_string(),
                        path: "/x".into(),
                        pid: 1,
                        port,
                        status: "normal".into(),
                        port_type: ty.into(),
                    });
                }
            }
        }
        let e = generate(1, "h", 17, &mut host).unwrap_err();
        assert!(matches!(e, DataError::NoRoom { free: 16, .. }), "{e}");
        generate(1, "h", 16, &mut host).unwrap();
        // No drift record fits either: drift and replace leave such a host alone.
        assert!(drift_record(1, "h", &host, 0).is_none());
    }

    #[test]
    fn identical_records_are_kept() {
        let r = PortRecord {
            agent_id: "a".into(),
            container_id: String::new(),
            host_id: "dup".into(),
            laddr: "0.0.0.0".into(),
            path: "/usr/sbin/nginx".into(),
            pid: 7,
            port: 443,
            status: "normal".into(),
            port_type: "TCP".into(),
        };
        let hosts = BTreeMap::from([("dup".to_string(), vec![r.clone(), r.clone(), r.clone()])]);
        let s = Store::build(&SimConfig { hosts, ..Default::default() }).unwrap();
        assert_eq!(s.ports("dup"), vec![r.clone(), r.clone(), r]);
    }

    #[test]
    fn replace_keeps_the_count_and_moves_the_records_between() {
        let mut s = Store::build(&cfg(vec![("h", 30)], 1)).unwrap();
        let before = s.ports("h");
        assert!(s.replace(1, "h", 3, 5, 20));
        let after = s.ports("h");
        assert_eq!(after.len(), 30);
        assert_eq!(&after[..5], &before[..5]);
        assert_eq!(&after[5..20], &before[6..21], "moved one place towards the start");
        assert!(!before.contains(&after[20]), "a new record");
        assert_eq!(&after[21..], &before[21..]);
        // The other direction: insertion first, removal after it.
        let mut s = Store::build(&cfg(vec![("h", 30)], 1)).unwrap();
        assert!(s.replace(1, "h", 3, 20, 5));
        let after = s.ports("h");
        assert_eq!(&after[..5], &before[..5]);
        assert!(!before.contains(&after[5]));
        assert_eq!(&after[6..21], &before[5..20], "moved one place towards the end");
        assert_eq!(&after[21..], &before[21..]);
        // Clamped positions, unknown and empty hosts.
        assert!(s.replace(1, "h", 4, 1_000, 1_000));
        assert_eq!(s.ports("h").len(), 30);
        assert!(!s.replace(1, "nope", 5, 0, 0));
    }

    #[test]
    fn fixture_loading_with_defaults_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        std::fs::write(
            &p,
            r#"{"web": [{"port": 80}, {"port": 8080, "type": "TCP", "laddr": "::",
               "status": "danger", "pid": 12, "path": "/bin/x", "agent_id": "a",
               "container_id": "c1", "host_id": "web"}], "empty": []}"#,
        )
        .unwrap();
        let s = Store::build(&SimConfig { fixture: Some(p.clone()), ..Default::default() }).unwrap();
        let web = s.ports("web");
        assert_eq!(web.len(), 2);
        let r80 = web.iter().find(|r| r.port == 80).unwrap();
        assert_eq!((r80.laddr.as_str(), r80.port_type.as_str()), ("0.0.0.0", "TCP"));
        assert_eq!(r80.status, "normal");
        assert_eq!(r80.agent_id.len(), 64);
        assert!(s.hosts.contains_key("empty"));
        assert_eq!(s.ports(REFERENCE_HOST_ID).len(), 2);

        let kind_of = |fixture: &Path| {
            let e = Store::build(&SimConfig { fixture: Some(fixture.to_path_buf()), ..Default::default() });
            io::Error::from(e.err().expect("fixture is rejected")).kind()
        };
        std::fs::write(&p, r#"{"web": [{"port": 80, "host_id": "other"}]}"#).unwrap();
        assert_eq!(kind_of(&p), io::ErrorKind::InvalidData);
        std::fs::write(&p, r#"{"web": [{"port": 65536}]}"#).unwrap();
        assert_eq!(kind_of(&p), io::ErrorKind::InvalidData);
        std::fs::write(&p, r#"{"web": [{"port": 80, "colour": "red"}]}"#).unwrap();
        assert_eq!(kind_of(&p), io::ErrorKind::InvalidData);
        std::fs::write(&p, "not json").unwrap();
        assert_eq!(kind_of(&p), io::ErrorKind::InvalidData);
        assert_eq!(kind_of(&dir.path().join("missing.json")), io::ErrorKind::NotFound);
    }

    #[test]
    fn reference_host_is_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        // A fixture repeating the example's records is fine (duplicates are dropped).
        let same = serde_json::json!({ REFERENCE_HOST_ID: reference_records() });
        std::fs::write(&p, same.to_string()).unwrap();
        let s = Store::build(&SimConfig { fixture: Some(p.clone()), ..Default::default() }).unwrap();
        assert_eq!(s.ports(REFERENCE_HOST_ID), reference_records());
        // Anything else is refused.
        std::fs::write(&p, format!(r#"{{"{REFERENCE_HOST_ID}": [{{"port": 22}}]}}"#)).unwrap();
        let e = Store::build(&SimConfig { fixture: Some(p), ..Default::default() });
        assert!(matches!(e, Err(DataError::ReferenceHost)));
        let e = Store::build(&cfg(vec![(REFERENCE_HOST_ID, 3)], 1));
        assert!(matches!(e, Err(DataError::ReferenceHost)));
        assert!(Store::build(&cfg(vec![(REFERENCE_HOST_ID, 0)], 1)).is_ok());
    }

    #[test]
    fn filters() {
        let s = Store::build(&cfg(vec![("h1", 300)], 3)).unwrap();
        let all = s.select(&q("host_id=h1"));
        assert_eq!(all.len(), 300);
        let tcp = s.select(&q("host_id=h1&type=TCP"));
        assert!(!tcp.is_empty() && tcp.iter().all(|r| r.port_type == "TCP"));
        let danger = s.select(&q("host_id=h1&status=danger"));
        assert!(!danger.is_empty() && danger.iter().all(|r| r.status == "danger"));
        let unk = s.select(&q("host_id=h1&status=unknown"));
        assert!(!unk.is_empty() && unk.iter().all(|r| r.status == "unknow"));
        assert!(validate(&parse_pairs("host_id=h1&status=unknow")).is_err(), "the response spelling is refused");
        let p = all[0].port;
        assert!(s.select(&q(&format!("host_id=h1&port={p}"))).iter().all(|r| r.port == p));
        assert!(s.select(&q("host_id=h1&category=container")).is_empty());
        let meta = HostMeta::for_host("h1");
        assert_eq!(meta.name, "host-h1");
        assert_eq!(s.select(&q("host_id=h1&host_name=host-h1")).len(), 300);
        assert_eq!(s.select(&q("host_id=h1&host_name=h1")).len(), 300);
        assert!(s.select(&q("host_id=h1&host_name=nope")).is_empty());
        assert_eq!(s.select(&q(&format!("host_id=h1&host_ip={}", meta.ip))).len(), 300);
        assert!(s.select(&q("host_id=h1&host_ip=10.9.9.9")).is_empty());
        assert!(s.select(&q("host_id=unknown")).is_empty());
    }

    #[test]
    fn drift_once_and_always() {
        let mut s = Store::build(&cfg(vec![("h", 20)], 1)).unwrap();
        assert!(s.drift_once(1, "h"));
        assert_eq!(s.ports("h").len(), 21);
        assert!(!s.drift_once(1, "h"));
        assert_eq!(s.ports("h").len(), 21);
        assert!(!s.drift_once(1, "nope"));
        let before = s.ports("h");
        assert!(s.drift_always(1, "h", 5));
        assert_eq!(s.ports("h").len(), 22);
        assert!(s.drift_always(1, "h", 6));
        assert_eq!(s.ports("h"), before);
        let keys: HashSet<Key> = s.ports("h").iter().map(key).collect();
        assert_eq!(keys.len(), 21);
    }
}
