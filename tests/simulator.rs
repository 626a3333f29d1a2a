//! The `hss-sim` simulator over real HTTP with a reqwest client: validation, paging, order,
//! filters, both authentication modes (signed by the provider's signer), every fault, the counters
//! and keep-alive. The command line is tested in `hss-sim/tests/cli.rs`.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use hss_provider::hss::sign;
use hss_sim::{
    Drift, Faults, HostMeta, MAX_GENERATED_PER_HOST, PortRecord, REFERENCE_HOST_ID, Replace, SimConfig, SimHandle,
    Simulator,
};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROJECT: &str = "0123456789abcdef0123456789abcdef";

struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    fn records(&self) -> Vec<PortRecord> {
        serde_json::from_value(self.json()["data_list"].clone()).expect("data_list holds port records")
    }

    fn total(&self) -> u64 {
        self.json()["total_num"].as_u64().expect("total_num is an integer")
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("client builds")
}

async fn start(cfg: SimConfig) -> SimHandle {
    Simulator::start(cfg).await.expect("simulator starts")
}

async fn start_gen(hosts: &[(&str, usize)], faults: Faults) -> SimHandle {
    start(SimConfig {
        generate: hosts.iter().map(|(h, n)| (h.to_string(), *n)).collect(),
        seed: 7,
        faults,
        ..Default::default()
    })
    .await
}

async fn send(req: reqwest::RequestBuilder) -> Resp {
    let r = req.send().await.expect("request succeeds at the HTTP level");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await.expect("body is read").to_vec();
    Resp { status, headers, body }
}

fn ports_url(sim: &SimHandle, query: &str) -> String {
    format!("{}/v5/{PROJECT}/asset/ports?{query}", sim.url())
}

async fn get(sim: &SimHandle, query: &str) -> Resp {
    send(http().get(ports_url(sim, query))).await
}

fn assert_error(r: &Resp, status: u16, code: &str, mentions: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error_code"], code, "{v}");
    let msg = v["error_msg"].as_str().expect("error_msg is a string");
    assert!(msg.contains(mentions), "{msg:?} should mention {mentions:?}");
}

#[tokio::test]
async fn validation_errors_name_the_parameter() {
    let sim = start_gen(&[("h", 5)], Faults::default()).await;
    let long = |n: usize| "x".repeat(n);
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "host_id"),
        ("limit=10".into(), "host_id"),
        ("host_id=".into(), "host_id"),
        (format!("host_id={}", long(129)), "host_id"),
        (format!("host_id=h&host_name={}", long(129)), "host_name"),
        (format!("host_id=h&host_ip={}", long(129)), "host_ip"),
        (format!("host_id=h&enterprise_project_id={}", long(257)), "enterprise_project_id"),
        ("host_id=h&limit=9".into(), "limit"),
        ("host_id=h&limit=201".into(), "limit"),
        ("host_id=h&limit=ten".into(), "limit"),
        ("host_id=h&limit=10.0".into(), "limit"),
        ("host_id=h&offset=-1".into(), "offset"),
        ("host_id=h&offset=2000001".into(), "offset"),
        ("host_id=h&offset=1e3".into(), "offset"),
        ("host_id=h&port=0".into(), "port"),
        ("host_id=h&port=65536".into(), "port"),
        ("host_id=h&port=ssh".into(), "port"),
        ("host_id=h&type=tcp".into(), "type"),
        ("host_id=h&type=ICMP".into(), "type"),
        ("host_id=h&status=normal".into(), "status"),
        // The API spells the status `unknow` in responses, but refuses it as a filter.
        ("host_id=h&status=unknow".into(), "status"),
        ("host_id=h&category=all".into(), "category"),
    ];
    for (query, param) in &cases {
        let r = get(&sim, query).await;
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        let v = r.json();
        assert!(v["error_code"].as_str().is_some_and(|c| !c.is_empty()), "{v}");
        let msg = v["error_msg"].as_str().unwrap_or_default();
        assert!(msg.contains(param), "{query}: {msg:?} should name {param}");
        assert!(r.header("x-request-id").is_some());
    }
    // Boundaries and the documented alternatives are accepted; unknown parameters are ignored.
    for query in [
        format!("host_id={}", long(128)),
        "host_id=h&limit=10&offset=0".into(),
        "host_id=h&limit=200&offset=2000000".into(),
        "host_id=h&port=1&type=UDP&status=unknown".into(),
        "host_id=h&port=65535&type=TCP&status=danger&category=container".into(),
        "host_id=h&status=unknown&enterprise_project_id=all_granted_eps&category=host".into(),
        format!("host_id=h&host_name={}&host_ip={}", long(128), long(128)),
        "host_id=h&hlimit=3&bogus".into(),
    ] {
        let r = get(&sim, &query).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text());
    }
    assert_eq!(sim.stats().status_counts.get(&400), Some(&(cases.len() as u64)));
}

#[tokio::test]
async fn default_limit_paging_slices_and_stable_shuffled_order() {
    let sim = start_gen(&[("h", 45)], Faults::default()).await;
    let truth = sim.ports("h");
    assert_eq!(truth.len(), 45);

    // Default limit is 10, default offset 0.
    let first = get(&sim, "host_id=h").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.total(), 45);
    assert_eq!(first.records(), truth[..10].to_vec());
    // The typo of the reference's example request (`hlimit`) is an unknown parameter.
    assert_eq!(get(&sim, "hlimit=10&offset=0&host_id=h").await.records().len(), 10);

    // Pages are exact slices of the served order; the last one is short, past the end is empty.
    let mut all = Vec::new();
    for offset in (0..45).step_by(10) {
        let r = get(&sim, &format!("host_id=h&limit=10&offset={offset}")).await;
        assert_eq!(r.total(), 45);
        let page = r.records();
        assert_eq!(page, truth[offset..(offset + 10).min(45)].to_vec(), "offset {offset}");
        all.extend(page);
    }
    assert_eq!(all, truth);
    assert_eq!(get(&sim, "host_id=h&limit=200").await.records(), truth);
    assert_eq!(get(&sim, "host_id=h&limit=20&offset=40").await.records(), truth[40..].to_vec());
    let past = get(&sim, "host_id=h&offset=45").await;
    assert_eq!((past.total(), past.records().len()), (45, 0));

    // The order is shuffled (not sorted by port) yet stable across requests.
    let ports: Vec<u32> = truth.iter().map(|r| r.port).collect();
    let mut sorted = ports.clone();
    sorted.sort_unstable();
    assert_ne!(ports, sorted);
    assert_eq!(get(&sim, "host_id=h&limit=200").await.records(), truth);

    // Records are unique and well formed.
    let keys: BTreeSet<_> = truth.iter().map(|r| (r.laddr.clone(), r.port, r.port_type.clone())).collect();
    assert_eq!(keys.len(), 45);
    assert!(truth.iter().all(|r| r.host_id == "h" && r.agent_id.len() == 64 && r.container_id.is_empty()));

    // Same seed, same data and order; another seed, another order.
    let again = start_gen(&[("h", 45)], Faults::default()).await;
    assert_eq!(again.ports("h"), truth);
    let other = start(SimConfig { generate: vec![("h".into(), 45)], seed: 8, ..Default::default() }).await;
    assert_ne!(other.ports("h"), truth);
}

#[tokio::test]
async fn reference_host_serves_the_example_response() {
    let sim = start(SimConfig::default()).await;
    let r = get(&sim, &format!("limit=10&offset=0&host_id={REFERENCE_HOST_ID}")).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    let agent = "eb5d03f02fffd85aaf5d0ba5c992d97713244f420e0b076dcf6ae0574c78aa4b";
    let record = |laddr: &str, path: &str, pid: u32, port: u32| {
        json!({
            "agent_id": agent, "container_id": "", "host_id": REFERENCE_HOST_ID, "laddr": laddr,
            "path": path, "pid": pid, "port": port, "status": "unknow", "type": "UDP"
        })
    };
    assert_eq!(
        r.json(),
        json!({
            "data_list": [
                record("0.0.0.0", "/usr/sbin/dhclient", 1507, 68),
                record("127.0.0.1", "/usr/sbin/chronyd", 493, 323),
            ],
            "total_num": 2
        })
    );
    assert_eq!(sim.ports(REFERENCE_HOST_ID), r.records());

    // An unknown host is an empty success.
    let none = get(&sim, "host_id=no-such-host").await;
    assert_eq!((none.status, none.json()), (200, json!({"data_list": [], "total_num": 0})));
}

#[tokio::test]
async fn filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("hosts.json");
    let rec = |port: u32, ty: &str, status: &str, container: &str| {
        json!({"port": port, "type": ty, "status": status, "container_id": container, "laddr": "0.0.0.0",
               "path": "/usr/bin/x", "pid": 100 + port, "agent_id": "a".repeat(64)})
    };
    let data = json!({"web": [
        rec(22, "TCP", "normal", ""),
        rec(53, "UDP", "danger", ""),
        rec(53, "TCP", "unknow", ""),
        rec(8080, "TCP", "danger", "c0ffee"),
        rec(9090, "UDP", "normal", "c0ffee"),
    ]});
    std::fs::write(&fixture, data.to_string()).expect("fixture written");
    let sim = start(SimConfig { fixture: Some(fixture), seed: 3, ..Default::default() }).await;
    assert_eq!(sim.ports("web").len(), 5);

    let ports =
        |r: Resp| -> BTreeSet<(u32, String)> { r.records().into_iter().map(|p| (p.port, p.port_type)).collect() };
    let set = |v: &[(u32, &str)]| -> BTreeSet<(u32, String)> { v.iter().map(|(p, t)| (*p, t.to_string())).collect() };
    // Default category=host: only records without a container ID.
    assert_eq!(ports(get(&sim, "host_id=web").await), set(&[(22, "TCP"), (53, "UDP"), (53, "TCP")]));
    assert_eq!(ports(get(&sim, "host_id=web&category=container").await), set(&[(8080, "TCP"), (9090, "UDP")]));
    assert_eq!(ports(get(&sim, "host_id=web&port=53").await), set(&[(53, "UDP"), (53, "TCP")]));
    assert_eq!(ports(get(&sim, "host_id=web&type=UDP").await), set(&[(53, "UDP")]));
    assert_eq!(ports(get(&sim, "host_id=web&status=danger").await), set(&[(53, "UDP")]));
    assert_eq!(ports(get(&sim, "host_id=web&status=unknown").await), set(&[(53, "TCP")]));
    assert_eq!(get(&sim, "host_id=web&status=unknow").await.status, 400, "the response spelling is not a filter");
    assert_eq!(
        ports(get(&sim, "host_id=web&category=container&status=danger&type=TCP&port=8080").await),
        set(&[(8080, "TCP")])
    );
    let filtered = get(&sim, "host_id=web&port=53&type=UDP").await;
    assert_eq!(filtered.total(), 1, "total_num counts the filtered records");

    // host_name / host_ip are substring matches against the host's deterministic metadata.
    let meta = HostMeta::for_host("web");
    let enc = |s: &str| sign::escape(s);
    assert_eq!(get(&sim, &format!("host_id=web&host_name={}", enc(&meta.name))).await.total(), 3);
    assert_eq!(get(&sim, &format!("host_id=web&host_ip={}", enc(&meta.ip))).await.total(), 3);
    assert_eq!(get(&sim, "host_id=web&host_name=someone-else").await.total(), 0);
    assert_eq!(get(&sim, "host_id=web&host_ip=203.0.113.9").await.total(), 0);
}

#[tokio::test]
async fn query_values_are_percent_decoded_with_literal_plus() {
    let sim = start_gen(&[("a+b", 3), ("a b", 4)], Faults::default()).await;
    assert_eq!(get(&sim, "host_id=a+b").await.total(), 3);
    assert_eq!(get(&sim, "host_id=a%2Bb").await.total(), 3);
    assert_eq!(get(&sim, "host_id=a%20b").await.total(), 4);
    assert_eq!(get(&sim, "%68ost_id=a%20b&limit=%31%30").await.total(), 4);
    assert_eq!(sim.queries(), ["host_id=a+b", "host_id=a%2Bb", "host_id=a%20b", "%68ost_id=a%20b&limit=%31%30"]);
}

#[tokio::test]
async fn wrong_project_and_other_paths() {
    let sim = start(SimConfig::default()).await;
    let base = sim.url();
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with('/'));
    assert_eq!(base, format!("http://{}", sim.addr()));
    let r = send(http().get(format!("{base}/v5/other-project/asset/ports?host_id=h"))).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.json()["error_code"].as_str().is_some_and(|c| !c.is_empty()));
    for path in ["/", "/v5/", "/v3/{P}/asset/ports", "/v5/{P}/asset/ports/extra", "/v5/{P}/asset/port"] {
        let r = send(http().get(format!("{base}{}?host_id=h", path.replace("{P}", PROJECT)))).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.json()["error_msg"].is_string(), "{path}");
        assert!(r.header("x-request-id").is_some());
    }
    let r = send(http().post(ports_url(&sim, "host_id=h"))).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn token_authentication() {
    let secret = "tok-9f8e7d";
    let sim = start(SimConfig { token: Some(secret.into()), ..Default::default() }).await;
    let url = ports_url(&sim, &format!("host_id={REFERENCE_HOST_ID}"));
    let ok = send(http().get(&url).header("X-Auth-Token", secret)).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.total(), 2);
    for wrong in [None, Some("tok-wrong"), Some("")] {
        let mut req = http().get(&url);
        if let Some(t) = wrong {
            req = req.header("X-Auth-Token", t);
        }
        let r = send(req).await;
        assert_error(&r, 401, "APIGW.0301", "Incorrect IAM authentication information");
        assert!(!r.text().contains(secret) && !r.text().contains("tok-wrong"), "{}", r.text());
        assert!(r.header("x-request-id").is_some());
    }
    assert_eq!(sim.stats().status_counts.get(&401), Some(&3));
}

/// Signs a GET the way the client does and returns the request builder.
fn signed_get(sim: &SimHandle, ak: &str, sk: &str, pairs: &[(&str, &str)], at: SystemTime) -> reqwest::RequestBuilder {
    signed_get_with_suffix(sim, ak, sk, pairs, at, "")
}

/// [`signed_get`], with `suffix` appended to the URL's query after signing.
fn signed_get_with_suffix(
    sim: &SimHandle,
    ak: &str,
    sk: &str,
    pairs: &[(&str, &str)],
    at: SystemTime,
    suffix: &str,
) -> reqwest::RequestBuilder {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let query = sign::canonical_query(&pairs);
    let path = format!("/v5/{PROJECT}/asset/ports");
    let host = sim.addr().to_string();
    let date = sign::sdk_date(at);
    let headers = vec![("Host".to_string(), host), ("X-Sdk-Date".to_string(), date.clone())];
    let (canonical, signed_headers) = sign::canonical_request("GET", &path, &query, &headers, b"");
    let sig = sign::signature(sk, &date, &canonical);
    let authorization = format!("{} Access={ak}, SignedHeaders={signed_headers}, Signature={sig}", sign::ALGORITHM);
    http()
        .get(format!("{}{path}?{query}{suffix}", sim.url()))
        .header("X-Sdk-Date", date)
        .header("Authorization", authorization)
}

#[tokio::test]
async fn ak_sk_signatures_are_verified() {
    let (ak, sk) = ("AKEXAMPLE", "SK-very-secret");
    let sim = start(SimConfig {
        access_key: Some(ak.into()),
        secret_key: Some(sk.into()),
        generate: vec![("my host+1/é".into(), 12)],
        ..Default::default()
    })
    .await;
    let now = SystemTime::now();
    let pairs = [("host_id", "my host+1/é"), ("limit", "10"), ("offset", "0"), ("type", "TCP")];
    let ok = send(signed_get(&sim, ak, sk, &pairs, now)).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(ok.records().iter().all(|r| r.host_id == "my host+1/é" && r.port_type == "TCP"));

    let cases = [
        ("wrong SK", signed_get(&sim, ak, "SK-guess", &pairs, now)),
        ("wrong AK", signed_get(&sim, "AKOTHER", sk, &pairs, now)),
        ("16 min old", signed_get(&sim, ak, sk, &pairs, now - Duration::from_secs(16 * 60))),
        ("16 min ahead", signed_get(&sim, ak, sk, &pairs, now + Duration::from_secs(16 * 60))),
        ("no auth", http().get(ports_url(&sim, "host_id=h"))),
        ("token instead", http().get(ports_url(&sim, "host_id=h")).header("X-Auth-Token", sk)),
    ];
    for (what, req) in cases {
        let r = send(req).await;
        assert_error(&r, 401, "APIGW.0301", "Incorrect IAM authentication information");
        assert!(!r.text().contains(sk), "{what}: {}", r.text());
    }
    // The query as received is what gets verified: tampering breaks the signature.
    let tampered = signed_get_with_suffix(&sim, ak, sk, &pairs, now, "&port=22");
    assert_error(&send(tampered).await, 401, "APIGW.0301", "signature");
    // Within the 15 minute window is fine.
    let skewed = send(signed_get(&sim, ak, sk, &pairs, now - Duration::from_secs(14 * 60))).await;
    assert_eq!(skewed.status, 200);
}

#[tokio::test]
async fn auth_and_validation_come_before_faults() {
    let faults = Faults { rate_429: 1.0, retry_after_secs: Some(3), ..Default::default() };
    let sim = start(SimConfig { token: Some("t".into()), faults, ..Default::default() }).await;
    let r = send(http().get(ports_url(&sim, "host_id=h"))).await;
    assert_eq!(r.status, 401);
    let r = send(http().get(ports_url(&sim, "host_id=h&limit=5")).header("X-Auth-Token", "t")).await;
    assert_eq!(r.status, 400);
    let r = send(http().get(ports_url(&sim, "host_id=h")).header("X-Auth-Token", "t")).await;
    assert_eq!(r.status, 429);
    assert_eq!(sim.stats().faults_injected, 1);
}

#[tokio::test]
async fn throttling_with_and_without_retry_after() {
    let sim = start_gen(&[("h", 5)], Faults { rate_429: 1.0, retry_after_secs: Some(7), ..Default::default() }).await;
    let r = get(&sim, "host_id=h").await;
    assert_error(&r, 429, "APIGW.0308", "");
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));
    sim.set_faults(Faults { rate_429: 1.0, ..Default::default() });
    let r = get(&sim, "host_id=h").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), None);
    sim.set_faults(Faults::default());
    assert_eq!(get(&sim, "host_id=h").await.status, 200);
    let s = sim.stats();
    assert_eq!((s.requests, s.faults_injected), (3, 2));
    assert_eq!(s.status_counts.get(&429), Some(&2));
}

#[tokio::test]
async fn server_errors_and_determinism() {
    let sim = start_gen(&[("h", 5)], Faults { rate_5xx: 1.0, ..Default::default() }).await;
    let mut seen = BTreeSet::new();
    for _ in 0..30 {
        let r = get(&sim, "host_id=h").await;
        assert!(r.json()["error_code"].is_string());
        seen.insert(r.status);
    }
    assert!(seen.is_subset(&BTreeSet::from([500, 502, 503, 504])), "{seen:?}");
    assert!(seen.len() >= 2, "{seen:?}");

    // A partial rate hits about that share of requests, identically for the same seed.
    let statuses = |sim: SimHandle| async move {
        let mut v = Vec::new();
        for _ in 0..100 {
            v.push(get(&sim, "host_id=h").await.status);
        }
        v
    };
    let half = Faults { rate_5xx: 0.5, ..Default::default() };
    let a = statuses(start_gen(&[("h", 5)], half.clone()).await).await;
    let b = statuses(start_gen(&[("h", 5)], half).await).await;
    assert_eq!(a, b);
    let errors = a.iter().filter(|s| **s >= 500).count();
    assert!((25..=75).contains(&errors), "{errors}");
}

#[tokio::test]
async fn malformed_bodies() {
    let sim = start_gen(&[("h", 25)], Faults { rate_malformed: 1.0, ..Default::default() }).await;
    for q in ["host_id=h", "host_id=nobody"] {
        let r = get(&sim, q).await;
        assert_eq!(r.status, 200);
        assert!(!r.body.is_empty());
        assert!(serde_json::from_slice::<Value>(&r.body).is_err(), "{}", r.text());
    }
    assert_eq!(sim.stats().faults_injected, 2);
}

#[tokio::test]
async fn dropped_connections_are_connection_errors() {
    let sim = start_gen(&[("h", 5)], Faults { rate_drop: 1.0, ..Default::default() }).await;
    let err = http().get(ports_url(&sim, "host_id=h")).send().await.expect_err("connection is dropped");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert!(err.status().is_none());
    let s = sim.stats();
    assert_eq!((s.requests, s.faults_injected, s.in_flight), (1, 1, 0));
    assert!(s.status_counts.is_empty(), "{:?}", s.status_counts);
    sim.set_faults(Faults::default());
    assert_eq!(get(&sim, "host_id=h").await.status, 200);
}

#[tokio::test]
async fn repeated_and_short_pages() {
    let sim = start_gen(&[("h", 25)], Faults { rate_repeat_page: 1.0, ..Default::default() }).await;
    let truth = sim.ports("h");
    // The second page serves the first page's records, the first page the second's.
    let r = get(&sim, "host_id=h&offset=10").await;
    assert_eq!((r.total(), r.records()), (25, truth[..10].to_vec()));
    let r = get(&sim, "host_id=h&offset=0").await;
    assert_eq!(r.records(), truth[10..20].to_vec());
    assert_eq!(sim.stats().faults_injected, 2);

    sim.set_faults(Faults { rate_short_page: 1.0, ..Default::default() });
    for offset in [0, 10] {
        let r = get(&sim, &format!("host_id=h&offset={offset}")).await;
        assert_eq!(r.total(), 25);
        let page = r.records();
        assert!(page.len() < 10, "offset {offset}: {} records", page.len());
        assert_eq!(page, truth[offset..offset + page.len()].to_vec());
    }
    assert_eq!(sim.stats().faults_injected, 4);
}

#[tokio::test]
async fn drift_once_and_always() {
    let sim = start_gen(&[("h", 25)], Faults { drift: Drift::Once, ..Default::default() }).await;
    assert_eq!(get(&sim, "host_id=h&offset=0").await.total(), 25);
    assert_eq!(get(&sim, "host_id=h&offset=10").await.total(), 26);
    assert_eq!(sim.ports("h").len(), 26);
    assert_eq!(get(&sim, "host_id=h&offset=0").await.total(), 26);
    assert_eq!(get(&sim, "host_id=h&offset=20").await.total(), 26);
    assert_eq!(get(&sim, &format!("host_id={REFERENCE_HOST_ID}")).await.total(), 2);
    assert_eq!(get(&sim, &format!("host_id={REFERENCE_HOST_ID}&offset=10")).await.total(), 3);

    let sim = start_gen(&[("h", 25)], Faults { drift: Drift::Always, ..Default::default() }).await;
    let totals: Vec<u64> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(get(&sim, "host_id=h&limit=200").await.total());
        }
        v
    };
    assert!(totals.windows(2).all(|w| w[0] != w[1]), "{totals:?}");
    assert!(sim.stats().faults_injected >= 5);
}

#[tokio::test]
async fn latency_counters_request_ids_and_control_paths() {
    let sim = start_gen(&[("h", 5)], Faults { latency: Duration::from_millis(300), ..Default::default() }).await;
    let started = Instant::now();
    let client = http();
    let futs = (0..4).map(|i| send(client.get(ports_url(&sim, &format!("host_id=h&offset={i}")))));
    let resps = futures_util::future::join_all(futs).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(resps.iter().all(|r| r.status == 200));
    let ids: BTreeSet<String> = resps.iter().filter_map(|r| r.header("x-request-id")).collect();
    assert_eq!(ids.len(), 4, "request IDs are present and distinct");

    let s = sim.stats();
    assert_eq!(s.requests, 4);
    assert_eq!(s.in_flight, 0);
    assert!(s.max_in_flight >= 3, "{s:?}");
    assert_eq!(s.status_counts.get(&200), Some(&4));
    let mut queries = sim.queries();
    queries.sort();
    assert_eq!(queries, ["host_id=h&offset=0", "host_id=h&offset=1", "host_id=h&offset=2", "host_id=h&offset=3"]);

    // Control paths report the same, are not counted themselves and need no latency.
    let stats = send(client.get(format!("{}/_sim/stats", sim.url()))).await;
    assert_eq!(stats.status, 200);
    assert!(stats.header("x-request-id").is_some());
    let v = stats.json();
    assert_eq!((v["requests"].as_u64(), v["status_counts"]["200"].as_u64()), (Some(4), Some(4)));
    let q = send(client.get(format!("{}/_sim/queries", sim.url()))).await.json();
    assert_eq!(q.as_array().map(Vec::len), Some(4));
    assert_eq!(sim.stats().requests, 4);

    sim.reset_stats();
    assert_eq!(sim.stats().requests, 0);
    assert!(sim.queries().is_empty());
    assert_eq!(send(client.get(format!("{}/_sim/nothing", sim.url()))).await.status, 404);
}

/// Reads one HTTP/1.1 response with a Content-Length body from a raw socket.
async fn read_response(sock: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .expect("content-length");
            if buf.len() >= end + 4 + len {
                return String::from_utf8_lossy(&buf[..end + 4 + len]).into_owned();
            }
        }
        let n = sock.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed early");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn keep_alive_serves_several_requests_per_connection() {
    let sim = start_gen(&[("h", 5)], Faults::default()).await;
    let mut sock = tokio::net::TcpStream::connect(sim.addr()).await.expect("connect");
    for i in 0..3 {
        let req = format!("GET /v5/{PROJECT}/asset/ports?host_id=h&offset={i} HTTP/1.1\r\nHost: x\r\n\r\n");
        sock.write_all(req.as_bytes()).await.expect("write");
        let resp = read_response(&mut sock).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        assert!(resp.contains("\"total_num\":5"), "{resp}");
    }
    assert_eq!(sim.stats().requests, 3);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let sim = start(SimConfig::default()).await;
    let url = ports_url(&sim, "host_id=h");
    assert_eq!(send(http().get(&url)).await.status, 200);
    drop(sim);
    // The server task ends at its next poll after the drop; from then on nothing listens.
    support::wait::eventually_await(Duration::from_secs(10), "the simulator stops answering once dropped", || async {
        http().get(&url).send().await.is_err()
    })
    .await;
}

#[tokio::test]
async fn status_unknow_is_refused_with_the_apis_400() {
    let sim = start_gen(&[("h", 50)], Faults::default()).await;
    let r = get(&sim, "host_id=h&status=unknow").await;
    assert_error(&r, 400, "HSS.1001", "Invalid parameter 'status'");
    assert!(r.json()["error_msg"].as_str().unwrap().contains("danger or unknown"), "{}", r.text());
    let r = get(&sim, "host_id=h&status=unknown&limit=200").await;
    assert_eq!(r.status, 200);
    assert!(r.records().iter().all(|p| p.status == "unknow"), "records keep the response spelling");
}

/// The provider accepts `unknow` from the user (the response spelling) and sends `unknown`, which
/// is all the simulator, like the API, accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_sends_unknown_for_unknow() {
    use hss_provider::value::Value as TfValue;
    use support::grpc::{Provider, errors, s, text};
    const TOKEN: &str = "simulator-test-token-3c9d1e";
    let sim = start(SimConfig {
        project_id: PROJECT.into(),
        token: Some(TOKEN.into()),
        generate: vec![("h".into(), 300)],
        seed: 7,
        ..Default::default()
    })
    .await;
    let mut provider = Provider::start(&[]).await;
    let diags =
        provider.configure(&[("endpoint", s(&sim.url())), ("project_id", s(PROJECT)), ("token", s(TOKEN))]).await;
    assert!(errors(&diags).is_empty(), "{}", text(&diags));
    for status in ["unknow", "unknown"] {
        let state = provider
            .read(&[("host_id", s("h")), ("status", s(status))])
            .await
            .unwrap_or_else(|d| panic!("status = {status:?}: {}", text(&d)));
        let ports = state.get("ports").and_then(TfValue::as_elements).expect("ports");
        assert!(!ports.is_empty(), "{status}");
        assert!(ports.iter().all(|p| p.get("status").and_then(TfValue::as_str) == Some("unknow")), "{status}");
    }
    let queries = sim.queries();
    assert!(!queries.is_empty() && queries.iter().all(|q| q.ends_with("&status=unknown")), "{queries:?}");
}

#[tokio::test]
async fn replace_shifts_the_records_between_two_positions_once() {
    let replace = Replace { after_request: 2, remove_at: 5, insert_at: 15 };
    let sim = start_gen(&[("h", 25)], Faults { replace: Some(replace), ..Default::default() }).await;
    let before = sim.ports("h");
    // Requests 1 and 2 see the host as it was; the change comes right after request 2's page.
    assert_eq!(get(&sim, "host_id=h&limit=200").await.records(), before);
    assert_eq!(get(&sim, "host_id=h&limit=200").await.records(), before);
    let r = get(&sim, "host_id=h&limit=200").await;
    assert_eq!(r.total(), 25, "total_num unchanged");
    let after = r.records();
    assert_eq!(after, sim.ports("h"));
    assert_eq!(&after[..5], &before[..5]);
    assert_eq!(&after[5..15], &before[6..16], "moved one place towards the start");
    assert!(!before.contains(&after[15]), "a new record");
    assert_eq!(&after[16..], &before[16..]);
    assert_eq!(sim.stats().faults_injected, 1);
    // Once only.
    assert_eq!(get(&sim, "host_id=h&limit=200").await.records(), after);
    assert_eq!(sim.stats().faults_injected, 1);
}

#[test]
fn generate_entries_past_what_the_generator_can_make_are_refused_not_spun_on() {
    // Four entries of 100,000 for one host ask for more distinct records than the generator can
    // make: this used to spin forever. A bound on the wait turns a hang into a failure.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let cfg = SimConfig { generate: vec![("h".into(), MAX_GENERATED_PER_HOST); 4], ..Default::default() };
        let _ = tx.send(runtime.block_on(Simulator::start(cfg)).err().map(|e| (e.kind(), e.to_string())));
    });
    let refused = rx.recv_timeout(Duration::from_secs(60)).expect("Simulator::start returns within a minute");
    let (kind, message) = refused.expect("refused");
    assert_eq!(kind, std::io::ErrorKind::InvalidInput);
    assert!(message.contains("\"h\"") && message.contains("add up"), "{message}");
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let only_ak = SimConfig { access_key: Some("ak".into()), ..Default::default() };
    assert!(Simulator::start(only_ak).await.is_err());
    let missing = SimConfig { fixture: Some("/nonexistent/fixture.json".into()), ..Default::default() };
    assert_eq!(Simulator::start(missing).await.err().map(|e| e.kind()), Some(std::io::ErrorKind::NotFound));
    let reference = SimConfig { generate: vec![(REFERENCE_HOST_ID.into(), 3)], ..Default::default() };
    assert!(Simulator::start(reference).await.is_err());
}
