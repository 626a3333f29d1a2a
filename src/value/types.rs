//! cty types and Terraform's type JSON (`"string"`, `["list",["object",{"port":"number"}]]`).

use super::MAX_DEPTH;
use super::error::{DecodeError, DecodeErrorKind};
use super::path::AttributePath;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt;

/// A cty type, as used in schemas and carried by `dynamic` values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `bool`
    Bool,
    /// `number`
    Number,
    /// `string`
    String,
    /// `dynamic` (cty's DynamicPseudoType): the concrete type travels with the value.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({name = T, ...})`
    Object(BTreeMap<String, Type>),
    /// `tuple([T, ...])`
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(t)`
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// `set(t)`
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    /// `map(t)`
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// `object({...})` from `(name, type)` pairs; a repeated name keeps the last type.
    pub fn object<'a, I: IntoIterator<Item = (&'a str, Type)>>(attrs: I) -> Type {
        Type::Object(attrs.into_iter().map(|(name, t)| (name.to_owned(), t)).collect())
    }

    /// `tuple([...])`
    pub fn tuple<I: IntoIterator<Item = Type>>(elems: I) -> Type {
        Type::Tuple(elems.into_iter().collect())
    }

    /// Terraform's type JSON, compact, object attributes in name order.
    ///
    /// `Type::String` gives `"string"`; a list of objects gives
    /// `["list",["object",{"port":"number"}]]`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write_json(&mut out);
        out.into_bytes()
    }

    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Type::Bool => out.push_str("\"bool\""),
            Type::Number => out.push_str("\"number\""),
            Type::String => out.push_str("\"string\""),
            Type::Dynamic => out.push_str("\"dynamic\""),
            Type::List(t) | Type::Set(t) | Type::Map(t) => {
                out.push_str("[\"");
                out.push_str(self.kind_name());
                out.push_str("\",");
                t.write_json(out);
                out.push(']');
            }
            Type::Object(attrs) => {
                out.push_str("[\"object\",{");
                for (i, (name, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    // Serialising a string cannot fail.
                    out.push_str(&serde_json::to_string(name).unwrap_or_default());
                    out.push(':');
                    t.write_json(out);
                }
                out.push_str("}]");
            }
            Type::Tuple(elems) => {
                out.push_str("[\"tuple\",[");
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    t.write_json(out);
                }
                out.push_str("]]");
            }
        }
    }

    /// Reads Terraform's type JSON. Object types may carry a third element listing optional
    /// attributes (`["object",{...},["a"]]`); it is checked and otherwise ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Type, DecodeError> {
        // serde_json refuses nesting beyond 128 levels itself, before building anything deep.
        let tree: Json = serde_json::from_slice(bytes).map_err(|e| {
            let kind = if e.to_string().contains("recursion limit") {
                DecodeErrorKind::TooDeep(MAX_DEPTH)
            } else {
                DecodeErrorKind::InvalidType(format!("not valid type JSON: {e}"))
            };
            DecodeError::new(AttributePath::root(), kind)
        })?;
        from_tree(&tree, 0).map_err(|kind| DecodeError::new(AttributePath::root(), kind))
    }

    /// The word for this kind of type: `"list"`, `"object"`, `"string"`...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Number => "number",
            Type::String => "string",
            Type::Dynamic => "dynamic",
            Type::List(_) => "list",
            Type::Set(_) => "set",
            Type::Map(_) => "map",
            Type::Object(_) => "object",
            Type::Tuple(_) => "tuple",
        }
    }
}

impl fmt::Display for Type {
    /// HCL type-constraint syntax: `list(object({n=number}))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool | Type::Number | Type::String => f.write_str(self.kind_name()),
            Type::Dynamic => f.write_str("any"),
            Type::List(t) | Type::Set(t) | Type::Map(t) => write!(f, "{}({t})", self.kind_name()),
            Type::Object(attrs) => {
                f.write_str("object({")?;
                for (i, (name, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={t}")?;
                }
                f.write_str("})")
            }
            Type::Tuple(elems) => {
                f.write_str("tuple([")?;
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

/// Converts a parsed type-JSON tree into a [`Type`].
fn from_tree(tree: &Json, depth: usize) -> Result<Type, DecodeErrorKind> {
    if depth > MAX_DEPTH {
        return Err(DecodeErrorKind::TooDeep(MAX_DEPTH));
    }
    let invalid = |msg: &str| DecodeErrorKind::InvalidType(msg.to_owned());
    match tree {
        Json::String(name) => match name.as_str() {
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(invalid(&format!("unknown primitive type {other:?}"))),
        },
        Json::Array(items) => {
            let (kind, args) = match items.as_slice().split_first() {
                Some((Json::String(kind), args)) => (kind.as_str(), args),
                _ => return Err(invalid("a type array must start with its kind")),
            };
            match (kind, args) {
                ("list", [elem]) => Ok(Type::list(from_tree(elem, depth + 1)?)),
                ("set", [elem]) => Ok(Type::set(from_tree(elem, depth + 1)?)),
                ("map", [elem]) => Ok(Type::map(from_tree(elem, depth + 1)?)),
                ("object", [Json::Object(attrs), rest @ ..]) if rest.len() <= 1 => {
                    let mut out = BTreeMap::new();
                    for (name, t) in attrs {
                        out.insert(name.clone(), from_tree(t, depth + 1)?);
                    }
                    if let Some(optional) = rest.first() {
                        let Json::Array(names) = optional else {
                            return Err(invalid("optional attributes must be an array"));
                        };
                        for n in names {
                            match n {
                                Json::String(n) if out.contains_key(n) => {}
                                _ => return Err(invalid("bad optional attribute name")),
                            }
                        }
                    }
                    Ok(Type::Object(out))
                }
                ("tuple", [Json::Array(elems)]) => {
                    elems.iter().map(|t| from_tree(t, depth + 1)).collect::<Result<Vec<_>, _>>().map(Type::Tuple)
                }
                ("list" | "set" | "map" | "object" | "tuple", _) => Err(invalid(&format!("malformed {kind} type"))),
                (other, _) => Err(invalid(&format!("unknown type kind {other:?}"))),
            }
        }
        _ => Err(invalid("a type must be a string or an array")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_json_examples() {
        assert_eq!(Type::String.to_json(), b"\"string\"");
        assert_eq!(
            Type::list(Type::object([("port", Type::Number)])).to_json(),
            b"[\"list\",[\"object\",{\"port\":\"number\"}]]"
        );
        assert_eq!(Type::tuple([Type::Bool, Type::Dynamic]).to_json(), b"[\"tuple\",[\"bool\",\"dynamic\"]]");
        assert_eq!(Type::Tuple(vec![]).to_json(), b"[\"tuple\",[]]");
    }

    #[test]
    fn from_json_round_trip_and_optional_attrs() {
        let t = Type::map(Type::set(Type::object([("a", Type::String), ("b", Type::list(Type::Number))])));
        assert_eq!(Type::from_json(&t.to_json()).unwrap(), t);
        let with_optional = br#" [ "object" , {"a":"string","b":"bool"}, ["b"] ] "#;
        assert_eq!(Type::from_json(with_optional).unwrap(), Type::object([("a", Type::String), ("b", Type::Bool)]));
    }

    #[test]
    fn from_json_rejects_bad_types() {
        for bad in [
            &b"\"strin\""[..],
            b"[\"list\"]",
            b"[\"list\",\"string\",\"string\"]",
            b"[\"object\",[]]",
            b"[\"object\",{\"a\":\"string\"},[\"b\"]]",
            b"[\"tuple\",\"string\"]",
            b"[\"frob\",\"string\"]",
            b"42",
            b"[]",
            b"\"string\" x",
        ] {
            assert!(Type::from_json(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{}\"string\"{}", "[\"list\",".repeat(100), "]".repeat(100));
        let err = Type::from_json(deep.as_bytes()).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::TooDeep(MAX_DEPTH));
    }

    #[test]
    fn display_hcl_like() {
        let t = Type::list(Type::object([("n", Type::Number)]));
        assert_eq!(t.to_string(), "list(object({n=number}))");
    }
}
