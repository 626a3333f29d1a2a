//! The fleet APIs through the HSS client against the simulator's fleet, without Terraform:
//! complete lists in overlapping pages, exact request counts and offsets, both authentication
//! modes on the new paths, re-reads when pages are faulty, and the simulator's own consistency
//! (statistics, port hosts and port lists agree).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hss_provider::hss::{
    Client, ClientConfig, Credentials, HostQuery, HostRecord, PortHostQuery, PortHostRecord, PortQuery, PortStatistic,
    PortStatisticsQuery, Secret,
};
use hss_sim::{Faults, FleetSpec, SimConfig, SimHandle, Simulator};
use tokio_util::sync::CancellationToken;

const PROJECT: &str = "p";
const TOKEN: &str = "t";
const AK: &str = "ak";
const SK: &str = "sk";

fn fleet(hosts: usize) -> FleetSpec {
    FleetSpec { hosts, ports_per_host: 15, pairs: 70, rare_pairs: 3, rare_hosts: 12 }
}

async fn start(spec: FleetSpec, faults: Faults) -> SimHandle {
    Simulator::start(SimConfig {
        project_id: PROJECT.into(),
        token: Some(TOKEN.into()),
        access_key: Some(AK.into()),
        secret_key: Some(SK.into()),
        fleet: spec,
        seed: 11,
        faults,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

fn client(sim: &SimHandle, concurrency: usize) -> Client {
    Client::new(ClientConfig {
        endpoint: Some(sim.url()),
        retry_base_delay: Duration::from_millis(2),
        retry_max_delay: Duration::from_millis(50),
        request_timeout: Duration::from_secs(10),
        max_concurrent_requests: concurrency,
        ..ClientConfig::new(
            PROJECT,
            Credentials::AkSk { access_key: AK.into(), secret_key: Secret::new(SK.into()), security_token: None },
        )
    })
    .expect("client builds")
}

/// The simulator's view converted to the client's types (the JSON field names are the API's).
fn convert<A: serde::Serialize, B: serde::de::DeserializeOwned>(a: &A) -> B {
    serde_json::from_value(serde_json::to_value(a).expect("serialize")).expect("same fields")
}

fn offsets(sim: &SimHandle) -> Vec<u64> {
    let mut v: Vec<u64> = sim
        .queries()
        .iter()
        .filter_map(|q| q.split('&').find_map(|kv| kv.strip_prefix("offset=")).and_then(|o| o.parse().ok()))
        .collect();
    v.sort_unstable();
    v
}

/// Pages of a consistent overlapping read: 0, then steps of `size − 1`.
fn pages(total: u64, size: u64) -> u64 {
    if total <= size { 1 } else { 1 + (total - size).div_ceil(size - 1) }
}

#[tokio::test]
async fn hosts_are_listed_completely_in_overlapping_pages() {
    let sim = start(fleet(230), Faults::default()).await;
    let client = client(&sim, 4);
    let cancel = CancellationToken::new();
    let truth: Vec<HostRecord> = sim.hosts().iter().map(convert).collect();
    assert_eq!(truth.len(), 231);
    for size in [10u32, 57, 200] {
        sim.reset_stats();
        let list = client.list_hosts(&HostQuery { page_size: size, ..Default::default() }, &cancel).await.unwrap();
        let mut got = list.records.clone();
        got.sort_by(|a, b| a.host_id.cmp(&b.host_id));
        assert_eq!(got, truth, "page size {size}");
        assert_eq!(list.total_num, 231);
        let n = pages(231, u64::from(size));
        assert_eq!((list.requests, sim.stats().requests), (n, n), "page size {size}");
        let want: Vec<u64> = (0..n).map(|k| k * (u64::from(size) - 1)).collect();
        assert_eq!(offsets(&sim), want, "page size {size}");
    }
}

#[tokio::test]
async fn filters_select_like_the_api_and_reach_it_encoded() {
    let sim = start(fleet(100), Faults::default()).await;
    let client = client(&sim, 8);
    let cancel = CancellationToken::new();
    let q =
        HostQuery { os_type: Some("Windows".into()), agent_status: Some("not_online".into()), ..Default::default() };
    let list = client.list_hosts(&q, &cancel).await.unwrap();
    let want: BTreeSet<String> = sim
        .hosts()
        .into_iter()
        .filter(|h| h.os_type.as_deref() == Some("Windows") && h.agent_status.as_deref() != Some("online"))
        .filter_map(|h| h.host_id)
        .collect();
    let got: BTreeSet<String> = list.records.into_iter().filter_map(|h| h.host_id).collect();
    assert_eq!(got, want);
    sim.reset_stats();
    let q = HostQuery { host_name: Some("web 1+x/é".into()), ..Default::default() };
    assert_eq!(client.list_hosts(&q, &cancel).await.unwrap().total_num, 0);
    assert!(sim.queries()[0].split('&').any(|p| p == "host_name=web%201%2Bx%2F%C3%A9"), "{:?}", sim.queries());
}

#[tokio::test]
async fn statistics_port_hosts_and_port_lists_agree() {
    let sim = start(fleet(150), Faults::default()).await;
    let client = client(&sim, 8);
    let cancel = CancellationToken::new();
    let q = PortStatisticsQuery { sort_key: Some("port".into()), page_size: 10, ..Default::default() };
    let stats = client.list_port_statistics(&q, &cancel).await.unwrap();
    let truth: Vec<PortStatistic> = sim.port_statistics("0").iter().map(convert).collect();
    assert_eq!(stats.records, truth, "sorted by port, complete");
    assert!(stats.records.iter().any(|r| r.port_type.as_deref() == Some("TCP6")));
    // Every row of one port: the servers listed under TCP, split by family, are the counts.
    for row in stats.records.iter().filter(|r| r.port == Some(22) || r.port.is_some_and(|p| p >= 40_000)) {
        let port = row.port.and_then(|p| u16::try_from(p).ok()).unwrap();
        let ty = row.port_type.as_deref().unwrap().trim_end_matches('6');
        let q = PortHostQuery { port, port_type: Some(ty.into()), page_size: 10, ..Default::default() };
        let listed = client.list_port_hosts(&q, &cancel).await.unwrap();
        let v6 = row.port_type.as_deref().is_some_and(|t| t.ends_with('6'));
        let hosts: BTreeSet<&str> = listed
            .records
            .iter()
            .filter(|r| r.laddr.as_deref().is_some_and(|a| a.contains(':')) == v6)
            .filter_map(|r| r.host_id.as_deref())
            .collect();
        assert_eq!(Some(hosts.len() as i64), row.num, "{row:?}");
        // The same records as each server's own port list.
        let mut by_host: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &listed.records {
            *by_host.entry(r.host_id.as_deref().unwrap_or_default()).or_default() += 1;
        }
        for (host, n) in by_host {
            let own = client
                .list_ports(
                    &PortQuery { port: Some(u32::from(port)), port_type: Some(ty.into()), ..PortQuery::new(host) },
                    &cancel,
                )
                .await
                .unwrap();
            assert_eq!(own.ports.len(), n, "{host} {port}/{ty}");
        }
    }
    let truth: Vec<PortHostRecord> = sim.port_hosts(22).iter().map(convert).collect();
    let q = PortHostQuery { port: 22, ..Default::default() };
    let mut got = client.list_port_hosts(&q, &cancel).await.unwrap().records;
    let mut want: Vec<PortHostRecord> = truth.into_iter().filter(|r| r.container_id.as_deref() == Some("")).collect();
    let key = |r: &PortHostRecord| (r.host_id.clone(), r.laddr.clone(), r.pid);
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(got, want);
}

#[tokio::test]
async fn faulty_pages_are_re_read_until_consistent() {
    // One request at a time, so that the seeded faults fall on the same requests every run.
    let faults = Faults { rate_repeat_page: 0.04, rate_short_page: 0.04, rate_5xx: 0.05, ..Default::default() };
    let sim = start(fleet(120), faults).await;
    let client = client(&sim, 1);
    let cancel = CancellationToken::new();
    let truth: Vec<HostRecord> = sim.hosts().iter().map(convert).collect();
    let list = client.list_hosts(&HostQuery { page_size: 20, ..Default::default() }, &cancel).await.unwrap();
    let mut got = list.records;
    got.sort_by(|a, b| a.host_id.cmp(&b.host_id));
    assert_eq!(got, truth);
    let stats = sim.stats();
    assert_eq!(list.requests, stats.requests, "every request is counted, retries and re-reads included");
    assert!(stats.faults_injected > 0, "{stats:?}");
    assert!(list.requests > pages(121, 20), "faults made the read longer: {}", list.requests);

    // Pages that are always short: three reads, then an error that says so.
    sim.set_faults(Faults { rate_short_page: 1.0, ..Default::default() });
    let e = client.list_hosts(&HostQuery { page_size: 50, ..Default::default() }, &cancel).await.unwrap_err();
    assert!(e.is_incomplete(), "{e}");
    assert!(
        e.to_string().contains("HSS host list incomplete after reading it 3 times: page at offset 0 returned"),
        "{e}"
    );
}

#[tokio::test]
async fn token_auth_and_bad_queries() {
    let sim = start(fleet(5), Faults::default()).await;
    let token = Client::new(ClientConfig {
        endpoint: Some(sim.url()),
        ..ClientConfig::new(PROJECT, Credentials::Token(Secret::new(TOKEN.into())))
    })
    .unwrap();
    let cancel = CancellationToken::new();
    assert_eq!(token.list_hosts(&HostQuery::default(), &cancel).await.unwrap().total_num, 6);
    let e = token
        .list_hosts(&HostQuery { os_type: Some("Solaris".into()), ..Default::default() }, &cancel)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(e.to_string().contains("Invalid parameter 'os_type'"), "{e}");
    let wrong = Client::new(ClientConfig {
        endpoint: Some(sim.url()),
        ..ClientConfig::new(PROJECT, Credentials::Token(Secret::new("nope-nope".into())))
    })
    .unwrap();
    let e = wrong.list_port_statistics(&PortStatisticsQuery::default(), &cancel).await.unwrap_err();
    assert_eq!(e.status(), Some(401), "{e}");
}
