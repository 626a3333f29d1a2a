//! `hss-sim`: a faithful local simulator of HSS `GET /v5/{project_id}/asset/ports` (the open
//! ports of one server), for tests, demos, benchmarks and offline Terraform runs.
//!
//! # Served API
//!
//! `GET /v5/{project_id}/asset/ports` over plain HTTP/1.1 (keep-alive) on the configured
//! address. Each request goes through these steps, in order:
//!
//! 1. **Latency**: the configured [`Faults::latency`] is slept.
//! 2. **Routing**: any other path or method gets `404`
//!    `{"error_code":"APIGW.0101","error_msg":"The API does not exist ..."}`.
//! 3. **Authentication** (only when credentials are configured; either mode suffices):
//!    `X-Auth-Token` must equal [`SimConfig::token`]; or `Authorization: SDK-HMAC-SHA256
//!    Access=AK, SignedHeaders=a;b, Signature=hex` is verified by recomputing the signature
//!    by the simulator's own [`signature`] verifier (written apart from the provider's signer) from the request as received (decoded query pairs, the signed
//!    headers, which must include `host` and `x-sdk-date`, and an empty body); `X-Sdk-Date`
//!    must be within 15 minutes of the server clock. Failures: `401`
//!    `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: ..."}`
//!    (never echoing secrets).
//! 4. **Project**: a `project_id` other than [`SimConfig::project_id`] gets `403`
//!    `{"error_code":"HSS.1003",...}`.
//! 5. **Validation**, as documented by the reference: `host_id` required, 1-128 characters;
//!    `host_name`, `host_ip` at most 128; `port` integer 1-65535; `type` `TCP`|`UDP`;
//!    `status` `danger`|`unknown` (the response spelling `unknow` is refused, as by the API);
//!    `enterprise_project_id` at most 256 (accepted, not used); `limit` integer 10-200
//!    (default 10); `offset` integer 0-2,000,000 (default 0); `category` `host`|`container`
//!    (default `host`). Integers are strict decimal (no sign other than `-`, no spaces).
//!    Enumerations are case-sensitive and an empty value is invalid. Values are
//!    percent-decoded (`%XX`; `+` is a literal plus); the first occurrence of a repeated
//!    parameter wins; unknown parameters are ignored. Failures: `400`
//!    `{"error_code":"HSS.1001","error_msg":"Invalid parameter 'limit': ..."}`.
//! 6. **Faults** (see [`Faults`]), decided deterministically from [`SimConfig::seed`] and the
//!    ordinal of the request among those that reached this step: dropped connection, else
//!    `429` (`APIGW.0308`, `Retry-After` when configured), else 500/502/503/504, else a `200`
//!    with a truncated JSON body; independently, a repeated page (the records of the previous,
//!    or else the next, page) or a short page (fewer records, possibly none). A [`Replace`]
//!    changes the data once, right after a chosen request's page is read.
//! 7. **Data**: `200 {"data_list":[...],"total_num":N}`; `total_num` counts the records
//!    matching the filters, `data_list` is the `offset`/`limit` slice of them.
//!
//! Every response carries an `X-Request-Id` header (32 hex digits, counter-based).
//!
//! # Data
//!
//! The reference's example host `dd91cd32-a238-4c0e-bc01-3b11653714ac` is always present with
//! exactly the two records of the reference's example response, in the example's order
//! (configuring other records or generated ports for it makes `start` fail). More data
//! comes from a JSON fixture (`{"host_id": [{port record}, ...]}`; every field but `port` may
//! be omitted), from [`SimConfig::hosts`] and from [`SimConfig::generate`] (deterministic,
//! unique `(laddr, port, type)` records; the entries for one host add up to at most
//! [`MAX_GENERATED_PER_HOST`]). Identical records given in a fixture or in
//! [`SimConfig::hosts`] are all served, as HSS may list identical rows. Each host's records are stored in a seeded shuffled
//! order (not sorted) that is stable across requests. An unknown host is `200` with
//! `total_num` 0, as HSS answers for a host without open ports.
//!
//! Filters: `port` and `type` match exactly; `status=danger` matches `danger` records,
//! `status=unknown` matches `unknow` (and `unknown`) records; `category=host` keeps the
//! records with an empty `container_id`, `category=container` those with a non-empty one.
//! `host_name` and `host_ip` are substring matches against deterministic host metadata
//! ([`HostMeta`]: `host-` + the first 8 characters of the ID, and `192.168.X.Y`); when they do
//! not match, the result is empty.
//!
//! # The fleet APIs
//!
//! `GET /v5/{project_id}/host-management/hosts` (ListHostStatus),
//! `GET /v5/{project_id}/asset/ports/detail` (ListPortHost) and
//! `GET /v5/{project_id}/asset/port/statistics` (ListPortStatistics) serve every host of the
//! data above, plus a generated fleet ([`SimConfig::fleet`]) and host details
//! ([`SimConfig::host_fixture`]), consistently with the port list and with each other; the
//! same authentication, project check, latency and faults apply, and [`Faults::stats_skew`]
//! makes the statistics disagree. The `fleet` module's documentation has the details.
//! # IAM and the ECS metadata service
//!
//! The same listener serves `GET /v3/projects?name=...` (authenticated exactly like HSS),
//! `POST /v3.0/OS-CREDENTIAL/securitytokens` (`assume_role`), and the metadata service's
//! `PUT /meta-data/latest/api/token` and `GET /openstack/latest/securitykey`, from
//! [`SimConfig::iam`] ([`IamConfig`]); see the `iam` module. Temporary credentials they issue
//! are accepted by HSS and IAM, with their `X-Security-Token`, until they expire, and get `401`
//! after. These requests are not counted in [`Stats`] and get no HSS faults; [`IamStats`]
//! counts them (`GET /_sim/iam`).
//!
//! # Control paths (not part of the real API)
//!
//! `GET /_sim/stats` returns [`Stats`] as JSON, `GET /_sim/queries` the logged raw query
//! strings and `GET /_sim/iam` the [`IamStats`]. They need no authentication and are not
//! counted in the statistics.

mod auth;
pub mod cli;
mod config;
mod data;
mod faults;
mod fleet;
mod iam;
mod server;
pub mod signature;
mod stats;
mod validate;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use auth::MAX_CLOCK_SKEW;
pub use config::{DEFAULT_PROJECT_ID, Drift, Faults, Replace, SimConfig};
pub use data::{HostMeta, MAX_GENERATED_PER_HOST, PortRecord, REFERENCE_HOST_ID, reference_records};
pub use fleet::{FleetSpec, HostInfo, PortHostInfo, PortStatisticInfo, Skew};
pub use iam::{IamConfig, IamStats};
pub use stats::{QUERY_LOG_CAPACITY, Stats};

use auth::AuthConfig;
use data::Store;
use server::{Shared, lock};
use stats::Recorder;

/// Starts simulators.
pub struct Simulator;

impl Simulator {
    /// Loads the data, binds [`SimConfig::listen`] and serves on the caller's tokio runtime
    /// until the returned handle is dropped.
    pub async fn start(cfg: SimConfig) -> io::Result<SimHandle> {
        let ak_sk = match (&cfg.access_key, &cfg.secret_key) {
            (Some(ak), Some(sk)) => Some((ak.clone(), sk.clone())),
            (None, None) => None,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "access_key and secret_key must be configured together",
                ));
            }
        };
        let mut store = Store::build(&cfg)?;
        let fleet = fleet::build(&cfg, &mut store)?;
        let listener = TcpListener::bind(cfg.listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            project_id: cfg.project_id.clone(),
            seed: cfg.seed,
            auth: AuthConfig { token: cfg.token.clone(), ak_sk, ..Default::default() },
            faults: Mutex::new(cfg.faults.clone()),
            store: Mutex::new(store),
            rec: Mutex::new(Recorder::default()),
            request_ids: AtomicU64::new(0),
            fault_seq: AtomicU64::new(0),
            fleet,
            iam: iam::IamState::new(cfg.iam.clone(), cfg.seed),
        });
        let task = tokio::spawn(server::accept_loop(listener, shared.clone()));
        Ok(SimHandle { addr, shared, task })
    }
}

/// A running simulator. Dropping it stops the server and closes its connections.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SimHandle {
    /// The base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). An unspecified bind
    /// address (`0.0.0.0`, `::`) is reported as the loopback address.
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.rec).stats.clone()
    }

    /// Zeroes the counters (keeping the current `in_flight`) and clears the query log.
    pub fn reset_stats(&self) {
        lock(&self.shared.rec).reset();
    }

    /// Replaces the fault settings; applies to requests arriving from now on.
    pub fn set_faults(&self, f: Faults) {
        *lock(&self.shared.faults) = f;
    }

    /// The raw query strings received on API paths, oldest first (the last
    /// [`QUERY_LOG_CAPACITY`]).
    pub fn queries(&self) -> Vec<String> {
        lock(&self.shared.rec).queries.iter().cloned().collect()
    }

    /// The counters of the IAM and metadata paths.
    pub fn iam_stats(&self) -> IamStats {
        self.shared.iam.stats(&self.shared.auth)
    }

    /// Every secret the simulated IAM and metadata service issued (secret keys, security
    /// tokens, metadata tokens), for tests that check none of them leaks.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.shared.iam.secrets()
    }

    /// Issues temporary credentials valid for `lifetime`, as IAM does for an STS token (a
    /// KooCLI SSO login, for example): `(access key, secret key, security token)`.
    pub fn issue_temporary(&self, lifetime: std::time::Duration) -> (String, String, String) {
        let (access, secret, token, _) = self.shared.iam.issue(&self.shared.auth, lifetime);
        (access, secret, token)
    }

    /// The current records of a host in served order (drift included); empty when unknown.
    pub fn ports(&self, host_id: &str) -> Vec<PortRecord> {
        lock(&self.shared.store).ports(host_id)
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
