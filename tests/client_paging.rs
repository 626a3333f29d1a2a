//! The HSS client against the embedded simulator: complete paging, exact request counts,
//! bounded concurrency, retries (429 with Retry-After, 5xx, dropped connections, malformed
//! bodies, timeouts), re-reading on drift, completeness errors, cancellation and both
//! authentication modes. Results are compared with the simulator's own data as a multiset.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hss_provider::hss::{Client, ClientConfig, Credentials, PortQuery, PortRecord, Secret, sign};
use hss_sim::{Drift, Faults, SimConfig, SimHandle, Simulator};
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
        let expected_requests = n.div_ceil(200).max(1) as u64;
        assert_eq!(sim.stats().requests, expected_requests, "{n} ports");
        let expected_offsets: Vec<u64> = (0..expected_requests).map(|i| i * 200).collect();
        assert_eq!(offsets(&sim), expected_offsets, "{n} ports");
        assert!(sim.queries().iter().all(|q| q.contains("limit=200")));
    }
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
    assert_eq!(sim.stats().requests, 10);

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
    assert_eq!(stats.requests, 50 + 25);
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
    // 10 requests at 20/s: the last starts at least 450 ms after the first.
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    let throttled = status_count(&sim, 429);
    sim.set_faults(quiet());
    let list = task.await.unwrap().expect("completes after the throttling stops");
    assert_eq!(multiset(&list.ports), truth(&sim, "host-a"));
    // With a 5 ms base back-off, only Retry-After explains a one second wait.
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(throttled, 1, "one 429, then a one-second wait");
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
    // Wait until both requests reached the simulator's counter.
    tokio::time::sleep(Duration::from_millis(50)).await;
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
        (Faults { rate_repeat_page: 1.0, ..quiet() }, "already returned by an earlier page"),
    ] {
        let sim = start(vec![("host-a", 450)], faults).await;
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
    assert_eq!(sim.queries(), vec![sign::canonical_query(&q.pairs(0))]);
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
    let client = client(&sim);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let e = client.list_ports(&PortQuery::new("host-a"), &cancel).await.unwrap_err();
    assert!(e.is_cancelled(), "{e}");
    assert!(started.elapsed() < Duration::from_secs(1));

    // Cancelling during a back-off sleep.
    sim.set_faults(Faults { rate_429: 1.0, retry_after_secs: Some(30), ..quiet() });
    let client =
        Client::new(ClientConfig { retry_max_delay: Duration::from_secs(60), ..config(&sim, token()) }).unwrap();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let e = client.list_ports(&PortQuery::new("host-a"), &cancel).await.unwrap_err();
    assert!(e.is_cancelled(), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
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

/// A one-response-per-connection HTTPS server with a self-signed `localhost` certificate.
async fn tls_server() -> (std::net::SocketAddr, String) {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
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
    (addr, cert_pem)
}

#[tokio::test]
async fn tls_trusts_cacert_bundles_or_insecure() {
    let (addr, cert_pem) = tls_server().await;
    let other = rcgen::generate_simple_self_signed(vec!["example.com".to_owned()]).unwrap().cert.pem();
    let base = ClientConfig {
        endpoint: Some(format!("https://localhost:{}", addr.port())),
        max_retries: 0,
        ..ClientConfig::new(PROJECT, token())
    };
    let cancel = CancellationToken::new();
    let q = PortQuery::new("h");

    // Not trusted: a transport error naming the TLS problem, not retried.
    let e = Client::new(base.clone()).unwrap().list_ports(&q, &cancel).await.unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert!(e.to_string().contains("certificate"), "{e}");
    assert_eq!(e.retries(), 0);

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

#[tokio::test]
async fn secrets_never_reach_logs_or_errors() {
    const SECRET_KEY: &str = "SECRET-KEY-0123456789";
    const SESSION_TOKEN: &str = "SECURITY-TOKEN-0123456789";
    const IAM_TOKEN: &str = "IAM-TOKEN-0123456789";
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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
