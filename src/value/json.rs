//! JSON: a small exact parser (numbers keep their text), and decoding JSON DynamicValues.

use super::MAX_DEPTH;
use super::error::{DecodeError, DecodeErrorKind};
use super::number::Number;
use super::path::AttributePath;
use super::types::{self, Type};
use super::{StepRef, Value, path_of};
use std::collections::BTreeMap;

/// Nesting allowed in raw JSON: values up to [`MAX_DEPTH`] plus room for `dynamic` wrappers.
const JSON_MAX_DEPTH: usize = 2 * MAX_DEPTH;

/// A parsed JSON document. Numbers keep their exact text; object members keep their order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn kind_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "JSON boolean",
            Json::Number(_) => "JSON number",
            Json::String(_) => "JSON string",
            Json::Array(_) => "JSON array",
            Json::Object(_) => "JSON object",
        }
    }
}

/// Appends `s` as a JSON string literal, quotes included.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses a whole JSON document (surrounding whitespace allowed, nothing else after it).
pub(crate) fn parse(bytes: &[u8]) -> Result<Json, DecodeError> {
    let root = |kind| DecodeError::new(AttributePath::root(), kind);
    let text = std::str::from_utf8(bytes).map_err(|_| root(DecodeErrorKind::InvalidUtf8))?;
    let mut p = Parser { s: text.as_bytes(), pos: 0 };
    let value = p.value(0).map_err(root)?;
    p.skip_ws();
    if p.pos < p.s.len() {
        return Err(root(DecodeErrorKind::TrailingBytes(p.s.len() - p.pos)));
    }
    Ok(value)
}

struct Parser<'a> {
    /// Valid UTF-8 (checked in [`parse`]).
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn syntax(&self, what: &str) -> DecodeErrorKind {
        if self.pos >= self.s.len() {
            DecodeErrorKind::Truncated
        } else {
            DecodeErrorKind::Syntax(format!("{what} at byte {}", self.pos))
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), DecodeErrorKind> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(&format!("expected '{}'", b as char)))
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, DecodeErrorKind> {
        if self.s.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.syntax("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, DecodeErrorKind> {
        if depth > JSON_MAX_DEPTH {
            return Err(DecodeErrorKind::TooDeep(JSON_MAX_DEPTH));
        }
        self.skip_ws();
        match self.peek() {
            None => Err(DecodeErrorKind::Truncated),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Number),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.syntax("expected ',' or ']'")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.syntax("expected a member name"));
                    }
                    let key = self.string()?;
                    self.expect(b':')?;
                    let v = self.value(depth + 1)?;
                    members.push((key, v));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(members));
                        }
                        _ => return Err(self.syntax("expected ',' or '}'")),
                    }
                }
            }
            Some(_) => Err(self.syntax("unexpected character")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// JSON number grammar; returns the exact text.
    fn number(&mut self) -> Result<String, DecodeErrorKind> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.syntax("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.syntax("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.syntax("invalid number"));
            }
        }
        let text = self.slice(start)?;
        Ok(text.to_owned())
    }

    fn slice(&self, start: usize) -> Result<&str, DecodeErrorKind> {
        self.s.get(start..self.pos).and_then(|b| std::str::from_utf8(b).ok()).ok_or(DecodeErrorKind::InvalidUtf8)
    }

    fn hex4(&mut self) -> Result<u32, DecodeErrorKind> {
        let mut n = 0u32;
        for _ in 0..4 {
            let d =
                self.peek().and_then(|b| (b as char).to_digit(16)).ok_or_else(|| self.syntax("invalid \\u escape"))?;
            n = n * 16 + d;
            self.pos += 1;
        }
        Ok(n)
    }

    /// A string literal starting at the opening quote.
    fn string(&mut self) -> Result<String, DecodeErrorKind> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.peek().is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // Stops only at ASCII bytes, so the run is whole UTF-8.
            out.push_str(self.slice(start)?);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = self.peek().ok_or(DecodeErrorKind::Truncated)?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.syntax("unpaired surrogate"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.syntax("unpaired surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            let c = char::from_u32(code).ok_or_else(|| self.syntax("unpaired surrogate"))?;
                            out.push(c);
                        }
                        _ => return Err(self.syntax("invalid escape")),
                    }
                }
                None => return Err(DecodeErrorKind::Truncated),
                Some(_) => return Err(self.syntax("control character in string")),
            }
        }
    }
}

/// Decodes a JSON DynamicValue of type `ty`.
///
/// Objects are JSON objects (missing attributes are null), maps are JSON objects, lists, sets and
/// tuples are arrays, `dynamic` is `{"value": ..., "type": ...}`. Numbers keep their exact text.
/// As in cty, a string is accepted where a number or bool is expected, and a number or bool where
/// a string is expected. JSON cannot carry unknown values.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let tree = parse(bytes)?;
    let mut path = Vec::new();
    from_json_tree(&tree, ty, &mut path, 0)
}

fn from_json_tree<'a>(
    j: &'a Json,
    ty: &'a Type,
    path: &mut Vec<StepRef<'a>>,
    depth: usize,
) -> Result<Value, DecodeError> {
    let err = |path: &Vec<StepRef<'_>>, kind| DecodeError::new(path_of(path), kind);
    if depth > MAX_DEPTH {
        return Err(err(path, DecodeErrorKind::TooDeep(MAX_DEPTH)));
    }
    let mismatch = |path: &Vec<StepRef<'_>>| {
        err(path, DecodeErrorKind::TypeMismatch { expected: ty.to_string(), found: j.kind_name().to_owned() })
    };
    if let Json::Null = j {
        return Ok(Value::Null);
    }
    match ty {
        Type::Bool => match j {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s == "true" => Ok(Value::Bool(true)),
            Json::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(mismatch(path)),
        },
        Type::Number => match j {
            Json::Number(s) | Json::String(s) => Number::parse(s)
                .map(Value::Number)
                .map_err(|e| err(path, DecodeErrorKind::InvalidNumber(e.to_string()))),
            _ => Err(mismatch(path)),
        },
        Type::String => match j {
            Json::String(s) | Json::Number(s) => Ok(Value::String(s.clone())),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(mismatch(path)),
        },
        Type::Dynamic => {
            let Json::Object(members) = j else {
                return Err(mismatch(path));
            };
            let mut value = None;
            let mut type_tree = None;
            for (k, v) in members {
                let slot = match k.as_str() {
                    "value" => &mut value,
                    "type" => &mut type_tree,
                    other => {
                        return Err(err(path, DecodeErrorKind::UnexpectedAttribute(other.to_owned())));
                    }
                };
                if slot.replace(v).is_some() {
                    return Err(err(path, DecodeErrorKind::DuplicateKey(k.clone())));
                }
            }
            let (Some(value), Some(type_tree)) = (value, type_tree) else {
                return Err(err(
                    path,
                    DecodeErrorKind::InvalidType("a dynamic value needs both \"value\" and \"type\"".into()),
                ));
            };
            let concrete = types::from_tree(type_tree, depth).map_err(|k| err(path, k))?;
            // The type lives only for this call; the decoded value owns its data.
            let mut inner_path = path.clone();
            from_json_tree(value, &concrete, &mut inner_path, depth + 1)
        }
        Type::List(et) | Type::Set(et) => {
            let Json::Array(items) = j else {
                return Err(mismatch(path));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(StepRef::Index(i));
                out.push(from_json_tree(item, et, path, depth + 1)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::Set(_)) { Value::Set(out) } else { Value::List(out) })
        }
        Type::Tuple(ets) => {
            let Json::Array(items) = j else {
                return Err(mismatch(path));
            };
            if items.len() != ets.len() {
                return Err(err(path, DecodeErrorKind::TupleLength { expected: ets.len(), found: items.len() }));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                path.push(StepRef::Index(i));
                out.push(from_json_tree(item, et, path, depth + 1)?);
                path.pop();
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(et) => {
            let Json::Object(members) = j else {
                return Err(mismatch(path));
            };
            let mut out = BTreeMap::new();
            for (k, v) in members {
                path.push(StepRef::Key(k));
                let decoded = from_json_tree(v, et, path, depth + 1)?;
                if out.insert(k.clone(), decoded).is_some() {
                    return Err(err(path, DecodeErrorKind::DuplicateKey(k.clone())));
                }
                path.pop();
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Json::Object(members) = j else {
                return Err(mismatch(path));
            };
            let mut out = BTreeMap::new();
            for (k, v) in members {
                path.push(StepRef::Attr(k));
                let Some(at) = attrs.get(k) else {
                    return Err(err(path, DecodeErrorKind::UnexpectedAttribute(k.clone())));
                };
                let decoded = from_json_tree(v, at, path, depth + 1)?;
                if out.insert(k.clone(), decoded).is_some() {
                    return Err(err(path, DecodeErrorKind::DuplicateKey(k.clone())));
                }
                path.pop();
            }
            for name in attrs.keys() {
                if !out.contains_key(name) {
                    out.insert(name.clone(), Value::Null);
                }
            }
            Ok(Value::Object(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_basics() {
        let j = parse(br#" {"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude00\n"]} "#).unwrap();
        assert_eq!(
            j,
            Json::Object(vec![(
                "a".into(),
                Json::Array(vec![
                    Json::Number("1".into()),
                    Json::Number("-2.5e3".into()),
                    Json::Bool(true),
                    Json::Null,
                    Json::String("x\u{e9}\u{1F600}\n".into()),
                ])
            )])
        );
    }

    #[test]
    fn parser_rejects_garbage() {
        for bad in [
            &b""[..],
            b"{",
            b"[1,]",
            b"01",
            b"1.",
            b"-",
            b"\"abc",
            b"\"\\x\"",
            b"\"\\ud800\"",
            b"\"a\x01\"",
            b"nul",
            b"{\"a\" 1}",
            b"[1] [2]",
            b"\xff",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(10_000);
        assert!(matches!(parse(deep.as_bytes()).unwrap_err().kind, DecodeErrorKind::TooDeep(_)));
    }

    #[test]
    fn write_json_string_escapes() {
        let mut s = String::new();
        write_json_string(&mut s, "a\"b\\c\n\u{1}");
        assert_eq!(s, r#""a\"b\\c\n\u0001""#);
        assert_eq!(parse(s.as_bytes()).unwrap(), Json::String("a\"b\\c\n\u{1}".into()));
    }
}
