//! The cty value model and its codec: types and type JSON, exact numbers, msgpack
//! DynamicValues, and attribute paths. Knows nothing of gRPC or HSS.
//!
//! Only msgpack values are decoded: Terraform sends msgpack for every call this provider
//! serves (JSON appears only in the raw states of `UpgradeResourceState`, which a provider without
//! resources never receives), so a JSON value is refused with a clear diagnostic in `protocol`.
//! Type JSON (inside msgpack `dynamic` values and in schemas) goes through serde_json.
//!
//! Layout:
//! - `types.rs`: [`Type`] and Terraform's type JSON;
//! - `number.rs`: [`Number`], exact numbers;
//! - `msgpack.rs`: [`decode_msgpack`] / [`encode_msgpack`], over the raw reader in `wire.rs`;
//! - `path.rs`: [`AttributePath`]; `error.rs`: [`DecodeError`] and [`EncodeError`].
//!
//! Input is never trusted: every reader is bounds-checked, nesting is capped at [`MAX_DEPTH`],
//! and declared lengths are checked against the bytes left before anything is allocated.

mod error;
mod msgpack;
mod number;
mod path;
mod types;
mod wire;

pub use error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
pub use msgpack::{decode_msgpack, dynamic_type, encode_dynamic, encode_msgpack};
pub use number::{Number, ParseNumberError};
pub use path::{AttributePath, PathStep};
pub use types::Type;

use std::collections::BTreeMap;

/// The deepest nesting of containers (and `dynamic` wrappers) accepted or produced.
pub const MAX_DEPTH: usize = 64;

/// A cty value.
///
/// Null and unknown are kept apart. A value whose schema type is `dynamic` decodes to the
/// concrete value of the type carried on the wire; the type itself is not kept (encoding infers
/// it again, see [`Value::infer_type`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A null value of any type.
    Null,
    /// A value not known until apply (any msgpack extension on the wire).
    Unknown,
    /// `bool`
    Bool(bool),
    /// `number`
    Number(Number),
    /// `string`
    String(String),
    /// `list(T)`
    List(Vec<Value>),
    /// `set(T)`, elements in wire order.
    Set(Vec<Value>),
    /// `map(T)`
    Map(BTreeMap<String, Value>),
    /// `object({...})`
    Object(BTreeMap<String, Value>),
    /// `tuple([...])`
    Tuple(Vec<Value>),
}

impl Value {
    /// An object value from `(name, value)` pairs.
    pub fn object<'a, I: IntoIterator<Item = (&'a str, Value)>>(attrs: I) -> Value {
        Value::Object(attrs.into_iter().map(|(name, v)| (name.to_owned(), v)).collect())
    }

    /// Whether this is null (unknown is not null).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this value itself is known (its parts may still be unknown).
    pub fn is_known(&self) -> bool {
        !matches!(self, Value::Unknown)
    }

    /// Whether no part of this value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        // Iterative, so a deeply nested value built in code cannot overflow the stack.
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            match v {
                Value::Unknown => return false,
                Value::List(items) | Value::Set(items) | Value::Tuple(items) => stack.extend(items),
                Value::Map(entries) | Value::Object(entries) => stack.extend(entries.values()),
                Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
            }
        }
        true
    }

    /// An object attribute; `None` when this is not an object or has no such attribute.
    pub fn get(&self, attr: &str) -> Option<&Value> {
        match self {
            Value::Object(attrs) => attrs.get(attr),
            _ => None,
        }
    }

    /// The string, when this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, when this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, when this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a map or the attributes of an object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(entries) | Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// A short word for the kind of value: `"null"`, `"list"`, `"string"`...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
        }
    }

    /// The concrete type this value has, as used when encoding it under `dynamic`.
    ///
    /// Null and unknown parts are `dynamic`; collection element types are unified across the
    /// elements (an empty collection has element type `dynamic`). Elements of different types
    /// are an error, as is nesting beyond [`MAX_DEPTH`].
    pub fn infer_type(&self) -> Result<Type, EncodeError> {
        infer(self, &mut Vec::new(), 0)
    }

    /// A close upper estimate of the msgpack size, for sizing the output buffer once.
    pub(crate) fn estimated_msgpack_size(&self) -> usize {
        let mut total = 0usize;
        let mut stack = vec![(self, 0usize)];
        while let Some((v, depth)) = stack.pop() {
            total = total.saturating_add(match v {
                Value::Null | Value::Bool(_) => 1,
                Value::Unknown => 3,
                Value::Number(_) => 9,
                Value::String(s) => s.len().saturating_add(5),
                Value::List(_) | Value::Set(_) | Value::Tuple(_) | Value::Map(_) => 5,
                Value::Object(entries) => entries.keys().map(|k| k.len() + 5).sum::<usize>() + 5,
            });
            if depth < MAX_DEPTH {
                match v {
                    Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                        stack.extend(items.iter().map(|i| (i, depth + 1)))
                    }
                    Value::Map(entries) => {
                        total = total.saturating_add(entries.keys().map(|k| k.len() + 5).sum::<usize>());
                        stack.extend(entries.values().map(|i| (i, depth + 1)))
                    }
                    Value::Object(entries) => stack.extend(entries.values().map(|i| (i, depth + 1))),
                    _ => {}
                }
            }
        }
        // Never reserve absurd amounts up front; the Vec still grows if needed.
        total.min(64 << 20)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(Number::from_i64(n))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

/// A borrowed path step, used while walking so that no step is allocated unless an error is
/// reported.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StepRef<'a> {
    Attr(&'a str),
    Key(&'a str),
    Index(usize),
}

/// The owned [`AttributePath`] for a walk's current steps.
pub(crate) fn path_of(steps: &[StepRef<'_>]) -> AttributePath {
    AttributePath {
        steps: steps
            .iter()
            .map(|s| match s {
                StepRef::Attr(a) => PathStep::Attribute((*a).to_owned()),
                StepRef::Key(k) => PathStep::ElementKeyString((*k).to_owned()),
                StepRef::Index(i) => PathStep::ElementKeyInt(i64::try_from(*i).unwrap_or(i64::MAX)),
            })
            .collect(),
    }
}

fn infer<'a>(v: &'a Value, path: &mut Vec<StepRef<'a>>, depth: usize) -> Result<Type, EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::new(path_of(path), EncodeErrorKind::TooDeep(MAX_DEPTH)));
    }
    let unify_all = |items: &mut dyn Iterator<Item = (StepRef<'a>, &'a Value)>,
                     path: &mut Vec<StepRef<'a>>|
     -> Result<Type, EncodeError> {
        let mut acc = Type::Dynamic;
        for (step, item) in items {
            path.push(step);
            let t = infer(item, path, depth + 1)?;
            acc = unify(&acc, &t).ok_or_else(|| {
                EncodeError::new(
                    path_of(path),
                    EncodeErrorKind::CannotInferType(format!(
                        "element of type {t} does not match earlier elements of type {acc}"
                    )),
                )
            })?;
            path.pop();
        }
        Ok(acc)
    };
    Ok(match v {
        Value::Null | Value::Unknown => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => {
            Type::list(unify_all(&mut items.iter().enumerate().map(|(i, v)| (StepRef::Index(i), v)), path)?)
        }
        Value::Set(items) => {
            Type::set(unify_all(&mut items.iter().enumerate().map(|(i, v)| (StepRef::Index(i), v)), path)?)
        }
        Value::Map(entries) => Type::map(unify_all(&mut entries.iter().map(|(k, v)| (StepRef::Key(k), v)), path)?),
        Value::Object(attrs) => {
            let mut out = BTreeMap::new();
            for (name, item) in attrs {
                path.push(StepRef::Attr(name));
                out.insert(name.clone(), infer(item, path, depth + 1)?);
                path.pop();
            }
            Type::Object(out)
        }
        Value::Tuple(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(StepRef::Index(i));
                out.push(infer(item, path, depth + 1)?);
                path.pop();
            }
            Type::Tuple(out)
        }
    })
}

/// The type both `a` and `b` fit, treating `dynamic` as "not known yet".
fn unify(a: &Type, b: &Type) -> Option<Type> {
    Some(match (a, b) {
        (Type::Dynamic, t) | (t, Type::Dynamic) => t.clone(),
        (Type::List(x), Type::List(y)) => Type::list(unify(x, y)?),
        (Type::Set(x), Type::Set(y)) => Type::set(unify(x, y)?),
        (Type::Map(x), Type::Map(y)) => Type::map(unify(x, y)?),
        (Type::Object(x), Type::Object(y)) if x.len() == y.len() => {
            let mut out = BTreeMap::new();
            for ((kx, tx), (ky, ty)) in x.iter().zip(y) {
                if kx != ky {
                    return None;
                }
                out.insert(kx.clone(), unify(tx, ty)?);
            }
            Type::Object(out)
        }
        (Type::Tuple(x), Type::Tuple(y)) if x.len() == y.len() => {
            Type::Tuple(x.iter().zip(y).map(|(tx, ty)| unify(tx, ty)).collect::<Option<Vec<_>>>()?)
        }
        (x, y) if x == y => x.clone(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let v = Value::object([
            ("a", Value::from("x")),
            ("b", Value::from(true)),
            ("c", Value::from(3i64)),
            ("d", Value::Null),
        ]);
        assert_eq!(v.get("a").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get("b").and_then(Value::as_bool), Some(true));
        assert_eq!(v.get("c").and_then(Value::as_number).and_then(Number::as_i64), Some(3));
        assert!(v.get("d").is_some_and(Value::is_null));
        assert_eq!(v.get("zz"), None);
        assert_eq!(Value::from("x").get("a"), None);
        assert!(!Value::Unknown.is_known());
        assert!(!Value::Unknown.is_null());
        assert!(Value::Null.is_known());
        assert!(v.is_wholly_known());
        let nested = Value::List(vec![Value::object([("x", Value::Unknown)])]);
        assert!(nested.is_known());
        assert!(!nested.is_wholly_known());
    }

    #[test]
    fn infer_unifies_nulls_and_rejects_mixtures() {
        let v = Value::List(vec![
            Value::object([("a", Value::Null), ("b", Value::from(1i64))]),
            Value::object([("a", Value::from("s")), ("b", Value::Unknown)]),
        ]);
        assert_eq!(v.infer_type().unwrap(), Type::list(Type::object([("a", Type::String), ("b", Type::Number)])));
        assert_eq!(Value::Set(vec![]).infer_type().unwrap(), Type::set(Type::Dynamic));
        let bad =
            Value::Map(BTreeMap::from([("k1".to_owned(), Value::from(1i64)), ("k2".to_owned(), Value::from(true))]));
        let e = bad.infer_type().unwrap_err();
        assert_eq!(e.path, AttributePath::root().key("k2"));
        let mut deep = Value::Null;
        for _ in 0..100 {
            deep = Value::Tuple(vec![deep]);
        }
        assert_eq!(deep.infer_type().unwrap_err().kind, EncodeErrorKind::TooDeep(MAX_DEPTH));
    }

    #[test]
    fn estimate_is_an_upper_bound() {
        let v =
            Value::List((0..100).map(|i| Value::object([("n", Value::from(i)), ("s", Value::from("abc"))])).collect());
        let ty = Type::list(Type::object([("n", Type::Number), ("s", Type::String)]));
        let bytes = encode_msgpack(&v, &ty).unwrap();
        assert!(v.estimated_msgpack_size() >= bytes.len());
    }
}
