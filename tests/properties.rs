//! Property tests over the same entry points the fuzz targets in `fuzz/` use
//! (`hss_provider::fuzzing`), so that every `cargo test` feeds random input to the DynamicValue
//! decoders, the provider and data source config checks and the API response parser: no input
//! may panic, well-formed input must be accepted, and validation must follow the documented
//! ranges. A short run (a few hundred cases per property); the fuzz targets run far longer.

use std::collections::BTreeMap;

use hss_provider::fuzzing::{self, Verdict};
use hss_provider::hss::{PortPage, PortRecord};
use hss_provider::value::{self, Number, Type, Value};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngSeed};

/// The seed CI runs with, so that a commit passes or fails the same way every time.
/// `scripts/explore-properties.sh` runs with a fresh seed (and more cases) to look for new bugs.
const CI_SEED: u64 = 0x4853_535f_5345_4544;

/// `cases` cases from the fixed seed, unless `PROPTEST_RNG_SEED`/`PROPTEST_CASES` say otherwise.
/// Failures found while exploring are kept in `tests/properties.proptest-regressions`, which is
/// checked in, and replayed first on every run.
fn config(cases: u32) -> ProptestConfig {
    let from_env = ProptestConfig::default();
    let explicit = |name| std::env::var_os(name).is_some();
    ProptestConfig {
        cases: if explicit("PROPTEST_CASES") { from_env.cases } else { cases },
        rng_seed: if explicit("PROPTEST_RNG_SEED") { from_env.rng_seed } else { RngSeed::Fixed(CI_SEED) },
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..from_env
    }
}

/// Bytes that are mostly msgpack or JSON: a valid encoding with some bytes changed, cut or added.
fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len().max(1);
    (prop::collection::vec((0..len, any::<u8>()), 0..4), 0..=len, prop::collection::vec(any::<u8>(), 0..8)).prop_map(
        move |(flips, cut, tail)| {
            let mut v = valid.clone();
            for (i, b) in flips {
                if let Some(slot) = v.get_mut(i) {
                    *slot = b;
                }
            }
            v.truncate(cut);
            v.extend(tail);
            v
        },
    )
}

// Strings that hit the validation edges: empty, the allowed values, near-misses, long, unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(vec![
            "TCP",
            "UDP",
            "tcp",
            "danger",
            "unknown",
            "unknow",
            "host",
            "container",
            "all_granted_eps"
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9_.~-]{1,40}",
        "\\PC{0,140}",
        (0usize..300).prop_map(|n| "h".repeat(n)),
        Just("http://127.0.0.1:9".to_owned()),
        Just("https://hss.example.com/base/".to_owned()),
        Just("ftp://x".to_owned()),
    ]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from_i64),
        (-70_000i64..70_000).prop_map(Number::from_i64),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        Just(Number::from_u64(u64::MAX)),
        boundary().prop_map(|(n, _)| n),
    ]
}

/// Numbers at the edges where representations change: around 2^53 (floats stop holding every
/// integer), i64::MAX and u64::MAX (integers stop fitting), and large exponents; each with the
/// exact integer it should equal when it is whole (as an i128).
fn boundary() -> impl Strategy<Value = (Number, Option<i128>)> {
    let two53 = 1i64 << 53;
    prop_oneof![
        (-4i64..4).prop_map(move |d| (Number::from_i64(two53 + d), Some(i128::from(two53 + d)))),
        (-4i64..4).prop_map(move |d| {
            let f = (two53 + d) as f64;
            (Number::from_f64(f).expect("finite"), Some(f as i128))
        }),
        (0i64..4).prop_map(|d| (Number::from_i64(i64::MAX - d), Some(i128::from(i64::MAX - d)))),
        (0u64..4).prop_map(|d| (Number::from_u64(u64::MAX - d), Some(i128::from(u64::MAX - d)))),
        (54i32..64).prop_map(|e| {
            let f = 2f64.powi(e) * 1.5;
            (Number::from_f64(f).expect("finite"), Some(f as i128))
        }),
        (100i32..308).prop_map(|e| (Number::from_f64(10f64.powi(e)).expect("finite"), None)),
        (-300i32..-1).prop_map(|e| (Number::from_f64(10f64.powi(e)).expect("finite"), None)),
    ]
}

/// A value of a primitive type: null, unknown or a random value of that type.
fn primitive(ty: &Type) -> BoxedStrategy<Value> {
    let known = match ty {
        Type::String => text().prop_map(Value::String).boxed(),
        Type::Number => number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        _ => Just(Value::Null).boxed(),
    };
    prop_oneof![2 => Just(Value::Null), 1 => Just(Value::Unknown), 5 => known].boxed()
}

/// An object of `ty` (an object of primitives) with random attribute values.
fn object_of(ty: &Type) -> BoxedStrategy<Value> {
    let Type::Object(fields) = ty else { return Just(Value::Null).boxed() };
    let parts: Vec<BoxedStrategy<(String, Value)>> = fields
        .iter()
        .filter(|(_, t)| matches!(t, Type::String | Type::Number | Type::Bool))
        .map(|(name, t)| {
            let name = name.clone();
            primitive(t).prop_map(move |v| (name.clone(), v)).boxed()
        })
        .collect();
    let all: BTreeMap<String, Value> = fields.keys().map(|k| (k.clone(), Value::Null)).collect();
    parts
        .prop_map(move |set| {
            let mut map = all.clone();
            map.extend(set);
            Value::Object(map)
        })
        .boxed()
}

fn encode(v: &Value, ty: &Type) -> Vec<u8> {
    value::encode_msgpack(v, ty).expect("a value of the type encodes")
}

/// A random type, up to three levels of containers.
fn any_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,8}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
            Just(Type::set(Type::Number)),
        ]
    })
}

/// A random value of `ty` (nulls and unknowns included at every level).
fn value_of(ty: &Type) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::String | Type::Number | Type::Bool => return primitive(ty),
        Type::List(t) => prop::collection::vec(value_of(t), 0..4).prop_map(Value::List).boxed(),
        Type::Map(t) => prop::collection::btree_map("\\PC{0,6}", value_of(t), 0..4).prop_map(Value::Map).boxed(),
        Type::Set(_) => prop::collection::btree_set(any::<i32>(), 0..4)
            .prop_map(|s| Value::Set(s.into_iter().map(|n| Value::Number(Number::from_i64(n.into()))).collect()))
            .boxed(),
        Type::Object(fields) => {
            let parts: Vec<BoxedStrategy<(String, Value)>> = fields
                .iter()
                .map(|(k, t)| {
                    let k = k.clone();
                    value_of(t).prop_map(move |v| (k.clone(), v)).boxed()
                })
                .collect();
            parts.prop_map(|kv| Value::Object(kv.into_iter().collect())).boxed()
        }
        Type::Tuple(elems) => {
            let parts: Vec<BoxedStrategy<Value>> = elems.iter().map(value_of).collect();
            parts.prop_map(Value::Tuple).boxed()
        }
        Type::Dynamic => Just(Value::Null).boxed(),
    };
    prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
}

fn record() -> impl Strategy<Value = PortRecord> {
    let s = || prop::option::of("\\PC{0,40}");
    (s(), s(), s(), prop::option::of(any::<i64>()), s(), prop::option::of(any::<i64>()), s(), s(), s()).prop_map(
        |(host_id, laddr, status, port, port_type, pid, path, agent_id, container_id)| PortRecord {
            host_id,
            laddr,
            status,
            port,
            port_type,
            pid,
            path,
            agent_id,
            container_id,
        },
    )
}

fn hash(v: &Number) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Whether `v` (a known number, or absent) is a whole number within `min..=max`.
fn whole_within(v: Option<&Value>, min: i64, max: i64) -> bool {
    match v {
        Some(Value::Number(n)) => n.as_i64().is_some_and(|i| (min..=max).contains(&i)),
        _ => true,
    }
}

fn chars_within(v: Option<&Value>, min: usize, max: usize, allowed: &[&str]) -> bool {
    match v {
        Some(Value::String(s)) if !allowed.is_empty() => allowed.contains(&s.as_str()),
        Some(Value::String(s)) => (min..=max).contains(&s.chars().count()),
        _ => true,
    }
}

/// The documented argument rules of `hss_host_ports`, written out independently.
fn host_ports_valid(config: &Value) -> bool {
    let get = |k| config.get(k);
    !get("host_id").is_some_and(Value::is_null)
        && chars_within(get("host_id"), 1, 128, &[])
        && chars_within(get("host_name"), 0, 128, &[])
        && chars_within(get("host_ip"), 0, 128, &[])
        && chars_within(get("type"), 0, 0, &["TCP", "UDP"])
        && chars_within(get("status"), 0, 0, &["danger", "unknown", "unknow"])
        && chars_within(get("enterprise_project_id"), 0, 256, &[])
        && chars_within(get("category"), 0, 0, &["host", "container"])
        && whole_within(get("port"), 1, 65_535)
        && whole_within(get("page_size"), 10, 200)
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = fuzzing::dynamic_value(&bytes);
        let _ = fuzzing::provider_config(&bytes);
        let _ = fuzzing::host_ports_config(&bytes);
        let _ = fuzzing::api_page(&bytes);
    }

    #[test]
    fn json_like_text_never_panics(text in "[\\[\\]{}\":,0-9a-z_ .eE+-]{0,300}") {
        let _ = fuzzing::dynamic_value(&[[2u8].as_slice(), text.as_bytes()].concat());
        let _ = fuzzing::type_json(text.as_bytes());
        let _ = fuzzing::host_ports_config(text.as_bytes());
        let _ = fuzzing::api_page(text.as_bytes());
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn typed_values_round_trip_through_msgpack((ty, v) in any_type().prop_flat_map(|t| (Just(t.clone()), value_of(&t)))) {
        let bytes = encode(&v, &ty);
        prop_assert_eq!(value::decode_msgpack(&bytes, &ty).expect("decodes"), v);
    }

    /// Equality is exact: a whole number equals the decimal integer it is, in every
    /// representation, and equal numbers hash alike (Terraform's sets depend on it).
    #[test]
    fn numbers_compare_exactly_at_the_boundaries((n, whole) in boundary()) {
        let decoded = value::decode_msgpack(&encode(&Value::Number(n.clone()), &Type::Number), &Type::Number)
            .expect("decodes");
        prop_assert_eq!(&decoded, &Value::Number(n.clone()));
        let decoded = decoded.as_number().expect("a number").clone();
        prop_assert_eq!(hash(&decoded), hash(&n));
        if let Some(i) = whole {
            let text = Number::parse(&i.to_string()).expect("an integer parses");
            prop_assert_eq!(&n, &text);
            prop_assert_eq!(hash(&n), hash(&text));
            let next = Number::parse(&(i + 1).to_string()).expect("an integer parses");
            prop_assert_ne!(&n, &next);
        }
    }

    #[test]
    fn mutated_msgpack_values_never_panic(
        (selector, bytes) in (0u8..8).prop_flat_map(|sel| {
            let ty = fuzzing::value_types().swap_remove(usize::from(sel));
            (Just(sel), value_of(&ty).prop_flat_map(move |v| mutated(encode(&v, &ty))))
        })
    ) {
        let _ = fuzzing::msgpack_value(selector, &bytes);
        let _ = fuzzing::dynamic_value(&[[selector].as_slice(), &bytes].concat());
    }

    #[test]
    fn host_ports_configs_are_accepted_exactly_when_valid(v in object_of(&fuzzing::host_ports_type())) {
        let bytes = encode(&v, &fuzzing::host_ports_type());
        let verdict = fuzzing::host_ports_config(&bytes);
        prop_assert_eq!(verdict.is_accepted(), host_ports_valid(&v), "{:?}: {:?}", v, verdict);
        let _ = fuzzing::host_ports_config(&bytes[..bytes.len() / 2]);
    }

    #[test]
    fn provider_configs_decode_and_never_panic(v in object_of(&fuzzing::provider_type())) {
        let bytes = encode(&v, &fuzzing::provider_type());
        prop_assert!(fuzzing::msgpack_value(0, &bytes).is_accepted());
        let _ = fuzzing::provider_config(&bytes);
    }

    #[test]
    fn api_pages_parse_with_every_record(records in prop::collection::vec(record(), 0..30), total in any::<u64>()) {
        let page = PortPage { total_num: total, data_list: records };
        let json = serde_json::to_vec(&page).expect("page JSON");
        prop_assert_eq!(fuzzing::api_page(&json), Verdict::Accepted(page.data_list.len()));
        let parsed: PortPage = serde_json::from_slice(&json).expect("parses");
        prop_assert_eq!(parsed, page);
    }

    #[test]
    fn mutated_api_pages_never_panic(
        bytes in prop::collection::vec(record(), 0..10)
            .prop_flat_map(|d| mutated(serde_json::to_vec(&PortPage { total_num: 9, data_list: d }).expect("JSON")))
    ) {
        let _ = fuzzing::api_page(&bytes);
    }
}

/// A complete, valid provider block is accepted: the properties above are not vacuous.
#[test]
fn a_valid_provider_config_is_accepted() {
    let ty = fuzzing::provider_type();
    let Type::Object(fields) = &ty else { panic!("object") };
    let mut map: BTreeMap<String, Value> = fields.keys().map(|k| (k.clone(), Value::Null)).collect();
    for (k, v) in [("endpoint", "http://127.0.0.1:9"), ("project_id", "p1"), ("token", "a-token-value")] {
        map.insert(k.into(), Value::String(v.into()));
    }
    let bytes = encode(&Value::Object(map.clone()), &ty);
    assert_eq!(fuzzing::provider_config(&bytes), Verdict::Accepted(0));
    map.insert("max_retries".into(), Value::Number(Number::from_i64(101)));
    let verdict = fuzzing::provider_config(&encode(&Value::Object(map), &ty));
    assert!(matches!(&verdict, Verdict::Rejected(m) if m.contains("max_retries")), "{verdict:?}");
}
