//! Just enough MessagePack for a configuration (a map of strings and nils) and for reading the
//! state back: kept here so that the release test depends on no codec of the provider's own.

/// A decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Bin(Vec<u8>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Ext(i8, Vec<u8>),
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| *k == Value::Str(key.to_owned())).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i128),
            _ => None,
        }
    }
}

/// Encodes a map of `(key, Some(string) | None)`.
pub fn encode_string_map(entries: &[(String, Option<String>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = entries.len();
    if n < 16 {
        out.push(0x80 | n as u8);
    } else {
        out.push(0xde);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    }
    for (k, v) in entries {
        encode_str(&mut out, k);
        match v {
            Some(s) => encode_str(&mut out, s),
            None => out.push(0xc0),
        }
    }
    out
}

fn encode_str(out: &mut Vec<u8>, s: &str) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n < 256 {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

/// Decodes one value that must span all of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Value, String> {
    let mut pos = 0;
    let value = read(bytes, &mut pos)?;
    if pos != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - pos));
    }
    Ok(value)
}

fn take<'a>(bytes: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
    let end = pos.checked_add(n).filter(|&e| e <= bytes.len()).ok_or("truncated msgpack")?;
    let slice = &bytes[*pos..end];
    *pos = end;
    Ok(slice)
}

fn uint(bytes: &[u8], pos: &mut usize, n: usize) -> Result<u64, String> {
    Ok(take(bytes, pos, n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

fn read(bytes: &[u8], pos: &mut usize) -> Result<Value, String> {
    let tag = take(bytes, pos, 1)?[0];
    let len = |pos: &mut usize, n: usize| uint(bytes, pos, n).map(|v| v as usize);
    Ok(match tag {
        0x00..=0x7f => Value::Int(i128::from(tag)),
        0x80..=0x8f => map(bytes, pos, usize::from(tag & 0x0f))?,
        0x90..=0x9f => array(bytes, pos, usize::from(tag & 0x0f))?,
        0xa0..=0xbf => string(bytes, pos, usize::from(tag & 0x1f))?,
        0xc0 => Value::Nil,
        0xc2 => Value::Bool(false),
        0xc3 => Value::Bool(true),
        0xc4..=0xc6 => {
            let n = len(pos, 1 << (tag - 0xc4))?;
            Value::Bin(take(bytes, pos, n)?.to_vec())
        }
        0xc7..=0xc9 => {
            let n = len(pos, 1 << (tag - 0xc7))?;
            let ty = take(bytes, pos, 1)?[0] as i8;
            Value::Ext(ty, take(bytes, pos, n)?.to_vec())
        }
        0xca => Value::Float(f64::from(f32::from_bits(uint(bytes, pos, 4)? as u32))),
        0xcb => Value::Float(f64::from_bits(uint(bytes, pos, 8)?)),
        0xcc..=0xcf => Value::Int(i128::from(uint(bytes, pos, 1 << (tag - 0xcc))?)),
        0xd0..=0xd3 => {
            let n = 1usize << (tag - 0xd0);
            let raw = uint(bytes, pos, n)?;
            let shift = 64 - 8 * n as u32;
            Value::Int(i128::from(((raw << shift) as i64) >> shift))
        }
        0xd4..=0xd8 => {
            let ty = take(bytes, pos, 1)?[0] as i8;
            Value::Ext(ty, take(bytes, pos, 1 << (tag - 0xd4))?.to_vec())
        }
        0xd9..=0xdb => {
            let n = len(pos, 1 << (tag - 0xd9))?;
            string(bytes, pos, n)?
        }
        0xdc | 0xdd => {
            let n = len(pos, if tag == 0xdc { 2 } else { 4 })?;
            array(bytes, pos, n)?
        }
        0xde | 0xdf => {
            let n = len(pos, if tag == 0xde { 2 } else { 4 })?;
            map(bytes, pos, n)?
        }
        0xe0..=0xff => Value::Int(i128::from(tag as i8)),
        0xc1 => return Err("msgpack tag 0xc1 is never used".into()),
    })
}

fn string(bytes: &[u8], pos: &mut usize, n: usize) -> Result<Value, String> {
    let raw = take(bytes, pos, n)?;
    String::from_utf8(raw.to_vec()).map(Value::Str).map_err(|e| e.to_string())
}

fn array(bytes: &[u8], pos: &mut usize, n: usize) -> Result<Value, String> {
    (0..n).map(|_| read(bytes, pos)).collect::<Result<Vec<_>, _>>().map(Value::Array)
}

fn map(bytes: &[u8], pos: &mut usize, n: usize) -> Result<Value, String> {
    (0..n).map(|_| Ok((read(bytes, pos)?, read(bytes, pos)?))).collect::<Result<Vec<_>, String>>().map(Value::Map)
}

#[test]
fn round_trip() {
    let bytes = encode_string_map(&[("a".into(), Some("x".repeat(40))), ("b".into(), None)]);
    let value = decode(&bytes).expect("decode");
    assert_eq!(value.get("a"), Some(&Value::Str("x".repeat(40))));
    assert_eq!(value.get("b"), Some(&Value::Nil));
    assert_eq!(decode(&[0xd1, 0xff, 0x38]).expect("int16"), Value::Int(-200));
    assert_eq!(decode(&[0xcd, 0x01, 0x00]).expect("uint16"), Value::Int(256));
}
