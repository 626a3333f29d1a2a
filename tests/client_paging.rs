//! The HSS client against the embedded simulator: complete overlapping paging, exact request
//! counts, bounded concurrency, retries (429 with Retry-After, 5xx, dropped connections,
//! malformed bodies, timeouts), re-reading on drift and on shifted pages, identical records,
//! completeness errors, bounded and classified answers (oversized, cut short, wrong shape),
//! TLS failures, proxies, cancellation and both authentication modes. Results are compared
//! with the simulator's own data as a multiset.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hss_provider::hss::{Client, ClientConfig, Credentials, PortQuery, PortRecord, Secret, sign};
use hss_sim::{Drift, Faults, Replace, SimConfig, SimHandle, Simulator};
use support::wait::eventually_async;
use tokio_util::sync::CancellationToken;

const PROJECT: &str = "p";
const TOKEN: &str = "t";
const AK: &str = "ak";
const SK: &str = "sk";

async fn start(generate: Vec<(&str, usize)>, faults: Faults) -> SimHandle {
    Simulator::start(SimConfig {
        project_id: PROJECT.into(),
        token: Some(TOKEN.into()),
        access_key: Some(AK.into()),
        secret_key: Some(SK.into()),
        generate: generate.into_iter().map(|(h, n)| (h.to_owned(), n)).collect(),
        seed: 1,
        faults,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

fn quiet() -> Faults {
    Faults { latency: Duration::from_millis(5), ..Default::default() }
}

/// Fast retries so fault tests run quickly.
fn config(sim: &SimHandle, credentials: Credentials) -> ClientConfig {
    ClientConfig {
        endpoint: Some(sim.url()),
        retry_base_delay: Duration::from_millis(5),
        retry_max_delay: Duration::from_millis(200),
        request_timeout: Duration::from_secs(10),
        ..ClientConfig::new(PROJECT, credentials)
    }
}

fn token() -> Credentials {
    Credentials::Token(Secret::new(TOKEN.into()))
}

fn aksk() -> Credentials {
    Credentials::AkSk { access_key: AK.into(), secret_key: Secret::new(SK.into()), security_token: None }
}

fn client(sim: &SimHandle) -> Client {
    Client::new(config(sim, aksk())).expect("client builds")
}

/// The simulator's current records of a host, as client records, counted.
fn truth(sim: &SimHandle, host: &str) -> HashMap<PortRecord, usize> {
    let records: Vec<PortRecord> = serde_json::from_value(serde_json::to_value(sim.ports(host)).unwrap()).unwrap();
    multiset(&records)
}

fn multiset(records: &[PortRecord]) -> HashMap<PortRecord, usize> {
    let mut m = HashMap::new();
    for r in records {
        *m.entry(r.clone()).or_insert(0) += 1;
    }
    m
}

fn offsets(sim: &SimHandle) -> Vec<u64> {
    let mut v: Vec<u64> = sim
        .queries()
        .iter()
        .map(|q| {
            let off = q.split('&').find_map(|kv| kv.strip_prefix("offset=")).expect("offset sent");
            off.parse().unwrap()
        })
        .collect();
    v.sort_unstable();
    v
}

fn status_count(sim: &SimHandle, status: u16) -> u64 {
    sim.stats().status_counts.get(&status).copied().unwrap_or(0)
}

#[tokio::test]
async fn reads_every_page_with_exact_request_counts() {
    let sizes = [0usize, 1, 199, 200, 201, 10_000];
    let hosts: Vec<String> = sizes.iter().map(|n| format!("host-{n}")).collect();
    let sim =
        start(hosts.iter().zip(sizes).filter(|(_, n)| *n > 0).map(|(h, n)| (h.as_str(), n)).collect(), quiet()).await;
    let client = client(&sim);
    let cancel = CancellationToken::new();
    for (host, n) in hosts.iter().zip(sizes) {
        sim.reset_stats();
        let list = client
            .list_ports(&PortQuery::new(host.as_str()), &cancel)
            .await
            .unwrap_or_else(|e| panic!("{n} ports: {e}"));
        assert_eq!(list.total_num, n as u64, "{n} ports");
        assert_eq!(list.ports.len(), n, "{n} ports");
        assert_eq!(multiset(&list.ports), truth(&sim, host), "{n} ports");
        // Overlapping pages: page k starts at k·199; n records need max(1, ⌈(n−1)/199⌉) pages.
        let expected_requests = (n.saturating_sub(1)).div_ceil(199).max(1) as u64;
        assert_eq!(sim.stats().requests, expected_requests, "{n} ports");
        let expected_offsets: Vec<u64> = (0..expected_requests).map(|i| i * 199).collect();
        assert_eq!(offsets(&sim), expected_offsets, "{n} ports");
        assert!(sim.queries().iter().all(|q| q.contains("limit=200")));
    }
    // The benchmark's host: one request more than without overlap.
    sim.reset_stats();
    client.list_ports(&PortQuery::new("host-10000"), &cancel).await.unwrap();
    assert_eq!(sim.stats().requests, 51);
}

#[tokio::test]
async fn pages_are_assembled_in_served_order() {
    let sim = start(vec![("host-a", 450)], quiet()).await;
    let list = client(&sim).list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap();
    let served: Vec<PortRecord> = serde_json::from_value(serde_json::to_value(sim.ports("host-a")).unwrap()).unwrap();
    assert_eq!(list.ports, served);
}

#[tokio::test]
async fn smaller_pages_and_unknown_host() {
    let sim = start(vec![("host-a", 95)], quiet()).await;
    let client = client(&sim);
    let cancel = CancellationToken::new();
    let q = PortQuery { page_size: 10, ..PortQuery::new("host-a") };
    let list = client.list_ports(&q, &cancel).await.unwrap();
    assert_eq!(multiset(&list.ports), truth(&sim, "host-a"));
    assert_eq!(sim.stats().requests, 11, "⌈94 / 9⌉ overlapping pages of 10");

    sim.reset_stats();
    let list = client.list_ports(&PortQuery::new("no-such-host"), &cancel).await.unwrap();
    assert_eq!(list.total_num, 0);
    assert!(list.ports.is_empty());
    assert_eq!(sim.stats().requests, 1);

    let bad = PortQuery { page_size: 500, ..PortQuery::new("host-a") };
    let e = client.list_ports(&bad, &cancel).await.unwrap_err();
    assert!(e.to_string().contains("page_size"), "{e}");
}

#[tokio::test]
async fn concurrency_is_used_and_bounded_provider_wide() {
    let sim = start(
        vec![("host-a", 10_000), ("host-b", 5_000)],
        Faults { latency: Duration::from_millis(30), ..Default::default() },
    )
    .await;
    let client = Client::new(ClientConfig { max_concurrent_requests: 4, ..config(&sim, aksk()) }).unwrap();
    let other = client.clone();
    let cancel = CancellationToken::new();
    let (qa, qb) = (PortQuery::new("host-a"), PortQuery::new("host-b"));
    let (a, b) = tokio::join!(client.list_ports(&qa, &cancel), other.list_ports(&qb, &cancel),);
    assert_eq!(multiset(&a.unwrap().ports), truth(&sim, "host-a"));
    assert_eq!(multiset(&b.unwrap().ports), truth(&sim, "host-b"));
    let stats = sim.stats();
    assert_eq!(stats.requests, 51 + 26);
    assert!(stats.max_in_flight > 1, "{stats:?}");
    assert!(stats.max_in_flight <= 4, "{stats:?}");
}

#[tokio::test]
async fn rate_limit_spaces_requests() {
    let sim = start(vec![("host-a", 2_000)], quiet()).await;
    let client = Client::new(ClientConfig { requests_per_second: 20.0, ..config(&sim, token()) }).unwrap();
    let started = Instant::now();
    let list = client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap();
    assert_eq!(list.ports.len(), 2_000);
    // 11 requests at 20/s: the last starts at least 500 ms after the first.
    assert!(started.elapsed() >= Duration::from_millis(440), "{:?}", started.elapsed());
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let sim = start(vec![("host-a", 450)], Faults { rate_429: 1.0, retry_after_secs: Some(1), ..quiet() }).await;
    let client =
        Client::new(ClientConfig { retry_max_delay: Duration::from_secs(5), ..config(&sim, token()) }).unwrap();
    let started = Instant::now();
    let task =
        tokio::spawn(async move { client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await });
    // Throttle the first request only: the client then waits a second before it asks again.
    eventually_async(Duration::from_secs(10), "the first request is throttled", || status_count(&sim, 429) >= 1).await;
    sim.set_faults(quiet());
    let list = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the list ends within 30 s")
        .unwrap()
        .expect("completes after the throttling stops");
    assert_eq!(multiset(&list.ports), truth(&sim, "host-a"));
    // With a 5 ms base back-off, only Retry-After explains a one second wait.
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(status_count(&sim, 429), 1, "one 429, then a one-second wait");
}

#[tokio::test]
async fn retry_after_is_capped_by_retry_max_delay() {
    let sim = start(vec![("host-a", 10)], Faults { rate_429: 1.0, retry_after_secs: Some(3600), ..quiet() }).await;
    let client = Client::new(ClientConfig {
        max_retries: 3,
        retry_max_delay: Duration::from_millis(50),
        ..config(&sim, token())
    })
    .unwrap();
    let started = Instant::now();
    let e = client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(e.status(), Some(429));
    assert_eq!(e.error_code(), Some("APIGW.0308"));
    assert_eq!(e.hint(), Some("throttled after 3 retries; lower max_concurrent_requests or set requests_per_second"));
    assert!(e.request_id().is_some());
    assert_eq!(sim.stats().requests, 4);
}

#[tokio::test]
async fn max_retries_zero_disables_retries() {
    let sim = start(vec![("host-a", 10)], Faults { rate_5xx: 1.0, ..quiet() }).await;
    let client = Client::new(ClientConfig { max_retries: 0, ..config(&sim, token()) }).unwrap();
    let e = client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(e.status(), Some(500 | 502 | 503 | 504)), "{e}");
    assert_eq!(sim.stats().requests, 1);
}

async fn survives(faults: Faults, what: &str) -> SimHandle {
    let sim = start(vec![("host-a", 2_000)], faults).await;
    let client = Client::new(ClientConfig { max_retries: 10, ..config(&sim, aksk()) }).unwrap();
    let list = client
        .list_ports(&PortQuery::new("host-a"), &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(multiset(&list.ports), truth(&sim, "host-a"), "{what}");
    assert!(sim.stats().faults_injected > 0, "{what}: no fault was injected");
    assert!(sim.stats().requests > 10, "{what}: nothing was retried");
    sim
}

#[tokio::test]
async fn server_errors_are_retried() {
    let sim = survives(Faults { rate_5xx: 0.3, ..quiet() }, "5xx").await;
    let s = sim.stats();
    assert!([500, 502, 503, 504].iter().any(|c| s.status_counts.contains_key(c)));
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    survives(Faults { rate_drop: 0.3, ..quiet() }, "dropped connections").await;
}

#[tokio::test]
async fn malformed_bodies_are_retried() {
    survives(Faults { rate_malformed: 0.3, ..quiet() }, "malformed bodies").await;
}

#[tokio::test]
async fn throttling_is_retried_with_backoff() {
    survives(Faults { rate_429: 0.3, ..quiet() }, "429 without Retry-After").await;
}

#[tokio::test]
async fn malformed_bodies_count_against_max_retries() {
    let sim = start(vec![("host-a", 10)], Faults { rate_malformed: 1.0, ..quiet() }).await;
    let client = Client::new(ClientConfig { max_retries: 2, ..config(&sim, token()) }).unwrap();
    let e = client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap_err();
    assert_eq!(e.status(), Some(200));
    assert!(e.to_string().contains("not the expected JSON"), "{e}");
    assert_eq!(sim.stats().requests, 3);
}

#[tokio::test]
async fn each_request_has_its_own_timeout() {
    let sim = start(vec![("host-a", 10)], Faults { latency: Duration::from_millis(800), ..Default::default() }).await;
    let client = Client::new(ClientConfig {
        max_retries: 1,
        request_timeout: Duration::from_millis(100),
        ..config(&sim, token())
    })
    .unwrap();
    let started = Instant::now();
    let e = client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert_eq!(e.retries(), 1);
    assert!(started.elapsed() < Duration::from_millis(700));
    // Both requests reached the simulator; once it has counted them and let go of both (it
    // stops holding a request when the client hangs up, or at the latest after its latency),
    // the count is final.
    eventually_async(Duration::from_secs(10), "the simulator counts both requests and is idle", || {
        let stats = sim.stats();
        stats.requests >= 2 && stats.in_flight == 0
    })
    .await;
    assert_eq!(sim.stats().requests, 2);
}

#[tokio::test]
async fn drift_once_is_reread_into_a_complete_list() {
    let sim = start(vec![("host-a", 450)], Faults { drift: Drift::Once, ..quiet() }).await;
    let list = client(&sim).list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap();
    assert_eq!(list.total_num, 451);
    assert_eq!(multiset(&list.ports), truth(&sim, "host-a"));
    // One inconsistent read (3 pages) and one complete read (3 pages).
    assert_eq!(sim.stats().requests, 6);
}

#[tokio::test]
async fn drift_always_is_a_clear_incomplete_error() {
    let sim = start(vec![("host-a", 450)], Faults { drift: Drift::Always, ..quiet() }).await;
    let e = client(&sim).list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap_err();
    assert!(e.is_incomplete(), "{e}");
    assert!(e.to_string().contains("total_num changed from"), "{e}");
    assert!(e.to_string().contains("3 times"), "{e}");
    assert_eq!(sim.stats().requests, 9);
}

#[tokio::test]
async fn short_and_repeated_pages_are_never_returned() {
    for (faults, words) in [
        (Faults { rate_short_page: 1.0, ..quiet() }, "records, expected"),
        (Faults { rate_repeat_page: 1.0, ..quiet() }, "the list shifted between the two reads"),
    ] {
        let sim = start(vec![("host-a", 1_000)], faults).await;
        let e = client(&sim).list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap_err();
        assert!(e.is_incomplete(), "{e}");
        assert!(e.to_string().contains(words), "{e}");
    }
}

#[tokio::test]
async fn occasional_bad_pages_are_reread() {
    // Whatever the seed, the result is the complete list or an incomplete error, never a short
    // list; and some seeds give a bad first read followed by a good one.
    let mut reread_ok = 0;
    for seed in 1..=12 {
        let sim = Simulator::start(SimConfig {
            project_id: PROJECT.into(),
            token: Some(TOKEN.into()),
            generate: vec![("host-a".into(), 1_000)],
            seed,
            faults: Faults { rate_short_page: 0.1, rate_repeat_page: 0.05, ..Default::default() },
            ..Default::default()
        })
        .await
        .unwrap();
        let client = Client::new(config(&sim, token())).unwrap();
        match client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await {
            Ok(list) => {
                assert_eq!(multiset(&list.ports), truth(&sim, "host-a"), "seed {seed}");
                if sim.stats().requests > 5 {
                    reread_ok += 1;
                }
            }
            Err(e) => assert!(e.is_incomplete(), "seed {seed}: {e}"),
        }
    }
    assert!(reread_ok > 0, "no seed exercised a successful re-read");
}

#[tokio::test]
async fn both_auth_modes_are_accepted() {
    let sim = start(vec![("host-a", 201)], quiet()).await;
    let cancel = CancellationToken::new();
    for creds in [
        token(),
        aksk(),
        Credentials::AkSk {
            access_key: AK.into(),
            secret_key: Secret::new(SK.into()),
            security_token: Some(Secret::new("temporary-security-token".into())),
        },
    ] {
        let client = Client::new(config(&sim, creds)).unwrap();
        let list = client.list_ports(&PortQuery::new("host-a"), &cancel).await.unwrap();
        assert_eq!(multiset(&list.ports), truth(&sim, "host-a"));
    }
}

#[tokio::test]
async fn wrong_secret_key_gives_the_credentials_hint() {
    let sim = start(vec![("host-a", 10)], quiet()).await;
    let client = Client::new(config(
        &sim,
        Credentials::AkSk {
            access_key: AK.into(),
            secret_key: Secret::new("wrong-secret-key".into()),
            security_token: None,
        },
    ))
    .unwrap();
    let e = client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.error_code(), Some("APIGW.0301"));
    assert!(e.request_id().is_some());
    let hint = e.hint().unwrap();
    assert!(hint.contains("credentials") && hint.contains("clock"), "{hint}");
    let text = e.to_string();
    assert!(text.contains(hint) && text.contains("401"), "{text}");
    assert!(!text.contains("wrong-secret-key"), "{text}");
    assert!(!format!("{e:?}").contains("wrong-secret-key"));
    assert_eq!(sim.stats().requests, 1, "401 is not retried");

    let bad_token = Client::new(config(&sim, Credentials::Token(Secret::new("nope".into()))))
        .unwrap()
        .list_ports(&PortQuery::new("host-a"), &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(bad_token.status(), Some(401));
}

#[tokio::test]
async fn wrong_project_gives_the_permissions_hint() {
    let sim = start(vec![("host-a", 10)], quiet()).await;
    let client = Client::new(ClientConfig { project_id: "other".into(), ..config(&sim, token()) }).unwrap();
    let e = client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    assert!(e.hint().unwrap().contains("IAM permissions"));
    assert_eq!(sim.stats().requests, 1);
}

#[tokio::test]
async fn query_sent_is_byte_identical_to_the_signed_one() {
    let sim = start(vec![("host-a", 10)], quiet()).await;
    let q = PortQuery {
        host_name: Some("web 01+é/~".into()),
        host_ip: Some("10.0.0.1".into()),
        port: Some(22),
        port_type: Some("TCP".into()),
        status: Some("danger".into()),
        enterprise_project_id: Some("all_granted_eps".into()),
        category: Some("host".into()),
        ..PortQuery::new("host-a")
    };
    // AK/SK: the simulator verifies the signature over the query it received.
    let list = client(&sim).list_ports(&q, &CancellationToken::new()).await.unwrap();
    assert!(list.ports.is_empty());
    assert_eq!(sim.queries(), vec![sign::canonical_query(&q.request().pairs(0))]);
    assert_eq!(
        sim.queries()[0],
        "category=host&enterprise_project_id=all_granted_eps&host_id=host-a&\
         host_ip=10.0.0.1&host_name=web%2001%2B%C3%A9%2F~&limit=200&offset=0&port=22&\
         status=danger&type=TCP"
    );
}

#[tokio::test]
async fn cancellation_stops_requests_and_waits_at_once() {
    let sim = start(vec![("host-a", 450)], Faults { latency: Duration::from_secs(5), ..Default::default() }).await;
    // Cancelling a request in flight: once the simulator holds it (for 5 s).
    let (list, cancel) = spawn_list(client(&sim));
    eventually_async(Duration::from_secs(10), "the request reaches the simulator", || sim.stats().in_flight >= 1).await;
    let e = cancel_and_end(list, &cancel).await;
    assert!(e.is_cancelled(), "{e}");

    // Cancelling during a back-off sleep: once the simulator has answered 429 with a 30 s
    // Retry-After.
    sim.set_faults(Faults { rate_429: 1.0, retry_after_secs: Some(30), ..quiet() });
    sim.reset_stats();
    let client =
        Client::new(ClientConfig { retry_max_delay: Duration::from_secs(60), ..config(&sim, token()) }).unwrap();
    let (list, cancel) = spawn_list(client);
    eventually_async(Duration::from_secs(10), "the request is throttled", || status_count(&sim, 429) >= 1).await;
    let e = cancel_and_end(list, &cancel).await;
    assert!(e.is_cancelled(), "{e}");
    assert_eq!(sim.stats().requests, 1, "no request after the cancel");
}

type ListTask = tokio::task::JoinHandle<Result<hss_provider::hss::PortList, hss_provider::hss::Error>>;

/// Lists `host-a` on a task of its own, with a token to cancel it.
fn spawn_list(client: Client) -> (ListTask, CancellationToken) {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    (tokio::spawn(async move { client.list_ports(&PortQuery::new("host-a"), &token).await }), cancel)
}

/// Checks that `list` is still waiting, cancels it and returns its error, which must come
/// within 1 s of the cancel.
async fn cancel_and_end(list: ListTask, cancel: &CancellationToken) -> hss_provider::hss::Error {
    assert!(!list.is_finished(), "the list must still be waiting");
    let cancelled = Instant::now();
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(10), list).await.expect("the list ends").expect("joins");
    let elapsed = cancelled.elapsed();
    assert!(elapsed < Duration::from_secs(1), "the list took {elapsed:?} to end after the cancel");
    result.expect_err("a cancelled list fails")
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_after_retries() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let client = Client::new(ClientConfig {
        endpoint: Some(format!("http://{addr}/")),
        max_retries: 2,
        retry_base_delay: Duration::from_millis(1),
        ..ClientConfig::new(PROJECT, token())
    })
    .unwrap();
    let e = client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert_eq!(e.retries(), 2);
    assert!(!e.is_status());
    assert!(e.hint().is_some());
}

/// A one-response-per-connection HTTPS server with a self-signed `localhost` certificate; also
/// returns how many connections it accepted.
async fn tls_server() -> (std::net::SocketAddr, String, Arc<AtomicUsize>) {
    use tokio::io::AsyncWriteExt;

    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = ck.cert.pem();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                if support::loopback::read_request_head(&mut s).await.is_none() {
                    return;
                }
                let body = r#"{"total_num":1,"data_list":[{"port":22,"type":"TCP"}]}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, cert_pem, connections)
}

#[tokio::test]
async fn tls_trusts_cacert_bundles_or_insecure() {
    let (addr, cert_pem, connections) = tls_server().await;
    let other = rcgen::generate_simple_self_signed(vec!["example.com".to_owned()]).unwrap().cert.pem();
    let base = ClientConfig {
        endpoint: Some(format!("https://localhost:{}", addr.port())),
        // The default retries, with back-off that would take seconds if they were used.
        max_retries: 5,
        retry_base_delay: Duration::from_millis(500),
        ..ClientConfig::new(PROJECT, token())
    };
    let cancel = CancellationToken::new();
    let q = PortQuery::new("h");

    // Not trusted (unknown issuer): a TLS error at once, not retried, saying how to fix it.
    let started = Instant::now();
    let e = Client::new(base.clone()).unwrap().list_ports(&q, &cancel).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(e.is_tls() && e.is_transport(), "{e}");
    assert_eq!(e.retries(), 0);
    assert_eq!(connections.load(Ordering::SeqCst), 1, "one handshake, no retry: {e}");
    assert!(elapsed < Duration::from_millis(400), "no back-off: {elapsed:?}");
    let text = e.to_string();
    for part in ["certificate", "UnknownIssuer", "cacert_file", "insecure"] {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }

    // Trusted through a PEM bundle holding several certificates.
    let bundle = format!("{other}{cert_pem}").into_bytes();
    let list = Client::new(ClientConfig { cacert_pem: Some(bundle), ..base.clone() })
        .unwrap()
        .list_ports(&q, &cancel)
        .await
        .unwrap();
    assert_eq!(list.ports.len(), 1);
    assert_eq!(list.ports[0].port, Some(22));

    // Verification off.
    let list = Client::new(ClientConfig { insecure: true, ..base }).unwrap().list_ports(&q, &cancel).await.unwrap();
    assert_eq!(list.total_num, 1);
}

#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Keeps this test's log capture on until dropped.
struct Capture {
    _guard: tracing::subscriber::DefaultGuard,
    _second: tracing::Dispatch,
}

/// Every tracing event of this test's thread, at TRACE, into a buffer, while the guard lives.
fn capture_logs() -> (LogBuffer, Capture) {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // With a single registered dispatcher, tracing lets whichever thread first hits a callsite
    // decide its interest from that thread's own subscriber: another test's thread, with none,
    // would switch the client's events off for good. A second dispatcher, kept alive for the
    // test, makes every callsite ask both.
    let second = tracing::Dispatch::new(tracing_subscriber::registry());
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    (logs, Capture { _guard: guard, _second: second })
}

#[tokio::test]
async fn secrets_never_reach_logs_or_errors() {
    const SECRET_KEY: &str = "SECRET-KEY-0123456789";
    const SESSION_TOKEN: &str = "SECURITY-TOKEN-0123456789";
    const IAM_TOKEN: &str = "IAM-TOKEN-0123456789";
    let (logs, _capture) = capture_logs();

    let sim = Simulator::start(SimConfig {
        project_id: PROJECT.into(),
        token: Some(IAM_TOKEN.into()),
        access_key: Some(AK.into()),
        secret_key: Some(SECRET_KEY.into()),
        generate: vec![("host-a".into(), 450)],
        faults: Faults { rate_5xx: 0.2, ..Default::default() },
        ..Default::default()
    })
    .await
    .unwrap();
    let cancel = CancellationToken::new();
    let q = PortQuery::new("host-a");
    let mut errors = Vec::new();
    for creds in [
        Credentials::Token(Secret::new(IAM_TOKEN.into())),
        Credentials::AkSk {
            access_key: AK.into(),
            secret_key: Secret::new(SECRET_KEY.into()),
            security_token: Some(Secret::new(SESSION_TOKEN.into())),
        },
        Credentials::AkSk {
            access_key: AK.into(),
            secret_key: Secret::new(format!("{SECRET_KEY}-wrong")),
            security_token: Some(Secret::new(SESSION_TOKEN.into())),
        },
    ] {
        let cfg = ClientConfig { max_retries: 10, ..config(&sim, creds) };
        let cfg_debug = format!("{cfg:?}");
        let client = Client::new(cfg).unwrap();
        match client.list_ports(&q, &cancel).await {
            Ok(list) => assert_eq!(list.ports.len(), 450),
            Err(e) => errors.push(format!("{e} {e:?}")),
        }
        errors.push(cfg_debug);
        errors.push(format!("{client:?}"));
    }
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("HSS request"), "debug logs were captured");
    assert!(errors.iter().any(|e| e.contains("401")));
    for text in errors.iter().chain(std::iter::once(&logs)) {
        for secret in [SECRET_KEY, SESSION_TOKEN, IAM_TOKEN, "Signature=", "SDK-HMAC-SHA256 Access"] {
            assert!(!text.contains(secret), "{secret:?} leaked into {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shifted pages (issue 10, item 1): a port closes and another opens between two page reads,
// `total_num` unchanged. The list must satisfy the invariant against the simulator's truth
// before and after the change: every record open throughout is in it, nothing that was never
// open, no duplicates. With one change, that means it is the host before or after it.

/// Checks the invariant (as multisets) and returns which version the list is, if either.
fn assert_invariant(what: &str, list: &[PortRecord], before: &[PortRecord], after: &[PortRecord]) -> &'static str {
    let (got, b, a) = (multiset(list), multiset(before), multiset(after));
    for (r, n) in &b {
        let throughout = (*n).min(a.get(r).copied().unwrap_or(0));
        assert!(got.get(r).copied().unwrap_or(0) >= throughout, "{what}: open throughout but missing: {r:?}");
    }
    for (r, n) in &got {
        let most = b.get(r).copied().unwrap_or(0).max(a.get(r).copied().unwrap_or(0));
        assert!(most > 0, "{what}: never open, yet listed: {r:?}");
        assert!(*n <= most, "{what}: listed {n} times, at most {most} copies existed: {r:?}");
    }
    if got == b {
        "before"
    } else if got == a {
        "after"
    } else {
        "neither"
    }
}

fn served(sim: &SimHandle, host: &str) -> Vec<PortRecord> {
    serde_json::from_value(serde_json::to_value(sim.ports(host)).unwrap()).unwrap()
}

#[tokio::test]
async fn a_shift_between_two_page_reads_is_caught_and_reread() {
    // One request at a time, in offset order: request k + 1 reads page k (offset 199·k).
    // (ports, removed at, inserted at, after request): both directions, at an early boundary
    // (199, between pages 0 and 1) and a late one (9,950, between pages 49 and 50 of 51).
    let cases = [(450, 50, 300, 1), (450, 300, 50, 1), (10_000, 9_900, 9_990, 50), (10_000, 9_990, 9_900, 50)];
    for (ports, remove_at, insert_at, after_request) in cases {
        let what =
            format!("{ports} ports, removed at {remove_at}, inserted at {insert_at}, after request {after_request}");
        let replace = Replace { after_request, remove_at, insert_at };
        let sim = start(vec![("host-a", ports)], Faults { replace: Some(replace), ..quiet() }).await;
        let before = served(&sim, "host-a");
        let client = Client::new(ClientConfig { max_concurrent_requests: 1, ..config(&sim, token()) }).unwrap();
        let list = client.list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap();
        let after = served(&sim, "host-a");
        assert_ne!(before, after, "{what}: the simulator changed the host");
        assert_eq!(after.len(), ports, "{what}: total_num unchanged");
        assert_eq!(assert_invariant(&what, &list.ports, &before, &after), "after", "{what}");
        // The first read straddled the change and was refused; the second was whole.
        let pages = (ports as u64 - 1).div_ceil(199);
        assert_eq!(sim.stats().requests, 2 * pages, "{what}: one refused read, one complete");
    }
}

#[tokio::test]
async fn every_shift_ends_with_the_host_before_or_after_it() {
    // Concurrent reads, the change after each request in turn, both directions, around each
    // boundary of a 1,000-port host (0, 199, 398, 597, 796, 995): whatever the interleaving,
    // the list is one version of the host.
    let mut versions = BTreeMap::new();
    for after_request in 1..=6 {
        for (remove_at, insert_at) in [(150, 250), (250, 150), (390, 410), (410, 390), (790, 990), (990, 790)] {
            let what = format!("removed at {remove_at}, inserted at {insert_at}, after request {after_request}");
            let replace = Replace { after_request, remove_at, insert_at };
            let sim = start(vec![("host-a", 1_000)], Faults { replace: Some(replace), ..quiet() }).await;
            let before = served(&sim, "host-a");
            let list = client(&sim).list_ports(&PortQuery::new("host-a"), &CancellationToken::new()).await.unwrap();
            let after = served(&sim, "host-a");
            let version = assert_invariant(&what, &list.ports, &before, &after);
            assert_ne!(version, "neither", "{what}");
            *versions.entry(version).or_insert(0) += 1;
        }
    }
    println!("versions returned: {versions:?}");
}

// ---------------------------------------------------------------------------------------------
// Identical records (item 2).

fn dup_record(port: u32, pid: u32) -> hss_sim::PortRecord {
    hss_sim::PortRecord {
        agent_id: "a".repeat(64),
        container_id: String::new(),
        host_id: "dups".into(),
        laddr: "0.0.0.0".into(),
        path: "/usr/sbin/nginx".into(),
        pid,
        port,
        status: "normal".into(),
        port_type: "TCP".into(),
    }
}

#[tokio::test]
async fn identical_records_are_kept_at_every_page_size() {
    // 450 records: 400 distinct, a record three times, and 24 pairs, shuffled by the simulator.
    let mut records: Vec<hss_sim::PortRecord> = (0..400).map(|i| dup_record(10_000 + i, 1)).collect();
    records.extend((0..3).map(|_| dup_record(443, 7)));
    for i in 0..23 {
        records.push(dup_record(20_000 + i, 2));
        records.push(dup_record(20_000 + i, 2));
    }
    records.push(dup_record(80, 3));
    assert_eq!(records.len(), 450);
    let sim = Simulator::start(SimConfig {
        project_id: PROJECT.into(),
        token: Some(TOKEN.into()),
        hosts: BTreeMap::from([("dups".to_owned(), records)]),
        seed: 3,
        ..Default::default()
    })
    .await
    .unwrap();
    let served = served(&sim, "dups");
    assert_eq!(served.len(), 450, "the simulator serves every copy");
    let client = Client::new(config(&sim, token())).unwrap();
    for page_size in [10, 11, 50, 100, 199, 200] {
        let q = PortQuery { page_size, ..PortQuery::new("dups") };
        let list = client
            .list_ports(&q, &CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("page size {page_size}: {e}"));
        assert_eq!(list.ports, served, "page size {page_size}: HSS's list, every copy, in order");
    }
}

// ---------------------------------------------------------------------------------------------
// Answers that are too large, cut short, of the wrong shape (item 3) and longer than the API can
// page through (item 9), from a scripted loopback server.

/// What the scripted server sends for one request.
#[derive(Clone)]
enum Answer {
    /// A whole response (head and body), then the connection is closed.
    Whole(Vec<u8>),
    /// `head` with `Content-Length: declared`, then only `sent` bytes of body, then close.
    Cut { declared: usize, sent: usize },
    /// A chunked 200 whose body goes on for `bytes` (or until the client hangs up).
    Endless { bytes: u64, declare: bool },
}

fn ok_json(body: &str, extra_headers: &str) -> Answer {
    Answer::Whole(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

struct Scripted {
    url: String,
    requests: Arc<AtomicUsize>,
}

/// Serves `answer(n)` to the `n`-th request (0-based), one request per connection.
async fn scripted(answer: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Scripted {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let (count, answer) = (requests.clone(), Arc::new(answer));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (count, answer) = (count.clone(), answer.clone());
            tokio::spawn(async move {
                if support::loopback::read_request_head(&mut s).await.is_none() {
                    return;
                }
                let n = count.fetch_add(1, Ordering::SeqCst);
                match answer(n) {
                    Answer::Whole(bytes) => {
                        let _ = s.write_all(&bytes).await;
                    }
                    Answer::Cut { declared, sent } => {
                        let head =
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n");
                        let _ = s.write_all(head.as_bytes()).await;
                        let _ = s
                            .write_all(&br#"{"total_num":1,"data_list":[{"port":22}]}"#.repeat(declared)[..sent])
                            .await;
                    }
                    Answer::Endless { bytes, declare } => {
                        let head = if declare {
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {bytes}\r\n\r\n")
                        } else {
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned()
                        };
                        if s.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let piece = vec![b' '; 64 * 1024];
                        let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
                        framed.extend_from_slice(&piece);
                        framed.extend_from_slice(b"\r\n");
                        let frame = if declare { &piece } else { &framed };
                        let mut sent = 0u64;
                        while sent < bytes {
                            if s.write_all(frame).await.is_err() {
                                return; // the client hung up
                            }
                            sent += piece.len() as u64;
                        }
                    }
                }
                let _ = s.shutdown().await;
            });
        }
    });
    Scripted { url, requests }
}

fn scripted_client(server: &Scripted, max_retries: u32) -> Client {
    Client::new(ClientConfig {
        endpoint: Some(server.url.clone()),
        max_retries,
        retry_base_delay: Duration::from_millis(1),
        retry_max_delay: Duration::from_millis(5),
        ..ClientConfig::new(PROJECT, Credentials::Token(Secret::new("scripted-server-token".into())))
    })
    .unwrap()
}

#[tokio::test]
async fn oversized_answers_are_refused_without_being_read_whole() {
    const GIB: u64 = 1 << 30;
    for declare in [true, false] {
        let server = scripted(move |_| Answer::Endless { bytes: GIB, declare }).await;
        let started = Instant::now();
        let e =
            scripted_client(&server, 3).list_ports(&PortQuery::new("h"), &CancellationToken::new()).await.unwrap_err();
        assert!(e.is_response_too_large(), "{e}");
        assert!(!e.is_incomplete());
        assert_eq!(server.requests.load(Ordering::SeqCst), 1, "not retried: {e}");
        let text = e.to_string();
        assert!(text.contains("larger than the 4 MiB limit"), "{text}");
        assert_eq!(text.contains("Content-Length 1073741824"), declare, "{text}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }
}

#[tokio::test]
async fn a_body_cut_short_is_retried() {
    let page = r#"{"total_num":1,"data_list":[{"port":22,"type":"TCP"}]}"#;
    // Cut once, then whole: the retry gets the list.
    let server =
        scripted(move |n| if n == 0 { Answer::Cut { declared: 200, sent: 20 } } else { ok_json(page, "") }).await;
    let list = scripted_client(&server, 3).list_ports(&PortQuery::new("h"), &CancellationToken::new()).await.unwrap();
    assert_eq!(list.ports.len(), 1);
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
    // Always cut: a transport error after the retries.
    let server = scripted(|_| Answer::Cut { declared: 200, sent: 20 }).await;
    let e = scripted_client(&server, 2).list_ports(&PortQuery::new("h"), &CancellationToken::new()).await.unwrap_err();
    assert!(e.is_transport() && !e.is_tls(), "{e}");
    assert_eq!((e.retries(), server.requests.load(Ordering::SeqCst)), (2, 3), "{e}");
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_not_retried_and_names_the_field() {
    for (body, field) in [
        (r#"{"total_num":2,"data_list":[{"port":22},{"port":"80"}]}"#, "data_list[1].port"),
        (r#"{"total_num":"2","data_list":[]}"#, "total_num"),
        (r#"{"data_list":[]}"#, "total_num"),
        (r#"{"total_num":1,"data_list":{"port":22}}"#, "data_list"),
    ] {
        let server = scripted(move |_| ok_json(body, "X-Request-Id: rid-shape\r\n")).await;
        let e =
            scripted_client(&server, 3).list_ports(&PortQuery::new("h"), &CancellationToken::new()).await.unwrap_err();
        assert!(e.is_unexpected_shape(), "{body}: {e}");
        assert_eq!(e.field(), Some(field), "{body}: {e}");
        assert_eq!((e.retries(), server.requests.load(Ordering::SeqCst)), (0, 1), "{body}: not retried");
        assert_eq!(e.request_id(), Some("rid-shape"));
        assert!(e.to_string().contains(&format!("unexpected shape: {field}: ")), "{e}");
    }
}

#[tokio::test]
async fn null_data_list_with_total_zero_is_an_empty_page() {
    let server = scripted(|_| ok_json(r#"{"data_list":null,"total_num":0}"#, "")).await;
    let list = scripted_client(&server, 3).list_ports(&PortQuery::new("h"), &CancellationToken::new()).await.unwrap();
    assert_eq!((list.total_num, list.ports.len()), (0, 0));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_total_beyond_the_offset_limit_is_not_called_a_changing_list() {
    let records: Vec<String> = (0..200).map(|i| format!(r#"{{"port":{i},"type":"TCP"}}"#)).collect();
    let body = format!(r#"{{"total_num":5000000,"data_list":[{}]}}"#, records.join(","));
    let server = scripted(move |_| ok_json(&body, "")).await;
    let e = scripted_client(&server, 3).list_ports(&PortQuery::new("h"), &CancellationToken::new()).await.unwrap_err();
    assert!(e.is_too_many_records(), "{e}");
    let text = e.to_string();
    assert!(text.contains("total_num 5000000") && text.contains("maximum offset of 2000000"), "{text}");
    assert!(!text.contains("kept changing"), "{text}");
    assert!(e.hint().unwrap().contains("narrow the query"), "{text}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 1, "one page read, no re-read");
}

// ---------------------------------------------------------------------------------------------
// Secrets echoed by the server (item 8): in X-Request-Id, reaching DEBUG/TRACE logs; and short
// secrets.

#[tokio::test]
async fn a_token_echoed_in_x_request_id_reaches_no_log_and_no_error() {
    const ECHOED: &str = "echoed-token-0f1e2d3c4b5a";
    let (logs, _capture) = capture_logs();
    let header = format!("X-Request-Id: req-{ECHOED}\r\n");
    let page = r#"{"total_num":1,"data_list":[{"port":22}]}"#;
    let (ok_header, err_header) = (header.clone(), header.clone());
    let server = scripted(move |n| {
        if n == 0 {
            ok_json(page, &ok_header)
        } else {
            let body = format!(r#"{{"error_code":"APIGW.0301","error_msg":"bad token {ECHOED}"}}"#);
            Answer::Whole(
                format!(
                    "HTTP/1.1 401 Unauthorized\r\n{err_header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes(),
            )
        }
    })
    .await;
    let client = Client::new(ClientConfig {
        endpoint: Some(server.url.clone()),
        ..ClientConfig::new(PROJECT, Credentials::Token(Secret::new(ECHOED.into())))
    })
    .unwrap();
    let cancel = CancellationToken::new();
    client.list_ports(&PortQuery::new("h"), &cancel).await.unwrap();
    let e = client.list_ports(&PortQuery::new("h"), &cancel).await.unwrap_err();
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("request_id=\"req-***\""), "the request id is logged, scrubbed:\n{logs}");
    assert_eq!(e.request_id(), Some("req-***"));
    for text in [logs.as_str(), &e.to_string(), &format!("{e:?}")] {
        assert!(!text.contains(ECHOED), "leaked into {text}");
    }
}

#[tokio::test]
async fn short_secrets_are_redacted_down_to_four_characters_and_shorter_ones_warned_about() {
    for (secret, redacted) in [("t0k3", true), ("s3cr3t", true), ("abc", false)] {
        let body = format!(r#"{{"error_code":"X.1","error_msg":"echo {secret} echo"}}"#);
        let server = scripted(move |_| {
            Answer::Whole(
                format!(
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes(),
            )
        })
        .await;
        let client = Client::new(ClientConfig {
            endpoint: Some(server.url.clone()),
            ..ClientConfig::new(PROJECT, Credentials::Token(Secret::new(secret.into())))
        })
        .unwrap();
        let e = client.list_ports(&PortQuery::new("h"), &CancellationToken::new()).await.unwrap_err();
        assert_eq!(
            e.error_msg(),
            Some(if redacted { "echo *** echo".to_owned() } else { format!("echo {secret} echo") }).as_deref()
        );
        let warning = client.short_secret_warning();
        assert_eq!(warning.is_some(), !redacted, "{secret}: {warning:?}");
        if let Some(w) = warning {
            assert!(w.contains("shorter than 4 characters") && !w.contains(secret), "{w}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Proxies (item 5): with HTTP_PROXY, http_proxy and ALL_PROXY set in the real environment, a
// loopback endpoint is reached directly and the token never reaches the proxy. The variables are
// set in a child process (this test binary, run again for one test), not in this one.

const PROXY_CHILD: &str = "HSS_TEST_PROXY_CHILD_URLS";

/// The child's part: reads the reference host from each URL in `HSS_TEST_PROXY_CHILD_URLS`
/// with `Client::new`, which reads the process environment. Does nothing in a normal run.
#[tokio::test]
async fn proxy_child_reads_loopback_endpoints() {
    let Ok(urls) = std::env::var(PROXY_CHILD) else { return };
    for url in urls.split(' ') {
        let client = Client::new(ClientConfig {
            endpoint: Some(url.to_owned()),
            max_retries: 0,
            request_timeout: Duration::from_secs(10),
            ..ClientConfig::new(PROJECT, Credentials::Token(Secret::new("proxy-test-token-7d6c5b".into())))
        })
        .unwrap();
        let list = client
            .list_ports(&PortQuery::new(hss_sim::REFERENCE_HOST_ID), &CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(list.ports.len(), 2, "{url}");
    }
}

#[tokio::test]
async fn loopback_endpoints_are_reached_directly_whatever_the_proxy_variables() {
    let proxy = scripted(|_| {
        Answer::Whole(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec())
    })
    .await;
    let v4 = Simulator::start(SimConfig {
        project_id: PROJECT.into(),
        token: Some("proxy-test-token-7d6c5b".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let v6 = Simulator::start(SimConfig {
        listen: "[::1]:0".parse().unwrap(),
        project_id: PROJECT.into(),
        token: Some("proxy-test-token-7d6c5b".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let port = v4.addr().port();
    let urls = format!("{} http://localhost:{port} {}", v4.url(), v6.url());
    let exe = std::env::current_exe().unwrap();
    let mut child = tokio::process::Command::new(exe);
    child
        .args(["--exact", "proxy_child_reads_loopback_endpoints", "--nocapture", "--test-threads=1"])
        .env(PROXY_CHILD, &urls)
        .env("HTTP_PROXY", &proxy.url)
        .env("http_proxy", &proxy.url)
        .env("HTTPS_PROXY", &proxy.url)
        .env("ALL_PROXY", &proxy.url)
        .env("all_proxy", &proxy.url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), child.output()).await.expect("the child ends").unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{said}");
    assert!(said.contains("1 passed"), "the child ran its part: {said}");
    assert_eq!(proxy.requests.load(Ordering::SeqCst), 0, "nothing went to the proxy");
    assert_eq!(v4.stats().requests, 2, "127.0.0.1 and localhost reached the simulator");
    assert_eq!(v6.stats().requests, 1, "[::1] reached the simulator");
}
