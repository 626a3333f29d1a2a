//! Typed decode and encode errors, each carrying the path where the problem was found.

use super::path::AttributePath;
use thiserror::Error;

/// Why decoding (msgpack, JSON or type JSON) failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended in the middle of a value.
    #[error("unexpected end of input")]
    Truncated,
    /// Bytes were left over after the value.
    #[error("{0} unexpected trailing byte(s) after the value")]
    TrailingBytes(usize),
    /// A byte that cannot start a value (msgpack 0xc1, or a JSON syntax error).
    #[error("invalid syntax: {0}")]
    Syntax(String),
    /// A declared container length larger than the remaining input could hold.
    #[error("declared length {0} exceeds the remaining input")]
    LengthTooLarge(u64),
    /// Nesting deeper than the limit.
    #[error("value nested deeper than {0} levels")]
    TooDeep(usize),
    /// The wire value does not fit the expected type.
    #[error("expected {expected}, found {found}")]
    TypeMismatch {
        /// The type that was expected here.
        expected: String,
        /// What was found on the wire.
        found: String,
    },
    /// A string that is not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A number that cannot be read.
    #[error("invalid number: {0}")]
    InvalidNumber(String),
    /// An object attribute that the object type does not have.
    #[error("unsupported attribute {0:?}")]
    UnexpectedAttribute(String),
    /// The same key twice in one map or object.
    #[error("duplicate key {0:?}")]
    DuplicateKey(String),
    /// A tuple with the wrong number of elements.
    #[error("tuple has {found} element(s), type has {expected}")]
    TupleLength {
        /// Elements in the type.
        expected: usize,
        /// Elements on the wire.
        found: usize,
    },
    /// A malformed type description.
    #[error("invalid type: {0}")]
    InvalidType(String),
}

/// A decoding failure and where in the value it happened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", render(&self.path, &self.kind))]
pub struct DecodeError {
    /// Where the problem was found.
    pub path: AttributePath,
    /// What the problem is.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub(crate) fn new(path: AttributePath, kind: DecodeErrorKind) -> Self {
        Self { path, kind }
    }

    /// The problem without the path, for diagnostics that carry the path separately.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// Why encoding failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeErrorKind {
    /// The value does not fit the type.
    #[error("expected {expected}, found {found}")]
    TypeMismatch {
        /// The type that was expected here.
        expected: String,
        /// The kind of value that was given.
        found: &'static str,
    },
    /// An object attribute that the object type does not have.
    #[error("unsupported attribute {0:?}")]
    UnexpectedAttribute(String),
    /// A tuple with the wrong number of elements.
    #[error("tuple has {found} element(s), type has {expected}")]
    TupleLength {
        /// Elements in the type.
        expected: usize,
        /// Elements in the value.
        found: usize,
    },
    /// Nesting deeper than the limit.
    #[error("value nested deeper than {0} levels")]
    TooDeep(usize),
    /// A string or collection too long for msgpack (more than 2^32-1).
    #[error("length {0} is too long for msgpack")]
    TooLong(usize),
    /// A dynamic value whose type cannot be worked out (collection elements of different types).
    #[error("cannot infer a type for a dynamic value: {0}")]
    CannotInferType(String),
}

/// An encoding failure and where in the value it happened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", render(&self.path, &self.kind))]
pub struct EncodeError {
    /// Where the problem was found.
    pub path: AttributePath,
    /// What the problem is.
    pub kind: EncodeErrorKind,
}

impl EncodeError {
    pub(crate) fn new(path: AttributePath, kind: EncodeErrorKind) -> Self {
        Self { path, kind }
    }

    /// The problem without the path, for diagnostics that carry the path separately.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

fn render(path: &AttributePath, kind: &dyn std::fmt::Display) -> String {
    if path.is_root() { kind.to_string() } else { format!("{path}: {kind}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_path_unless_root() {
        let e = DecodeError::new(AttributePath::root().attr("a").index(1), DecodeErrorKind::InvalidUtf8);
        assert_eq!(e.to_string(), "a[1]: string is not valid UTF-8");
        assert_eq!(e.message(), "string is not valid UTF-8");
        let e = EncodeError::new(AttributePath::root(), EncodeErrorKind::TooDeep(64));
        assert_eq!(e.to_string(), "value nested deeper than 64 levels");
    }
}
