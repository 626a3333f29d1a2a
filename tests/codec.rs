//! The value codec through its public API: round trips, exact bytes, numbers, type JSON, and
//! garbage that must fail cleanly.

use hss_provider::value::*;
use std::collections::BTreeMap;

fn num(s: &str) -> Value {
    Value::Number(Number::parse(s).unwrap())
}

fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Encodes, decodes, and checks that the value and the bytes both survive.
fn round_trip(v: &Value, ty: &Type) -> Vec<u8> {
    let bytes = encode_msgpack(v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
    let back = decode_msgpack(&bytes, ty).unwrap_or_else(|e| panic!("decode {v:?}: {e}"));
    assert_eq!(&back, v, "value changed in a round trip through {ty}");
    assert_eq!(encode_msgpack(&back, ty).unwrap(), bytes, "bytes changed on re-encoding");
    bytes
}

fn port_type() -> Type {
    Type::object([("port", Type::Number), ("protocol", Type::String), ("open", Type::Bool)])
}

fn port(n: i64, proto: &str) -> Value {
    Value::object([("port", Value::from(n)), ("protocol", Value::from(proto)), ("open", Value::from(n % 2 == 0))])
}

#[test]
fn spec_example_is_byte_exact() {
    let ty = Type::object([("id", Type::String), ("items", Type::list(Type::object([("n", Type::Number)])))]);
    let v =
        Value::object([("id", Value::from("x")), ("items", Value::List(vec![Value::object([("n", Value::from(1))])]))]);
    let expected =
        [0x82, 0xa2, 0x69, 0x64, 0xa1, 0x78, 0xa5, 0x69, 0x74, 0x65, 0x6d, 0x73, 0x91, 0x81, 0xa1, 0x6e, 0x01];
    assert_eq!(encode_msgpack(&v, &ty).unwrap(), expected);
    let back = decode_msgpack(&expected, &ty).unwrap();
    assert_eq!(back.get("id").and_then(Value::as_str), Some("x"));
    let items = back.get("items").and_then(Value::as_elements).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].get("n").and_then(Value::as_number).and_then(Number::as_i64), Some(1));
}

#[test]
fn primitives_round_trip_with_exact_bytes() {
    assert_eq!(round_trip(&Value::from(true), &Type::Bool), [0xc3]);
    assert_eq!(round_trip(&Value::from(false), &Type::Bool), [0xc2]);
    assert_eq!(round_trip(&Value::from("hé"), &Type::String), [0xa3, b'h', 0xc3, 0xa9]);
    assert_eq!(round_trip(&Value::from(""), &Type::String), [0xa0]);
    assert_eq!(round_trip(&Value::from(-1), &Type::Number), [0xff]);
    assert_eq!(round_trip(&Value::from(300), &Type::Number), [0xcd, 0x01, 0x2c]);
    let long = "y".repeat(70_000);
    let bytes = round_trip(&Value::from(long.as_str()), &Type::String);
    assert_eq!(&bytes[..5], [0xdb, 0x00, 0x01, 0x11, 0x70]);
}

#[test]
fn collections_round_trip() {
    let list_of_objects = Value::List(vec![port(22, "tcp"), port(53, "udp")]);
    round_trip(&list_of_objects, &Type::list(port_type()));

    let set = Value::Set(vec![Value::from("a"), Value::from("b")]);
    let bytes = round_trip(&set, &Type::set(Type::String));
    assert_eq!(bytes, [0x92, 0xa1, b'a', 0xa1, b'b']);

    let m = map([("env", Value::from("prod")), ("team", Value::Null)]);
    round_trip(&m, &Type::map(Type::String));

    let tuple = Value::Tuple(vec![Value::from(1), Value::from("two"), Value::from(true)]);
    let tuple_ty = Type::tuple([Type::Number, Type::String, Type::Bool]);
    assert_eq!(round_trip(&tuple, &tuple_ty), [0x93, 0x01, 0xa3, b't', b'w', b'o', 0xc3]);

    // Empty collections.
    assert_eq!(round_trip(&Value::List(vec![]), &Type::list(Type::String)), [0x90]);
    assert_eq!(round_trip(&Value::Map(BTreeMap::new()), &Type::map(Type::Bool)), [0x80]);
    assert_eq!(round_trip(&Value::Tuple(vec![]), &Type::Tuple(vec![])), [0x90]);

    // Nested: map of lists of sets of objects with a tuple attribute.
    let inner_ty =
        Type::object([("t", Type::tuple([Type::Number, Type::list(Type::String)])), ("m", Type::map(Type::Number))]);
    let ty = Type::map(Type::list(Type::set(inner_ty)));
    let inner = Value::object([
        ("t", Value::Tuple(vec![num("0.5"), Value::List(vec![Value::from("q")])])),
        ("m", map([("k", Value::from(7))])),
    ]);
    let v = map([
        ("a", Value::List(vec![Value::Set(vec![inner.clone()]), Value::Set(vec![])])),
        ("b", Value::List(vec![])),
    ]);
    round_trip(&v, &ty);
}

#[test]
fn objects_are_written_with_exactly_the_type_attributes_in_name_order() {
    let ty = Type::object([("b", Type::String), ("a", Type::Number), ("c", Type::Bool)]);
    let v = Value::object([("c", Value::from(true)), ("a", Value::from(5))]);
    let bytes = encode_msgpack(&v, &ty).unwrap();
    assert_eq!(bytes, [0x83, 0xa1, b'a', 0x05, 0xa1, b'b', 0xc0, 0xa1, b'c', 0xc3]);
    let back = decode_msgpack(&bytes, &ty).unwrap();
    assert_eq!(back.get("b"), Some(&Value::Null));

    let extra = Value::object([("a", Value::from(1)), ("zzz", Value::from(1))]);
    let e = encode_msgpack(&extra, &ty).unwrap_err();
    assert_eq!(e.path, AttributePath::root().attr("zzz"));
    assert_eq!(e.kind, EncodeErrorKind::UnexpectedAttribute("zzz".into()));

    // A missing attribute on the wire decodes as null.
    let back = decode_msgpack(&[0x81, 0xa1, b'a', 0x01], &ty).unwrap();
    assert_eq!(back.get("b"), Some(&Value::Null));
    assert_eq!(back.get("c"), Some(&Value::Null));
    assert_eq!(back.get("a").and_then(Value::as_number), Some(&Number::from_i64(1)));
}

#[test]
fn dynamic_values() {
    let ty = Type::object([("d", Type::Dynamic)]);
    let v = Value::object([("d", Value::List(vec![Value::from("x")]))]);
    let bytes = round_trip(&v, &ty);
    let type_json = br#"["list","string"]"#;
    let mut expected = vec![0x81, 0xa1, b'd', 0x92, 0xc4, type_json.len() as u8];
    expected.extend_from_slice(type_json);
    expected.extend_from_slice(&[0x91, 0xa1, b'x']);
    assert_eq!(bytes, expected);

    // Null and unknown under dynamic are plain nil / ext, not the 2-array.
    assert_eq!(encode_msgpack(&Value::Null, &Type::Dynamic).unwrap(), [0xc0]);
    assert_eq!(encode_msgpack(&Value::Unknown, &Type::Dynamic).unwrap(), [0xd4, 0, 0]);
    assert_eq!(decode_msgpack(&[0xc0], &Type::Dynamic).unwrap(), Value::Null);
    assert_eq!(decode_msgpack(&[0xd4, 0, 0], &Type::Dynamic).unwrap(), Value::Unknown);

    // The type JSON may come as a msgpack str too.
    let mut as_str = vec![0x92, 0xa8];
    as_str.extend_from_slice(b"\"number\"");
    as_str.push(0x2a);
    assert_eq!(decode_msgpack(&as_str, &Type::Dynamic).unwrap(), Value::from(42));

    // Nested object under dynamic, with a nested dynamic and a null attribute.
    let inner = Value::object([("n", num("1.5")), ("inner", Value::Tuple(vec![Value::from(true), Value::Null]))]);
    round_trip(&inner, &Type::Dynamic);
    let nested_dynamic = Value::List(vec![map([("k", Value::from("v"))])]);
    round_trip(&nested_dynamic, &Type::list(Type::Dynamic));

    // Mixed element types cannot be given one list type.
    let mixed = Value::List(vec![Value::from(1), Value::from("x")]);
    let e = encode_msgpack(&mixed, &Type::Dynamic).unwrap_err();
    assert!(matches!(e.kind, EncodeErrorKind::CannotInferType(_)), "{e}");
    assert_eq!(e.path, AttributePath::root().index(1));
}

#[test]
fn null_unknown_and_refined_unknown_stay_distinct() {
    let ty = Type::object([("a", Type::String), ("b", Type::String), ("c", Type::String)]);
    // Refined unknown (Terraform >= 1.6): ext type 12, payload {1: false, 2: "ab"}.
    let payload = [0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'];
    let mut bytes = vec![0x83, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xd4, 0x00, 0x00, 0xa1, b'c'];
    bytes.extend_from_slice(&[0xc7, payload.len() as u8, 0x0c]);
    bytes.extend_from_slice(&payload);
    let v = decode_msgpack(&bytes, &ty).unwrap();
    assert_eq!(v.get("a"), Some(&Value::Null));
    assert_eq!(v.get("b"), Some(&Value::Unknown));
    assert_eq!(v.get("c"), Some(&Value::Unknown));
    assert!(v.get("a").unwrap().is_null() && v.get("a").unwrap().is_known());
    assert!(!v.get("c").unwrap().is_null() && !v.get("c").unwrap().is_known());
    assert!(v.is_known());
    assert!(!v.is_wholly_known());
    // Unknowns are always written as fixext1 type 0.
    assert_eq!(
        encode_msgpack(&v, &ty).unwrap(),
        [0x83, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xd4, 0, 0, 0xa1, b'c', 0xd4, 0, 0]
    );
    // Any extension type and size is unknown, whatever the expected type.
    let mut fixext16 = vec![0xd8, 0x07];
    fixext16.extend_from_slice(&[0xaa; 16]);
    for ext in [&[0xd5, 0x05, 1, 2][..], &[0xc8, 0, 1, 0x0c, 0x80], &fixext16] {
        assert_eq!(decode_msgpack(ext, &Type::list(Type::Number)).unwrap(), Value::Unknown);
    }
    // A whole unknown object, and a null one.
    assert_eq!(decode_msgpack(&[0xd4, 0, 0], &ty).unwrap(), Value::Unknown);
    assert_eq!(decode_msgpack(&[0xc0], &ty).unwrap(), Value::Null);
}

#[test]
fn numbers_in_every_wire_form() {
    let n = |bytes: &[u8]| -> Number {
        match decode_msgpack(bytes, &Type::Number).unwrap() {
            Value::Number(n) => n,
            other => panic!("{other:?}"),
        }
    };
    // Ints of every width.
    assert_eq!(n(&[0x50]).as_i64(), Some(80));
    assert_eq!(n(&[0xd0, 0x80]).as_i64(), Some(-128));
    assert_eq!(n(&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]).as_i64(), Some(i64::MIN));
    assert_eq!(n(&[0xce, 0xff, 0xff, 0xff, 0xff]).as_i64(), Some(u32::MAX as i64));
    // uint64 max: beyond i64, kept exactly, written back as a decimal string.
    let big = n(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(big.as_i64(), None);
    assert_eq!(big.to_string(), "18446744073709551615");
    let mut expected = vec![0xb4];
    expected.extend_from_slice(b"18446744073709551615");
    assert_eq!(encode_msgpack(&Value::Number(big.clone()), &Type::Number).unwrap(), expected);
    assert_eq!(n(&expected), big);
    // A uint64 that fits i64 is an ordinary int.
    assert_eq!(n(&[0xcf, 0, 0, 0, 0, 0, 0, 0, 0x50]).as_i64(), Some(80));
    // Floats: whole ones become ints, others stay float64.
    let f80 = n(&[0xcb, 0x40, 0x54, 0, 0, 0, 0, 0, 0]);
    assert_eq!(f80.as_i64(), Some(80));
    assert_eq!(encode_msgpack(&Value::Number(f80), &Type::Number).unwrap(), [0x50]);
    let half = n(&[0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(half.as_i64(), None);
    assert_eq!(half.as_f64(), 0.5);
    assert_eq!(half.to_string(), "0.5");
    assert_eq!(encode_msgpack(&Value::Number(half), &Type::Number).unwrap(), [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(n(&[0xca, 0x3f, 0xc0, 0, 0]).as_f64(), 1.5);
    // Decimal strings: kept as sent, whole ones written as ints.
    let tenth = n(&[0xa3, b'0', b'.', b'1']);
    assert_eq!(tenth.as_i64(), None);
    assert_eq!(tenth.as_f64(), 0.1);
    assert_eq!(tenth.to_string(), "0.1");
    assert_eq!(tenth, Number::parse("0.1").unwrap());
    assert_eq!(encode_msgpack(&Value::Number(tenth), &Type::Number).unwrap(), [0xa3, b'0', b'.', b'1']);
    for (text, want) in [("80", Some(80)), ("80.0", Some(80)), ("8e1", Some(80)), ("-12", Some(-12))] {
        let mut bytes = vec![0xa0 | text.len() as u8];
        bytes.extend_from_slice(text.as_bytes());
        let parsed = n(&bytes);
        assert_eq!(parsed.as_i64(), want, "{text}");
        let mut out = Vec::new();
        out.extend(encode_msgpack(&Value::Number(parsed), &Type::Number).unwrap());
        assert_eq!(decode_msgpack(&out, &Type::Number).unwrap(), Value::from(want.unwrap()));
        assert!(out.len() <= 2, "{text} should be written as an int: {out:x?}");
    }
    assert_eq!(Number::parse("0.5").unwrap().as_i64(), None);
    assert_eq!(Number::parse("1e3").unwrap().as_i64(), Some(1000));
    assert_eq!(Number::from_f64(80.0).unwrap().as_i64(), Some(80));
    assert_eq!(Number::from_i64(80).to_string(), "80");
    assert!(Number::from_f64(f64::NAN).is_none());
    // Bad numbers.
    for bad in [&[0xa3, b'a', b'b', b'c'][..], &[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], &[0xc3]] {
        assert!(decode_msgpack(bad, &Type::Number).is_err(), "{bad:x?}");
    }
}

#[test]
fn type_json_for_every_type() {
    let cases: Vec<(Type, &str)> = vec![
        (Type::Bool, r#""bool""#),
        (Type::Number, r#""number""#),
        (Type::String, r#""string""#),
        (Type::Dynamic, r#""dynamic""#),
        (Type::list(Type::String), r#"["list","string"]"#),
        (Type::set(Type::Number), r#"["set","number"]"#),
        (Type::map(Type::Bool), r#"["map","bool"]"#),
        (Type::list(Type::object([("port", Type::Number)])), r#"["list",["object",{"port":"number"}]]"#),
        (
            Type::object([("z", Type::Dynamic), ("a", Type::set(Type::String))]),
            r#"["object",{"a":["set","string"],"z":"dynamic"}]"#,
        ),
        (Type::object([]), r#"["object",{}]"#),
        (Type::tuple([Type::String, Type::map(Type::Number)]), r#"["tuple",["string",["map","number"]]]"#),
    ];
    for (ty, json) in cases {
        assert_eq!(String::from_utf8(ty.to_json()).unwrap(), json);
        assert_eq!(Type::from_json(json.as_bytes()).unwrap(), ty, "{json}");
    }
    // Whitespace and the optional-attributes element are accepted.
    assert_eq!(
        Type::from_json(b" [ \"object\" , { \"a\" : \"string\" } , [ \"a\" ] ] ").unwrap(),
        Type::object([("a", Type::String)])
    );
    for bad in [&b""[..], b"\"list\"", b"[\"list\"]", b"{}", b"[\"map\",\"nope\"]", b"\"bool\"x"] {
        assert!(Type::from_json(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn decode_errors_carry_the_path() {
    let ty = Type::object([("tags", Type::map(Type::list(Type::String)))]);
    // {"tags": {"k": ["ok", 5]}}
    let mut bytes = vec![0x81, 0xa4];
    bytes.extend_from_slice(b"tags");
    bytes.extend_from_slice(&[0x81, 0xa1, b'k', 0x92, 0xa2, b'o', b'k', 0x05]);
    let e = decode_msgpack(&bytes, &ty).unwrap_err();
    assert_eq!(e.path, AttributePath::root().attr("tags").key("k").index(1));
    assert_eq!(e.kind, DecodeErrorKind::TypeMismatch { expected: "string".into(), found: "msgpack integer".into() });
    assert_eq!(e.to_string(), "tags[\"k\"][1]: expected string, found msgpack integer");

    // An attribute the type does not have.
    let e = decode_msgpack(&[0x81, 0xa1, b'x', 0xc0], &ty).unwrap_err();
    assert_eq!(e.path, AttributePath::root().attr("x"));
    assert_eq!(e.kind, DecodeErrorKind::UnexpectedAttribute("x".into()));
}

#[test]
fn garbage_is_rejected() {
    let obj = Type::object([("a", Type::String)]);
    let cases: Vec<(&[u8], Type, &str)> = vec![
        (&[], Type::String, "empty"),
        (&[0xa5, b'a', b'b'], Type::String, "truncated string"),
        (&[0x92, 0x01], Type::list(Type::Number), "truncated array"),
        (&[0xcd, 0x01], Type::Number, "truncated int"),
        (&[0xc3, 0x00], Type::Bool, "trailing byte"),
        (&[0x01], Type::String, "wrong type"),
        (&[0xa1, b'x'], Type::list(Type::String), "string for list"),
        (&[0x91, 0xa1, b'x'], Type::map(Type::String), "array for map"),
        (&[0xc1], Type::Dynamic, "reserved marker"),
        (&[0xa2, 0xff, 0xfe], Type::String, "invalid utf-8"),
        (&[0x82, 0xa1, b'a', 0xc0, 0xa1, b'a', 0xc0], obj.clone(), "duplicate attribute"),
        (&[0x81, 0x01, 0xc0], obj.clone(), "non-string key"),
        (&[0x92, 0x01, 0x02], Type::tuple([Type::Number]), "tuple length"),
        (&[0x93, 0xa1, b'x', 0x01, 0x02], Type::Dynamic, "dynamic needs 2 elements"),
        (&[0x92, 0x01, 0x01], Type::Dynamic, "dynamic type not bytes"),
        (&[0x92, 0xa2, b'{', b'}', 0x01], Type::Dynamic, "dynamic bad type JSON"),
        (&[0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0], Type::list(Type::Bool), "2^32 array"),
        (&[0xdf, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0], Type::map(Type::Bool), "2^32 map"),
        (&[0xdb, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0], Type::String, "4 GiB string"),
        (&[0xc6, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0], Type::String, "4 GiB bin"),
        (&[0xc9, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0], Type::String, "4 GiB ext"),
    ];
    for (bytes, ty, what) in cases {
        assert!(decode_msgpack(bytes, &ty).is_err(), "{what} should fail");
    }
    let huge = decode_msgpack(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0], &Type::list(Type::Bool));
    assert_eq!(huge.unwrap_err().kind, DecodeErrorKind::LengthTooLarge(u32::MAX as u64));

    // Every strict prefix of a valid encoding is an error.
    let ty = Type::list(port_type());
    let valid = encode_msgpack(&Value::List(vec![port(22, "tcp"), port(8080, "udp")]), &ty).unwrap();
    for cut in 0..valid.len() {
        assert!(decode_msgpack(&valid[..cut], &ty).is_err(), "prefix of {cut} bytes");
    }
}

#[test]
fn depth_bombs_are_refused() {
    // 100,000 nested one-element arrays under a deep type.
    let mut ty = Type::Bool;
    for _ in 0..200 {
        ty = Type::list(ty);
    }
    let mut bytes = vec![0x91; 100_000];
    bytes.push(0xc3);
    let e = decode_msgpack(&bytes, &ty).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::TooDeep(MAX_DEPTH));

    // Dynamic within dynamic: [ "dynamic", [ "dynamic", ... ] ].
    let mut bytes = Vec::new();
    for _ in 0..10_000 {
        bytes.extend_from_slice(&[0x92, 0xa9]);
        bytes.extend_from_slice(b"\"dynamic\"");
    }
    bytes.push(0xc3);
    let e = decode_msgpack(&bytes, &Type::Dynamic).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::TooDeep(MAX_DEPTH));

    // Deep type JSON.
    let deep_type = "[\"list\",".repeat(100_000);
    assert!(Type::from_json(deep_type.as_bytes()).is_err());

    // A value nested deeper than the limit is refused when encoding, too.
    let mut v = Value::from(true);
    let mut vty = Type::Bool;
    for _ in 0..MAX_DEPTH + 1 {
        v = Value::List(vec![v]);
        vty = Type::list(vty);
    }
    assert_eq!(encode_msgpack(&v, &vty).unwrap_err().kind, EncodeErrorKind::TooDeep(MAX_DEPTH));
}

/// xorshift64: deterministic pseudo-random numbers for the garbage loops.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

#[test]
fn random_garbage_never_panics() {
    let types = [
        Type::Dynamic,
        Type::Number,
        Type::list(port_type()),
        Type::map(Type::set(Type::String)),
        Type::tuple([Type::Bool, Type::Dynamic]),
    ];
    let valid = encode_msgpack(&Value::List((0..5).map(|i| port(i, "tcp")).collect()), &types[2]).unwrap();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let (mut ok, mut err) = (0usize, 0usize);
    for i in 0..20_000 {
        let bytes: Vec<u8> = if i % 2 == 0 {
            // Pure noise, biased towards container and length markers.
            let len = (rng.next() % 48) as usize;
            (0..len)
                .map(|_| match rng.next() % 4 {
                    0 => 0x90 | (rng.next() % 16) as u8,
                    1 => 0xc4 + (rng.next() % 28) as u8,
                    _ => rng.next() as u8,
                })
                .collect()
        } else {
            // A valid encoding with a few bytes changed.
            let mut b = valid.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % b.len();
                b[at] = rng.next() as u8;
            }
            b
        };
        let ty = &types[(rng.next() as usize) % types.len()];
        match decode_msgpack(&bytes, ty) {
            Ok(v) => {
                ok += 1;
                // Whatever decodes must encode again under the same type.
                let again = encode_msgpack(&v, ty).unwrap();
                assert_eq!(decode_msgpack(&again, ty).unwrap(), v);
            }
            Err(e) => {
                err += 1;
                assert!(!e.to_string().is_empty());
            }
        }
        let _ = Type::from_json(&bytes);
    }
    assert!(err > 10_000, "most garbage must be rejected (ok={ok}, err={err})");
    assert!(ok > 0, "some mutations stay valid (ok={ok})");
}

#[test]
fn a_large_list_round_trips() {
    let attrs = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    let ty = Type::list(Type::object(
        attrs.iter().enumerate().map(|(i, a)| (*a, if i % 3 == 0 { Type::Number } else { Type::String })),
    ));
    let v = Value::List(
        (0..10_000)
            .map(|n| {
                Value::object(attrs.iter().enumerate().map(|(i, a)| {
                    let field =
                        if i % 3 == 0 { Value::from(n * 7 + i as i64) } else { Value::from(format!("value-{n}-{i}")) };
                    (*a, field)
                }))
            })
            .collect(),
    );
    // Speed is measured by `cargo bench --bench codec`, not asserted here.
    let bytes = encode_msgpack(&v, &ty).unwrap();
    assert_eq!(&bytes[..3], [0xdc, 0x27, 0x10]);
    let back = decode_msgpack(&bytes, &ty).unwrap();
    assert_eq!(back.as_elements().map(<[Value]>::len), Some(10_000));
    assert_eq!(back, v);
}
