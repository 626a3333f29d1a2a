//! Resource bounds: a 10,000-record answer with 256-character paths is read whole; a 1 GiB HSS
//! answer (streamed or declared) is refused at the 4 MiB response limit with the provider's
//! memory under 64 MiB, also when eight such answers arrive at once; a gRPC message over the
//! 256 MiB limit is refused from its declared length, before any of it is buffered; configs
//! nested 10,000 deep or declaring billions of elements get a diagnostic, not a crash, and the
//! provider keeps serving with its memory bounded.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use hss_provider::value::{self, Number, Type, Value};
use hss_sim::{SimConfig, Simulator};
use tonic::codegen::http;
use tower::ServiceExt as _;

use support::grpc::{DATA_SOURCE, Provider, errors, s, text};
use support::plugin::{ClientAuth, pb};
use support::reliability::procs::peak_rss_kib;
use support::sim::{PROJECT, TOKEN};

const HOST: &str = "long-paths-host";
const RECORDS: usize = 10_000;
const PATH_LEN: usize = 256;

/// A 256-character executable path, unique per record.
fn long_path(i: usize) -> String {
    let head = format!("/opt/vendor/app-{i:05}/");
    format!("{head}{}", "x".repeat(PATH_LEN - head.len() - 4) + "/bin")
}

fn peak_mib(provider: &Provider) -> f64 {
    peak_rss_kib(provider.pid()).expect("VmHWM of the provider") as f64 / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_records_with_256_character_paths_are_read_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("hosts.json");
    let records: Vec<serde_json::Value> = (0..RECORDS)
        .map(|i| {
            serde_json::json!({
                "port": 1 + i,
                "type": if i % 2 == 0 { "TCP" } else { "UDP" },
                "laddr": "0.0.0.0",
                "pid": 1000 + i,
                "path": long_path(i),
                "status": "normal",
            })
        })
        .collect();
    std::fs::write(&fixture, serde_json::json!({ HOST: records }).to_string()).expect("write fixture");
    let cfg = SimConfig {
        project_id: PROJECT.into(),
        token: Some(TOKEN.into()),
        fixture: Some(fixture),
        ..Default::default()
    };
    let sim = Simulator::start(cfg).await.expect("simulator loads the fixture");
    let truth = sim.ports(HOST);
    assert_eq!(truth.len(), RECORDS);

    let mut provider = Provider::start(&[]).await;
    let diags =
        provider.configure(&[("endpoint", s(&sim.url())), ("project_id", s(PROJECT)), ("token", s(TOKEN))]).await;
    assert!(errors(&diags).is_empty(), "{}", text(&diags));
    let started = Instant::now();
    let state = provider.read(&[("host_id", s(HOST))]).await.unwrap_or_else(|d| panic!("{}", text(&d)));
    let elapsed = started.elapsed();

    let ports = state.get("ports").and_then(Value::as_elements).expect("ports");
    assert_eq!(ports.len(), RECORDS);
    let mut got: Vec<(i64, String)> = ports
        .iter()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_number).and_then(Number::as_i64).expect("port");
            (port, p.get("path").and_then(Value::as_str).expect("path").to_owned())
        })
        .collect();
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "sorted by port");
    assert!(got.iter().all(|(_, path)| path.len() == PATH_LEN), "every path whole");
    let mut want: Vec<(i64, String)> = truth.iter().map(|r| (i64::from(r.port), r.path.clone())).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "the simulator's records, exactly");

    let state_bytes = value::encode_msgpack(&state, &provider.data_source_type).expect("encode").len();
    let peak = peak_mib(&provider);
    println!(
        "10,000 records with 256-character paths: read in {:.2} s, state {:.1} MiB, provider peak RSS {peak:.0} MiB",
        elapsed.as_secs_f64(),
        state_bytes as f64 / (1 << 20) as f64
    );
    assert!(state_bytes > RECORDS * PATH_LEN, "the state holds every path");
    assert!(peak < 256.0, "the provider's memory stays bounded: {peak:.0} MiB");
}

/// A loopback HTTP server: request 0 gets `first` (a whole response), every later request a
/// 200 whose body goes on for 1 GiB (chunked, or with `Content-Length` when `declare`), as fast
/// as the client takes it, until the client hangs up. Returns the URL and the request count.
async fn gigabyte_server(
    first: Option<String>,
    declare: bool,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncWriteExt;
    const GIB: u64 = 1 << 30;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (count, first) = (count.clone(), first.clone());
            tokio::spawn(async move {
                if support::loopback::read_request_head(&mut s).await.is_none() {
                    return;
                }
                let n = count.fetch_add(1, Ordering::SeqCst);
                if let (0, Some(body)) = (n, &first) {
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                    return;
                }
                let head = if declare {
                    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {GIB}\r\n\r\n")
                } else {
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned()
                };
                // A JSON page whose one path never ends.
                let mut piece = br#"{"total_num":1,"data_list":[{"port":22,"path":""#.to_vec();
                piece.resize(256 * 1024, b'x');
                let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
                framed.extend_from_slice(&piece);
                framed.extend_from_slice(b"\r\n");
                let frame = if declare { piece } else { framed };
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut sent = 0u64;
                while sent < GIB {
                    if s.write_all(&frame).await.is_err() {
                        return; // the client hung up
                    }
                    sent += frame.len() as u64;
                }
            });
        }
    });
    (url, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_gigabyte_answer_is_refused_with_memory_bounded() {
    use std::sync::atomic::Ordering;
    let records: Vec<String> =
        (0..200).map(|i| format!(r#"{{"port":{},"type":"TCP","path":"{}"}}"#, i + 1, long_path(i))).collect();
    let page0 = format!(r#"{{"total_num":10000,"data_list":[{}]}}"#, records.join(","));
    let mut figures = Vec::new();
    // One answer of 1 GiB, streamed or declared; then page 0 fine and the 50 pages after it 1 GiB
    // each, read 8 at a time (max_concurrent_requests), streamed.
    for (what, first, declare, at_once) in [
        ("1 GiB streamed (chunked)", None, false, 1),
        ("1 GiB declared (Content-Length)", None, true, 1),
        ("8 answers of 1 GiB at once, streamed", Some(page0.clone()), false, 8),
    ] {
        let (url, requests) = gigabyte_server(first, declare).await;
        let mut provider = Provider::start(&[]).await;
        let diags = provider.configure(&[("endpoint", s(&url)), ("project_id", s(PROJECT)), ("token", s(TOKEN))]).await;
        assert!(errors(&diags).is_empty(), "{}", text(&diags));
        let started = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(60), provider.read(&[("host_id", s(HOST))]))
            .await
            .expect("the read ends within a minute");
        let elapsed = started.elapsed();
        let diags = result.expect_err("an oversized answer fails the read");
        let detail = text(&diags);
        assert!(detail.contains("larger than the 4 MiB limit"), "{what}: {detail}");
        assert!(!detail.contains("retries"), "{what}: not retried: {detail}");
        let peak = peak_mib(&provider);
        let served = requests.load(Ordering::SeqCst);
        if at_once == 1 {
            assert_eq!(served, 1, "{what}: one request, not retried");
        } else {
            assert!(served > 1 && served <= 1 + 50, "{what}: {served} requests");
        }
        println!(
            "{what}: refused in {} ms after {served} request(s); provider peak RSS {peak:.1} MiB",
            elapsed.as_millis()
        );
        figures.push((what, peak));
    }
    for (what, peak) in figures {
        assert!(peak < 64.0, "{what}: the provider's peak RSS stays under 64 MiB: {peak:.1} MiB");
    }
}

/// `grpc-message` is percent-encoded.
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A gRPC request whose frame declares `declared` bytes, followed by `sent` zero bytes; the
/// answer's `grpc-status` and message.
async fn raw_grpc(provider: &Provider, method: &str, declared: u32, sent: usize) -> (String, String) {
    let channel = provider.plugin.channel(ClientAuth::Tls(&provider.identity)).await.expect("channel");
    let mut frame = vec![0u8];
    frame.extend(declared.to_be_bytes());
    frame.resize(5 + sent, 0);
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://localhost/tfplugin6.Provider/{method}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(tonic::body::Body::new(http_body_util::Full::new(Bytes::from(frame))))
        .expect("request");
    let response = channel.oneshot(request).await.expect("an HTTP/2 answer");
    let header = |h: &http::HeaderMap, k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(percent_decoded);
    if let Some(status) = header(response.headers(), "grpc-status") {
        return (status, header(response.headers(), "grpc-message").unwrap_or_default());
    }
    use http_body_util::BodyExt as _;
    let collected = response.into_body().collect().await.expect("body");
    let trailers = collected.trailers().cloned().unwrap_or_default();
    (header(&trailers, "grpc-status").unwrap_or_default(), header(&trailers, "grpc-message").unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_256_mib_is_refused_from_its_declared_length() {
    let provider = Provider::start(&[]).await;
    let before = peak_mib(&provider);
    let started = Instant::now();
    let (status, message) = raw_grpc(&provider, "ConfigureProvider", (256 << 20) + 1, 64 * 1024).await;
    let elapsed = started.elapsed();
    assert_eq!(status, "11", "OUT_OF_RANGE: {message}");
    assert!(message.contains("too large"), "{message}");
    // A frame within the limit (here an empty message) is read and served.
    let (served, why) = raw_grpc(&provider, "ConfigureProvider", 0, 0).await;
    assert_eq!(served, "0", "a well-sized frame is served: {why}");
    let mut client = provider.client.clone();
    client.get_provider_schema(pb::get_provider_schema::Request {}).await.expect("still serving");
    let after = peak_mib(&provider);
    println!(
        "a frame declaring 256 MiB + 1 byte: refused in {} ms with OUT_OF_RANGE ({message}); provider peak RSS {before:.0} -> {after:.0} MiB",
        elapsed.as_millis()
    );
    assert!(after - before < 64.0, "nothing near the declared size was allocated: {before:.0} -> {after:.0} MiB");
}

/// `depth` nested one-element msgpack arrays around a nil.
fn nested_msgpack(depth: usize) -> Vec<u8> {
    let mut v = vec![0x91; depth];
    v.push(0xc0);
    v
}

/// `depth` nested JSON arrays.
fn nested_json(depth: usize) -> Vec<u8> {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

/// A msgpack map of one string key to `value`.
fn map_with(key: &str, value: &[u8]) -> Vec<u8> {
    let mut v = vec![0x81, 0xa0 | key.len() as u8];
    v.extend(key.as_bytes());
    v.extend(value);
    v
}

fn msgpack(bytes: Vec<u8>) -> pb::DynamicValue {
    pb::DynamicValue { msgpack: bytes, json: Vec::new() }
}

fn json(bytes: Vec<u8>) -> pb::DynamicValue {
    pb::DynamicValue { msgpack: Vec::new(), json: bytes }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_configs_get_a_diagnostic_not_a_crash() {
    let mut provider = Provider::start(&[]).await;
    let deep = 10_000;
    let inputs: Vec<(&str, pb::DynamicValue)> = vec![
        ("msgpack arrays nested 10,000 deep", msgpack(nested_msgpack(deep))),
        ("an attribute holding msgpack nested 10,000 deep", msgpack(map_with("token", &nested_msgpack(deep)))),
        ("JSON arrays nested 10,000 deep", json(nested_json(deep))),
        (
            "an attribute holding JSON nested 10,000 deep",
            json(format!("{{\"token\":{}}}", String::from_utf8_lossy(&nested_json(deep))).into_bytes()),
        ),
        ("a msgpack map declaring 4,294,967,295 entries", msgpack(vec![0xdf, 0xff, 0xff, 0xff, 0xff])),
        (
            "a msgpack array declaring 4,294,967,295 elements",
            msgpack(map_with("token", &[0xdd, 0xff, 0xff, 0xff, 0xff])),
        ),
        ("a msgpack string declaring 4 GiB", msgpack(map_with("token", &[0xdb, 0xff, 0xff, 0xff, 0xff]))),
    ];
    let started = Instant::now();
    for (what, input) in &inputs {
        let t = Instant::now();
        let configured = provider.configure_raw(input.clone()).await;
        let mut client = provider.client.clone();
        let validated = client
            .validate_provider_config(pb::validate_provider_config::Request { config: Some(input.clone()) })
            .await
            .expect("ValidateProviderConfig")
            .into_inner()
            .diagnostics;
        let data_validated = client
            .validate_data_resource_config(pb::validate_data_resource_config::Request {
                type_name: DATA_SOURCE.into(),
                config: Some(input.clone()),
            })
            .await
            .expect("ValidateDataResourceConfig")
            .into_inner()
            .diagnostics;
        let read = client
            .read_data_source(pb::read_data_source::Request {
                type_name: DATA_SOURCE.into(),
                config: Some(input.clone()),
                ..Default::default()
            })
            .await
            .expect("ReadDataSource")
            .into_inner();
        for (call, diags) in [
            ("ConfigureProvider", &configured),
            ("ValidateProviderConfig", &validated),
            ("ValidateDataResourceConfig", &data_validated),
            ("ReadDataSource", &read.diagnostics),
        ] {
            let errs = errors(diags);
            assert_eq!(errs.len(), 1, "{what}, {call}: one error diagnostic: {}", text(diags));
            assert!(errs[0].summary.starts_with("Cannot decode the"), "{what}, {call}: {}", text(diags));
        }
        assert!(read.state.is_none(), "{what}: no state");
        println!("{what}: 4 calls, 4 diagnostics in {} ms, e.g. {}", t.elapsed().as_millis(), text(&configured).trim());
    }
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let peak = peak_mib(&provider);
    println!("provider peak RSS after the hostile configs: {peak:.0} MiB");
    assert!(peak < 128.0, "no allocation followed a declared size: {peak:.0} MiB");
    let mut client = provider.client.clone();
    client.get_provider_schema(pb::get_provider_schema::Request {}).await.expect("still serving");
}

/// The same limits inside the library, where a `dynamic` value carries its own type: nesting
/// in the type JSON or in the value stops at the depth limit, with an error.
#[test]
fn dynamic_values_nested_10000_deep_are_refused() {
    let deep = 10_000;
    let mut type_json = String::new();
    for _ in 0..deep {
        type_json.push_str("[\"list\",");
    }
    type_json.push_str("\"string\"");
    type_json.push_str(&"]".repeat(deep));
    assert!(Type::from_json(type_json.as_bytes()).is_err(), "type JSON nested 10,000 deep");

    // A dynamic value: [type JSON, value] with a list type nested 10,000 deep.
    let mut wire = vec![0x92, 0xda];
    wire.extend((type_json.len() as u16).to_be_bytes());
    wire.extend(type_json.as_bytes());
    wire.extend(nested_msgpack(deep));
    assert!(value::decode_msgpack(&wire, &Type::Dynamic).is_err());

    // A value nested 10,000 deep under a type that allows nesting well past the limit.
    let mut ty = Type::String;
    for _ in 0..2 * value::MAX_DEPTH {
        ty = Type::list(ty);
    }
    let err = value::decode_msgpack(&nested_msgpack(deep), &ty).expect_err("too deep");
    assert!(err.to_string().contains("deep") || err.to_string().contains("nest"), "{err}");
}
