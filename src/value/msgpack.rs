//! Typed msgpack codec: DynamicValue bytes to [`Value`] and back, checked against a [`Type`].

use super::MAX_DEPTH;
use super::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use super::number::{Number, Repr};
use super::types::Type;
use super::wire::{self, Head, Reader};
use super::{StepRef, Value, path_of};
use std::collections::BTreeMap;

/// Decodes a msgpack DynamicValue of type `ty`.
///
/// nil is [`Value::Null`]; any extension (type 0, or a refined unknown of type 12) is
/// [`Value::Unknown`]. Numbers may be ints, floats or decimal strings. Bytes left over after the
/// value are an error.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut d = Decoder { r: Reader::new(bytes) };
    let mut path = Vec::new();
    let value = d.value(ty, &mut path, 0)?;
    match d.r.remaining() {
        0 => Ok(value),
        n => Err(DecodeError::new(path_of(&[]), DecodeErrorKind::TrailingBytes(n))),
    }
}

/// The concrete type of a `dynamic` DynamicValue (`[type JSON, value]`), without decoding the
/// value; `None` when the bytes do not start that way.
pub fn dynamic_type(bytes: &[u8]) -> Option<Type> {
    let mut r = Reader::new(bytes);
    match (r.head().ok()?, r.head().ok()?) {
        (Head::Array(2), Head::Str(json) | Head::Bin(json)) => Type::from_json(json).ok(),
        _ => None,
    }
}

/// Encodes `value` as a `dynamic` DynamicValue of the concrete type `ty`.
pub fn encode_dynamic(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let inner = encode_msgpack(value, ty)?;
    let mut out = Vec::with_capacity(inner.len() + 64);
    let root = |e| EncodeError::new(path_of(&[]), e);
    wire::write_array_len(&mut out, 2).map_err(root)?;
    wire::write_bin(&mut out, &ty.to_json()).map_err(root)?;
    out.extend_from_slice(&inner);
    Ok(out)
}

struct Decoder<'b> {
    r: Reader<'b>,
}

fn utf8<'b>(bytes: &'b [u8], path: &[StepRef<'_>]) -> Result<&'b str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|_| DecodeError::new(path_of(path), DecodeErrorKind::InvalidUtf8))
}

impl<'b> Decoder<'b> {
    fn next(&mut self, path: &[StepRef<'_>]) -> Result<Head<'b>, DecodeError> {
        self.r.head().map_err(|kind| DecodeError::new(path_of(path), kind))
    }

    /// Reads a map key, which must be a string.
    fn key(&mut self, path: &[StepRef<'_>]) -> Result<&'b str, DecodeError> {
        match self.next(path)? {
            Head::Str(s) => utf8(s, path),
            other => Err(DecodeError::new(
                path_of(path),
                DecodeErrorKind::TypeMismatch { expected: "string key".into(), found: other.describe() },
            )),
        }
    }

    fn value<'p>(&mut self, ty: &'p Type, path: &mut Vec<StepRef<'p>>, depth: usize) -> Result<Value, DecodeError>
    where
        'b: 'p,
    {
        let err = |path: &[StepRef<'_>], kind| DecodeError::new(path_of(path), kind);
        if depth > MAX_DEPTH {
            return Err(err(path, DecodeErrorKind::TooDeep(MAX_DEPTH)));
        }
        let tok = self.next(path)?;
        let mismatch = |path: &[StepRef<'_>]| {
            err(path, DecodeErrorKind::TypeMismatch { expected: ty.to_string(), found: tok.describe() })
        };
        match (ty, tok) {
            (_, Head::Nil) => Ok(Value::Null),
            (_, Head::Ext(..)) => Ok(Value::Unknown),
            (Type::Bool, Head::Bool(b)) => Ok(Value::Bool(b)),
            (Type::Number, Head::Int(i)) => Ok(Value::Number(Number::from_i64(i))),
            (Type::Number, Head::Uint(u)) => Ok(Value::Number(Number::from_u64(u))),
            (Type::Number, Head::F32(f)) => float(f64::from(f), path),
            (Type::Number, Head::F64(f)) => float(f, path),
            (Type::Number, Head::Str(s)) => Number::parse(utf8(s, path)?)
                .map(Value::Number)
                .map_err(|e| err(path, DecodeErrorKind::InvalidNumber(e.to_string()))),
            (Type::String, Head::Str(s)) => Ok(Value::String(utf8(s, path)?.to_owned())),
            (Type::Dynamic, Head::Array(2)) => {
                let type_json = match self.next(path)? {
                    Head::Str(b) | Head::Bin(b) => b,
                    other => {
                        return Err(err(
                            path,
                            DecodeErrorKind::TypeMismatch { expected: "type JSON".into(), found: other.describe() },
                        ));
                    }
                };
                let concrete = Type::from_json(type_json).map_err(|e| err(path, e.kind))?;
                let mut inner_path = path.clone();
                self.value(&concrete, &mut inner_path, depth + 1)
            }
            (Type::List(et) | Type::Set(et), Head::Array(n)) => {
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    path.push(StepRef::Index(i));
                    out.push(self.value(et, path, depth + 1)?);
                    path.pop();
                }
                Ok(if matches!(ty, Type::Set(_)) { Value::Set(out) } else { Value::List(out) })
            }
            (Type::Tuple(ets), Head::Array(n)) => {
                if n != ets.len() {
                    return Err(err(path, DecodeErrorKind::TupleLength { expected: ets.len(), found: n }));
                }
                let mut out = Vec::with_capacity(n);
                for (i, et) in ets.iter().enumerate() {
                    path.push(StepRef::Index(i));
                    out.push(self.value(et, path, depth + 1)?);
                    path.pop();
                }
                Ok(Value::Tuple(out))
            }
            (Type::Map(et), Head::Map(n)) => {
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let k = self.key(path)?;
                    path.push(StepRef::Key(k));
                    let v = self.value(et, path, depth + 1)?;
                    if out.insert(k.to_owned(), v).is_some() {
                        return Err(err(path, DecodeErrorKind::DuplicateKey(k.to_owned())));
                    }
                    path.pop();
                }
                Ok(Value::Map(out))
            }
            (Type::Object(attrs), Head::Map(n)) => {
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let k = self.key(path)?;
                    path.push(StepRef::Attr(k));
                    let Some(at) = attrs.get(k) else {
                        return Err(err(path, DecodeErrorKind::UnexpectedAttribute(k.to_owned())));
                    };
                    let v = self.value(at, path, depth + 1)?;
                    if out.insert(k.to_owned(), v).is_some() {
                        return Err(err(path, DecodeErrorKind::DuplicateKey(k.to_owned())));
                    }
                    path.pop();
                }
                if out.len() < attrs.len() {
                    for name in attrs.keys() {
                        if !out.contains_key(name) {
                            out.insert(name.clone(), Value::Null);
                        }
                    }
                }
                Ok(Value::Object(out))
            }
            _ => Err(mismatch(path)),
        }
    }
}

fn float(f: f64, path: &[StepRef<'_>]) -> Result<Value, DecodeError> {
    Number::from_f64(f).map(Value::Number).ok_or_else(|| {
        DecodeError::new(path_of(path), DecodeErrorKind::InvalidNumber(format!("{f} is not a finite number")))
    })
}

/// Encodes `value` as a msgpack DynamicValue of type `ty`.
///
/// Objects get exactly the type's attributes in name order (missing ones as nil); unknowns are
/// written as `d4 00 00`. A value of type `dynamic` is written as `[type JSON, value]` with the
/// type inferred from the value ([`Value::infer_type`]), or as plain nil / unknown.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut e = Encoder { out: Vec::with_capacity(value.estimated_msgpack_size()) };
    e.value(value, ty, &mut Vec::new(), 0)?;
    Ok(e.out)
}

struct Encoder {
    out: Vec<u8>,
}

fn at_path(path: &[StepRef<'_>], kind: EncodeErrorKind) -> EncodeError {
    EncodeError::new(path_of(path), kind)
}

impl Encoder {
    fn value<'p>(
        &mut self,
        value: &'p Value,
        ty: &'p Type,
        path: &mut Vec<StepRef<'p>>,
        depth: usize,
    ) -> Result<(), EncodeError> {
        let err = |path: &[StepRef<'_>], kind| EncodeError::new(path_of(path), kind);
        if depth > MAX_DEPTH {
            return Err(err(path, EncodeErrorKind::TooDeep(MAX_DEPTH)));
        }
        let out = &mut self.out;
        match (ty, value) {
            (_, Value::Null) => wire::write_nil(out),
            (_, Value::Unknown) => wire::write_unknown(out),
            (Type::Bool, Value::Bool(b)) => wire::write_bool(out, *b),
            (Type::Number, Value::Number(n)) => match (n.as_i64(), n.repr()) {
                (Some(i), _) => wire::write_int(out, i),
                (None, Repr::Float(f)) => wire::write_f64(out, *f),
                (None, Repr::Decimal(s)) => wire::write_str(out, s).map_err(|e| at_path(path, e))?,
                // An Int always has an i64 form.
                (None, Repr::Int(i)) => wire::write_int(out, *i),
            },
            (Type::String, Value::String(s)) => wire::write_str(out, s).map_err(|e| at_path(path, e))?,
            (Type::Dynamic, v) => {
                let concrete = v.infer_type().map_err(|mut e| {
                    let mut full = path_of(path);
                    full.steps.append(&mut e.path.steps);
                    e.path = full;
                    e
                })?;
                wire::write_array_len(out, 2).map_err(|e| at_path(path, e))?;
                wire::write_bin(out, &concrete.to_json()).map_err(|e| at_path(path, e))?;
                let mut inner_path = path.clone();
                self.value(v, &concrete, &mut inner_path, depth + 1)?;
            }
            (Type::List(et), Value::List(items)) | (Type::Set(et), Value::Set(items)) => {
                wire::write_array_len(out, items.len()).map_err(|e| at_path(path, e))?;
                for (i, item) in items.iter().enumerate() {
                    path.push(StepRef::Index(i));
                    self.value(item, et, path, depth + 1)?;
                    path.pop();
                }
            }
            (Type::Tuple(ets), Value::Tuple(items)) => {
                if ets.len() != items.len() {
                    return Err(err(path, EncodeErrorKind::TupleLength { expected: ets.len(), found: items.len() }));
                }
                wire::write_array_len(out, items.len()).map_err(|e| at_path(path, e))?;
                for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                    path.push(StepRef::Index(i));
                    self.value(item, et, path, depth + 1)?;
                    path.pop();
                }
            }
            (Type::Map(et), Value::Map(entries)) => {
                wire::write_map_len(out, entries.len()).map_err(|e| at_path(path, e))?;
                for (k, v) in entries {
                    path.push(StepRef::Key(k));
                    wire::write_str(&mut self.out, k).map_err(|e| at_path(path, e))?;
                    self.value(v, et, path, depth + 1)?;
                    path.pop();
                }
            }
            (Type::Object(attrs), Value::Object(fields)) => {
                if let Some(extra) = fields.keys().find(|k| !attrs.contains_key(*k)) {
                    path.push(StepRef::Attr(extra));
                    return Err(err(path, EncodeErrorKind::UnexpectedAttribute(extra.clone())));
                }
                wire::write_map_len(out, attrs.len()).map_err(|e| at_path(path, e))?;
                for (name, at) in attrs {
                    path.push(StepRef::Attr(name));
                    wire::write_str(&mut self.out, name).map_err(|e| at_path(path, e))?;
                    match fields.get(name) {
                        Some(v) => self.value(v, at, path, depth + 1)?,
                        None => wire::write_nil(&mut self.out),
                    }
                    path.pop();
                }
            }
            (ty, v) => {
                return Err(err(
                    path,
                    EncodeErrorKind::TypeMismatch { expected: ty.to_string(), found: v.kind_name() },
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::AttributePath;

    #[test]
    fn spec_example_bytes() {
        let ty = Type::object([("id", Type::String), ("items", Type::list(Type::object([("n", Type::Number)])))]);
        let v = Value::object([
            ("id", Value::from("x")),
            ("items", Value::List(vec![Value::object([("n", Value::from(1i64))])])),
        ]);
        let bytes = encode_msgpack(&v, &ty).unwrap();
        assert_eq!(
            bytes,
            [0x82, 0xa2, 0x69, 0x64, 0xa1, 0x78, 0xa5, 0x69, 0x74, 0x65, 0x6d, 0x73, 0x91, 0x81, 0xa1, 0x6e, 0x01]
        );
        assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), v);
    }

    #[test]
    fn errors_carry_paths() {
        let ty = Type::object([("ports", Type::list(Type::object([("port", Type::Number)])))]);
        // {"ports": [{"port": "abc"}]}
        let mut bytes = vec![0x81, 0xa5];
        bytes.extend_from_slice(b"ports");
        bytes.extend_from_slice(&[0x91, 0x81, 0xa4]);
        bytes.extend_from_slice(b"port");
        bytes.extend_from_slice(&[0xa3, b'a', b'b', b'c']);
        let e = decode_msgpack(&bytes, &ty).unwrap_err();
        assert_eq!(e.path, AttributePath::root().attr("ports").index(0).attr("port"));
        assert!(matches!(e.kind, DecodeErrorKind::InvalidNumber(_)));

        let v = Value::object([("ports", Value::List(vec![Value::object([("port", Value::from(true))])]))]);
        let e = encode_msgpack(&v, &ty).unwrap_err();
        assert_eq!(e.path, AttributePath::root().attr("ports").index(0).attr("port"));
        assert_eq!(e.to_string(), "ports[0].port: expected number, found bool");
    }

    #[test]
    fn dynamic_inference_errors_are_prefixed() {
        let ty = Type::object([("d", Type::Dynamic)]);
        let v = Value::object([("d", Value::List(vec![Value::from(1i64), Value::from("x")]))]);
        let e = encode_msgpack(&v, &ty).unwrap_err();
        assert_eq!(e.path, AttributePath::root().attr("d").index(1));
        assert!(matches!(e.kind, EncodeErrorKind::CannotInferType(_)));
    }
}
