//! Criterion micro-benchmarks of the codec's hot paths, through the public API
//! (`hss_provider::value::*`, plus `hss_provider::hss::PortPage` for the API's JSON):
//!
//! - `encode_ports/N`: the `hss_host_ports` state with N ports to msgpack (the ReadDataSource
//!   answer), at N = 1,000, 10,000 and 100,000, so that a super-linear step would show as a time
//!   per port (criterion's throughput) that keeps rising with N;
//! - `decode_ports/N`: the same bytes back to a value;
//! - `decode_config/*`: a data source configuration and a provider configuration, as Terraform
//!   sends them in every ReadDataSource and ConfigureProvider call;
//! - `api_json_to_msgpack/N`: the whole read path after the network: N records of API JSON in
//!   pages of 200, parsed, checked for records repeated across pages, sorted, turned into the
//!   state value and encoded.
//!
//! Run with `cargo bench --bench codec`; `scripts/bench.sh` covers the end-to-end figures.
//! Types, state building, sorting and page assembly are the provider's own, reached through
//! `hss_provider::fuzzing`.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hss_provider::fuzzing;
use hss_provider::hss::{PortList, PortPage, PortRecord};
use hss_provider::value::{Type, Value, decode_msgpack, encode_msgpack};

fn data_source_type() -> Type {
    fuzzing::host_ports_type()
}

/// A realistic record: a host's port with its process, in the shape the API returns.
fn record(i: usize) -> PortRecord {
    PortRecord {
        host_id: Some("dd91cd32-a238-4c0e-bc01-3b11653714ac".into()),
        laddr: Some(if i.is_multiple_of(3) { "0.0.0.0".into() } else { format!("10.0.{}.{}", i / 250 % 250, i % 250) }),
        status: Some(if i.is_multiple_of(7) { "danger" } else { "normal" }.into()),
        port: Some((i % 65_535 + 1) as i64),
        port_type: Some(if i.is_multiple_of(2) { "TCP" } else { "UDP" }.into()),
        pid: Some((1000 + i * 7) as i64),
        path: Some(format!("/usr/lib/service-{}/bin/daemon", i % 97)),
        agent_id: Some("eb5d03f02fffd85aad8d7b2e0ac6b8e5a59ef4ab5bb8e5bb3f2f4f2a83b7c2f1".into()),
        container_id: Some(String::new()),
    }
}

/// The configuration Terraform sends: `host_id` set, every other argument and every computed
/// attribute null.
fn config_value() -> Value {
    let Type::Object(attrs) = data_source_type() else { unreachable!() };
    let mut map: BTreeMap<String, Value> = attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
    map.insert("host_id".into(), Value::from("dd91cd32-a238-4c0e-bc01-3b11653714ac"));
    Value::Object(map)
}

/// The state the data source returns for `records`, built by the data source's own code.
fn state_value(records: &[PortRecord]) -> Value {
    fuzzing::host_ports_state(&config_value(), PortList { total_num: records.len() as u64, ports: records.to_vec() })
        .expect("a valid configuration")
}

/// The API's JSON for `n` records, in pages of 200, as the HTTP client receives them: page k
/// starts at offset k·199, so that each page begins with the record the previous one ended with.
fn api_pages(n: usize) -> Vec<Vec<u8>> {
    let records: Vec<PortRecord> = (0..n).map(record).collect();
    (0..n.saturating_sub(1).div_ceil(199).max(1))
        .map(|k| {
            let page = records[k * 199..(k * 199 + 200).min(n)].to_vec();
            serde_json::to_vec(&PortPage { total_num: n as u64, data_list: page }).expect("page JSON")
        })
        .collect()
}

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// Fewer samples for the largest size, whose iterations take a large fraction of a second.
fn samples_for(n: usize) -> usize {
    if n >= 100_000 { 10 } else { 100 }
}

fn encode_ports(c: &mut Criterion) {
    let ty = data_source_type();
    let mut group = c.benchmark_group("encode_ports");
    for n in SIZES {
        let records: Vec<PortRecord> = (0..n).map(record).collect();
        let state = state_value(&records);
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(samples_for(n));
        group.bench_with_input(BenchmarkId::from_parameter(n), &state, |b, state| {
            b.iter(|| encode_msgpack(black_box(state), &ty).expect("encode"))
        });
    }
    group.finish();
}

fn decode_ports(c: &mut Criterion) {
    let ty = data_source_type();
    let mut group = c.benchmark_group("decode_ports");
    for n in SIZES {
        let records: Vec<PortRecord> = (0..n).map(record).collect();
        let bytes = encode_msgpack(&state_value(&records), &ty).expect("encode");
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(samples_for(n));
        group.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
            b.iter(|| decode_msgpack(black_box(bytes), &ty).expect("decode"))
        });
    }
    group.finish();
}

fn decode_config(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_config");
    let ds_ty = data_source_type();
    let ds = encode_msgpack(&config_value(), &ds_ty).expect("encode");
    group.bench_function("data_source", |b| b.iter(|| decode_msgpack(black_box(&ds), &ds_ty).expect("decode")));

    let p_ty = fuzzing::provider_type();
    let Type::Object(attrs) = &p_ty else { unreachable!() };
    let mut provider: BTreeMap<String, Value> = attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
    provider.insert("region".into(), Value::from("ap-southeast-1"));
    provider.insert("max_concurrent_requests".into(), Value::from(8i64));
    let provider = encode_msgpack(&Value::Object(provider), &p_ty).expect("encode");
    group.bench_function("provider", |b| b.iter(|| decode_msgpack(black_box(&provider), &p_ty).expect("decode")));
    group.finish();
}

fn api_json_to_msgpack(c: &mut Criterion) {
    let ty = data_source_type();
    let mut group = c.benchmark_group("api_json_to_msgpack");
    for n in SIZES {
        let pages = api_pages(n);
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(samples_for(n));
        group.bench_with_input(BenchmarkId::from_parameter(n), &pages, |b, pages| {
            b.iter(|| {
                let pages: Vec<(u64, PortPage)> = pages
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (i as u64 * 199, serde_json::from_slice(black_box(p)).expect("page")))
                    .collect();
                // The completeness check, sort and state building the provider runs.
                let list = fuzzing::assemble_pages(n as u64, 200, pages).expect("complete");
                encode_msgpack(&fuzzing::host_ports_state(&config_value(), list).expect("valid"), &ty).expect("encode")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encode_ports, decode_ports, decode_config, api_json_to_msgpack);
criterion_main!(benches);
