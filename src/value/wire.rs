//! Low-level msgpack: a bounds-checked reader of one item header at a time, and writers that append
//! the most compact encoding straight into a `Vec<u8>`.
//!
//! Hand-written (the format is small) so that every length is checked against the remaining input
//! before anything is allocated, and so that encoding needs no intermediate value tree.

use super::error::{DecodeErrorKind, EncodeErrorKind};

/// One msgpack item as it starts in the input. Byte payloads are borrowed; for arrays and maps only
/// the count is read, the elements follow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Head<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    F32(f32),
    F64(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext(i8, &'a [u8]),
}

impl Head<'_> {
    /// What was found, for type-mismatch messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Head::Nil => "msgpack nil".into(),
            Head::Bool(_) => "msgpack bool".into(),
            Head::Int(_) | Head::Uint(_) => "msgpack integer".into(),
            Head::F32(_) | Head::F64(_) => "msgpack float".into(),
            Head::Str(_) => "msgpack string".into(),
            Head::Bin(_) => "msgpack binary".into(),
            Head::Array(n) => format!("msgpack array of {n} element(s)"),
            Head::Map(n) => format!("msgpack map of {n} entr{}", if *n == 1 { "y" } else { "ies" }),
            Head::Ext(t, _) => format!("msgpack extension type {t}"),
        }
    }
}

/// Reads msgpack items from a byte slice, never past its end.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeErrorKind> {
        let end = self.pos.checked_add(n).ok_or(DecodeErrorKind::Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(DecodeErrorKind::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeErrorKind> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeErrorKind> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    /// A big-endian length of `width` bytes (1, 2 or 4).
    fn len(&mut self, width: usize) -> Result<usize, DecodeErrorKind> {
        let n = match width {
            1 => u32::from(self.u8()?),
            2 => u32::from(u16::from_be_bytes(self.array()?)),
            _ => u32::from_be_bytes(self.array()?),
        };
        usize::try_from(n).map_err(|_| DecodeErrorKind::LengthTooLarge(u64::from(n)))
    }

    /// A container count, refused when the rest of the input cannot hold that many items of at
    /// least one byte each (`per_item` bytes for maps: a key and a value).
    fn count(&mut self, n: usize, per_item: usize) -> Result<usize, DecodeErrorKind> {
        if n.saturating_mul(per_item) > self.remaining() {
            return Err(DecodeErrorKind::LengthTooLarge(n as u64));
        }
        Ok(n)
    }

    fn ext(&mut self, len: usize) -> Result<Head<'a>, DecodeErrorKind> {
        let t = i8::from_be_bytes(self.array()?);
        Ok(Head::Ext(t, self.take(len)?))
    }

    /// Reads the header of the next item (and the payload of strings, binaries and extensions).
    pub(crate) fn head(&mut self) -> Result<Head<'a>, DecodeErrorKind> {
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7f => Head::Int(i64::from(m)),
            0x80..=0x8f => Head::Map(self.count(usize::from(m & 0x0f), 2)?),
            0x90..=0x9f => Head::Array(self.count(usize::from(m & 0x0f), 1)?),
            0xa0..=0xbf => Head::Str(self.take(usize::from(m & 0x1f))?),
            0xc0 => Head::Nil,
            0xc1 => return Err(DecodeErrorKind::Syntax("reserved msgpack byte 0xc1".into())),
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4..=0xc6 => {
                let n = self.len(1 << (m - 0xc4))?;
                Head::Bin(self.take(n)?)
            }
            0xc7..=0xc9 => {
                let n = self.len(1 << (m - 0xc7))?;
                self.ext(n)?
            }
            0xca => Head::F32(f32::from_be_bytes(self.array()?)),
            0xcb => Head::F64(f64::from_be_bytes(self.array()?)),
            0xcc => Head::Uint(u64::from(self.u8()?)),
            0xcd => Head::Uint(u64::from(u16::from_be_bytes(self.array()?))),
            0xce => Head::Uint(u64::from(u32::from_be_bytes(self.array()?))),
            0xcf => Head::Uint(u64::from_be_bytes(self.array()?)),
            0xd0 => Head::Int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => Head::Int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => Head::Int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => Head::Int(i64::from_be_bytes(self.array()?)),
            0xd4..=0xd8 => self.ext(1 << (m - 0xd4))?,
            0xd9..=0xdb => {
                let n = self.len(1 << (m - 0xd9))?;
                Head::Str(self.take(n)?)
            }
            0xdc | 0xdd => {
                let n = self.len(if m == 0xdc { 2 } else { 4 })?;
                Head::Array(self.count(n, 1)?)
            }
            0xde | 0xdf => {
                let n = self.len(if m == 0xde { 2 } else { 4 })?;
                Head::Map(self.count(n, 2)?)
            }
            0xe0..=0xff => Head::Int(i64::from(i8::from_be_bytes([m]))),
        })
    }
}

/// Appends nil.
pub(crate) fn write_nil(out: &mut Vec<u8>) {
    out.push(0xc0);
}

/// Appends an unknown value: fixext1, extension type 0, payload 0.
pub(crate) fn write_unknown(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0xd4, 0x00, 0x00]);
}

/// Appends a bool.
pub(crate) fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.push(if b { 0xc3 } else { 0xc2 });
}

/// Appends an integer in its most compact form (unsigned formats for non-negative values).
pub(crate) fn write_int(out: &mut Vec<u8>, n: i64) {
    if let Ok(u) = u64::try_from(n) {
        if let Ok(b) = u8::try_from(u) {
            if b <= 0x7f {
                out.push(b);
            } else {
                out.extend_from_slice(&[0xcc, b]);
            }
        } else if let Ok(w) = u16::try_from(u) {
            out.push(0xcd);
            out.extend_from_slice(&w.to_be_bytes());
        } else if let Ok(w) = u32::try_from(u) {
            out.push(0xce);
            out.extend_from_slice(&w.to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if let Ok(b) = i8::try_from(n) {
        if b >= -32 {
            out.extend_from_slice(&b.to_be_bytes());
        } else {
            out.push(0xd0);
            out.extend_from_slice(&b.to_be_bytes());
        }
    } else if let Ok(w) = i16::try_from(n) {
        out.push(0xd1);
        out.extend_from_slice(&w.to_be_bytes());
    } else if let Ok(w) = i32::try_from(n) {
        out.push(0xd2);
        out.extend_from_slice(&w.to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a float64.
pub(crate) fn write_f64(out: &mut Vec<u8>, f: f64) {
    out.push(0xcb);
    out.extend_from_slice(&f.to_be_bytes());
}

/// Appends a header with a length: `fix` (the fixed-size form's base byte and limit) when it fits,
/// else the 8-bit (if `m8` is given), 16-bit or 32-bit form.
fn write_len(
    out: &mut Vec<u8>,
    n: usize,
    fix: Option<(u8, usize)>,
    m8: Option<u8>,
    m16: u8,
    m32: u8,
) -> Result<(), EncodeErrorKind> {
    match (fix, m8) {
        (Some((base, limit)), _) if n < limit => out.push(base | n as u8),
        (_, Some(m)) if n <= usize::from(u8::MAX) => out.extend_from_slice(&[m, n as u8]),
        _ => {
            if let Ok(w) = u16::try_from(n) {
                out.push(m16);
                out.extend_from_slice(&w.to_be_bytes());
            } else if let Ok(w) = u32::try_from(n) {
                out.push(m32);
                out.extend_from_slice(&w.to_be_bytes());
            } else {
                return Err(EncodeErrorKind::TooLong(n));
            }
        }
    }
    Ok(())
}

/// Appends a UTF-8 string.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), EncodeErrorKind> {
    write_len(out, s.len(), Some((0xa0, 32)), Some(0xd9), 0xda, 0xdb)?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Appends binary data.
pub(crate) fn write_bin(out: &mut Vec<u8>, b: &[u8]) -> Result<(), EncodeErrorKind> {
    write_len(out, b.len(), None, Some(0xc4), 0xc5, 0xc6)?;
    out.extend_from_slice(b);
    Ok(())
}

/// Appends an array header for `n` elements.
pub(crate) fn write_array_len(out: &mut Vec<u8>, n: usize) -> Result<(), EncodeErrorKind> {
    write_len(out, n, Some((0x90, 16)), None, 0xdc, 0xdd)
}

/// Appends a map header for `n` entries.
pub(crate) fn write_map_len(out: &mut Vec<u8>, n: usize) -> Result<(), EncodeErrorKind> {
    write_len(out, n, Some((0x80, 16)), None, 0xde, 0xdf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heads(bytes: &[u8]) -> Vec<Head<'_>> {
        let mut r = Reader::new(bytes);
        let mut out = Vec::new();
        while r.remaining() > 0 {
            out.push(r.head().unwrap());
        }
        out
    }

    #[test]
    fn ints_round_trip_in_compact_form() {
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7f]),
            (128, &[0xcc, 0x80]),
            (255, &[0xcc, 0xff]),
            (256, &[0xcd, 0x01, 0x00]),
            (65_536, &[0xce, 0x00, 0x01, 0x00, 0x00]),
            (1 << 32, &[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
            (-1, &[0xff]),
            (-32, &[0xe0]),
            (-33, &[0xd0, 0xdf]),
            (-129, &[0xd1, 0xff, 0x7f]),
            (-32_769, &[0xd2, 0xff, 0xff, 0x7f, 0xff]),
            (i64::MIN, &[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        ];
        for (n, bytes) in cases {
            let mut out = Vec::new();
            write_int(&mut out, *n);
            assert_eq!(out, *bytes, "{n}");
            let expected = if *n >= 128 { Head::Uint(*n as u64) } else { Head::Int(*n) };
            assert_eq!(heads(bytes), vec![expected], "{n}");
        }
    }

    #[test]
    fn length_forms() {
        let mut out = Vec::new();
        write_str(&mut out, &"a".repeat(31)).unwrap();
        assert_eq!(out[0], 0xbf);
        out.clear();
        write_str(&mut out, &"a".repeat(32)).unwrap();
        assert_eq!(&out[..2], &[0xd9, 32]);
        out.clear();
        write_str(&mut out, &"a".repeat(256)).unwrap();
        assert_eq!(&out[..3], &[0xda, 0x01, 0x00]);
        out.clear();
        write_bin(&mut out, b"ab").unwrap();
        assert_eq!(out, [0xc4, 2, b'a', b'b']);
        out.clear();
        write_array_len(&mut out, 15).unwrap();
        write_array_len(&mut out, 16).unwrap();
        write_map_len(&mut out, 15).unwrap();
        write_map_len(&mut out, 70_000).unwrap();
        assert_eq!(out, [0x9f, 0xdc, 0x00, 0x10, 0x8f, 0xdf, 0x00, 0x01, 0x11, 0x70]);
    }

    #[test]
    fn reads_every_family() {
        let bytes = [
            0xc0, 0xc2, 0xc3, 0xa1, b'x', 0xd9, 1, b'y', 0xc4, 1, 9, 0xca, 0x3f, 0x80, 0, 0, 0xd4, 0, 0, 0xc7, 1, 12,
            7, 0xd0, 0x80,
        ];
        assert_eq!(
            heads(&bytes),
            vec![
                Head::Nil,
                Head::Bool(false),
                Head::Bool(true),
                Head::Str(b"x"),
                Head::Str(b"y"),
                Head::Bin(&[9]),
                Head::F32(1.0),
                Head::Ext(0, &[0]),
                Head::Ext(12, &[7]),
                Head::Int(-128),
            ]
        );
    }

    #[test]
    fn refuses_bad_input() {
        for (bytes, kind) in [
            (&[0xc1][..], DecodeErrorKind::Syntax("reserved msgpack byte 0xc1".into())),
            (&[0xa3, b'a'], DecodeErrorKind::Truncated),
            (&[0xcb, 0, 0], DecodeErrorKind::Truncated),
            (&[0xdb, 0xff, 0xff, 0xff, 0xff], DecodeErrorKind::Truncated),
            (&[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0], DecodeErrorKind::LengthTooLarge(0xffff_ffff)),
            (&[0x81, 0xc0], DecodeErrorKind::LengthTooLarge(1)),
            (&[0x92, 0xc0], DecodeErrorKind::LengthTooLarge(2)),
            (&[], DecodeErrorKind::Truncated),
        ] {
            assert_eq!(Reader::new(bytes).head(), Err(kind), "{bytes:x?}");
        }
    }
}
