//! A borrowing protobuf wire-format reader.
//!
//! The fingerprint engine walks OTLP requests field by field over the request
//! bytes instead of decoding them into owned structs: strings and nested
//! messages are sub-slices of the input, so nothing is allocated per span or
//! data point.

use std::fmt;

/// Why bytes are not a valid protobuf message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The input ends inside a field.
    Truncated,
    /// A varint runs over 10 bytes.
    VarintTooLong,
    /// Field number 0, or a wire type protobuf does not define (groups included).
    InvalidTag(u64),
    /// A field has a wire type its schema does not allow.
    WrongWireType { field: u32 },
    /// A string field is not UTF-8.
    InvalidUtf8 { field: u32 },
    /// Messages nest deeper than the reader allows.
    TooDeep,
}

impl std::error::Error for WireError {}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => f.write_str("message is truncated"),
            WireError::VarintTooLong => f.write_str("varint is longer than 10 bytes"),
            WireError::InvalidTag(tag) => write!(f, "invalid field tag {tag}"),
            WireError::WrongWireType { field } => {
                write!(f, "field {field} has the wrong wire type")
            }
            WireError::InvalidUtf8 { field } => {
                write!(f, "string field {field} is not valid UTF-8")
            }
            WireError::TooDeep => f.write_str("messages nest too deeply"),
        }
    }
}

/// The value of one field, borrowed from the message bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    /// Length-delimited: a string, bytes, a nested message or a packed array.
    Bytes(&'a [u8]),
}

impl<'a> Value<'a> {
    /// The value as an unsigned integer (varint or fixed), 0 for bytes.
    #[inline]
    pub fn as_u64(self) -> u64 {
        match self {
            Value::Varint(v) | Value::Fixed64(v) => v,
            Value::Fixed32(v) => u64::from(v),
            Value::Bytes(_) => 0,
        }
    }

    /// The value as a length-delimited slice, empty for scalars.
    #[inline]
    pub fn as_bytes(self) -> &'a [u8] {
        match self {
            Value::Bytes(b) => b,
            _ => &[],
        }
    }

    /// The value as a string. Only call after [`validate`] checked the field.
    #[inline]
    pub fn as_str(self) -> &'a str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// Iterates over the fields of one message.
#[derive(Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

/// Iterates the fields of `message`, yielding `(field number, value)`.
#[inline]
pub fn fields(message: &[u8]) -> Fields<'_> {
    Fields { rest: message }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let item = self.read_field();
        if item.is_err() {
            // Stop after the first error: the rest cannot be framed.
            self.rest = &[];
        }
        Some(item)
    }
}

impl<'a> Fields<'a> {
    /// The bytes not read yet: the next field onwards.
    #[inline]
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    #[inline]
    fn read_field(&mut self) -> Result<(u32, Value<'a>), WireError> {
        let tag = read_varint(&mut self.rest)?;
        let field = tag >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(WireError::InvalidTag(tag));
        }
        let field = field as u32;
        let value = match tag & 7 {
            0 => Value::Varint(read_varint(&mut self.rest)?),
            1 => {
                let (head, tail) = self
                    .rest
                    .split_first_chunk::<8>()
                    .ok_or(WireError::Truncated)?;
                self.rest = tail;
                Value::Fixed64(u64::from_le_bytes(*head))
            }
            2 => {
                let len = read_varint(&mut self.rest)?;
                let len = usize::try_from(len).map_err(|_| WireError::Truncated)?;
                if len > self.rest.len() {
                    return Err(WireError::Truncated);
                }
                let (head, tail) = self.rest.split_at(len);
                self.rest = tail;
                Value::Bytes(head)
            }
            5 => {
                let (head, tail) = self
                    .rest
                    .split_first_chunk::<4>()
                    .ok_or(WireError::Truncated)?;
                self.rest = tail;
                Value::Fixed32(u32::from_le_bytes(*head))
            }
            _ => return Err(WireError::InvalidTag(tag)),
        };
        Ok((field, value))
    }
}

/// Reads a base-128 varint from the front of `buf`.
#[inline]
pub fn read_varint(buf: &mut &[u8]) -> Result<u64, WireError> {
    // Tags and most lengths fit in one byte.
    if let Some((&byte, rest)) = buf.split_first()
        && byte < 0x80
    {
        *buf = rest;
        return Ok(u64::from(byte));
    }
    let mut value = 0u64;
    for (i, &byte) in buf.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *buf = &buf[i + 1..];
            return Ok(value);
        }
    }
    if buf.len() >= 10 {
        Err(WireError::VarintTooLong)
    } else {
        Err(WireError::Truncated)
    }
}

/// What a field of a message schema holds, for validation.
#[derive(Debug, Clone, Copy)]
pub enum FieldKind {
    /// A UTF-8 string.
    String,
    /// A nested message of the given schema.
    Message(&'static Schema),
    /// Bytes, packed scalars, or any other length-delimited payload that is not
    /// descended into.
    Bytes,
    /// A varint scalar (int, enum, bool).
    Varint,
    /// A fixed64 or double scalar, or a packed array of them.
    Fixed64,
    /// A fixed32 or float scalar.
    Fixed32,
    /// A nested message checked by a dedicated function (given the message
    /// and its depth): a fast path for messages that dominate requests.
    Custom(fn(&[u8], usize) -> Result<(), WireError>),
}

/// Largest field number a schema can describe (OTLP's Span has 16).
const MAX_FIELD: usize = 16;

/// The fields of one message type that validation checks; other fields are
/// skipped (unknown fields are allowed, as protobuf requires).
#[derive(Debug)]
pub struct Schema {
    /// Message name, for error messages.
    pub name: &'static str,
    /// Known fields, indexed by field number.
    kinds: [Option<FieldKind>; MAX_FIELD + 1],
}

impl Schema {
    /// A schema from `(field number, kind)` pairs (numbers up to 16).
    pub const fn new(name: &'static str, fields: &[(u32, FieldKind)]) -> Schema {
        let mut kinds = [None; MAX_FIELD + 1];
        let mut i = 0;
        while i < fields.len() {
            let (number, kind) = fields[i];
            assert!(
                number as usize <= MAX_FIELD,
                "field number beyond MAX_FIELD"
            );
            kinds[number as usize] = Some(kind);
            i += 1;
        }
        Schema { name, kinds }
    }

    #[inline]
    fn kind(&self, number: u32) -> Option<FieldKind> {
        self.kinds.get(number as usize).copied().flatten()
    }
}

/// How deep messages may nest; AnyValue arrays and kvlists are recursive.
pub const MAX_DEPTH: usize = 64;

/// Checks that `message` frames correctly and that every known field has its
/// schema's wire type, with valid UTF-8 in strings, recursively. Run before
/// fingerprinting so that a malformed request changes no state.
pub fn validate(message: &[u8], schema: &Schema) -> Result<(), WireError> {
    validate_at(message, schema, 0)
}

/// Whether `bytes` are UTF-8; most OTLP strings are short ASCII, checked a
/// word at a time.
#[inline]
pub fn is_utf8(bytes: &[u8]) -> bool {
    bytes.is_ascii() || std::str::from_utf8(bytes).is_ok()
}

/// Checks `message` against `schema` at nesting `depth`.
fn validate_at(message: &[u8], schema: &Schema, depth: usize) -> Result<(), WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::TooDeep);
    }
    for field in fields(message) {
        let (number, value) = field?;
        let Some(kind) = schema.kind(number) else {
            continue;
        };
        match (kind, value) {
            (FieldKind::String, Value::Bytes(b)) => {
                if !is_utf8(b) {
                    return Err(WireError::InvalidUtf8 { field: number });
                }
            }
            (FieldKind::Message(inner), Value::Bytes(b)) => validate_at(b, inner, depth + 1)?,
            (FieldKind::Custom(check), Value::Bytes(b)) => check(b, depth + 1)?,
            (FieldKind::Bytes, Value::Bytes(_))
            | (FieldKind::Varint, Value::Varint(_))
            | (FieldKind::Fixed64, Value::Fixed64(_) | Value::Bytes(_))
            | (FieldKind::Fixed32, Value::Fixed32(_)) => {}
            _ => return Err(WireError::WrongWireType { field: number }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_wire_type_borrowing_the_input() {
        // field 1 varint 150, field 2 "hi", field 3 fixed64 7, field 4 fixed32 9
        let bytes = [
            0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x19, 7, 0, 0, 0, 0, 0, 0, 0, 0x25, 9, 0, 0,
            0,
        ];
        let got: Vec<_> = fields(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            got,
            vec![
                (1, Value::Varint(150)),
                (2, Value::Bytes(b"hi")),
                (3, Value::Fixed64(7)),
                (4, Value::Fixed32(9)),
            ]
        );
        assert!(std::ptr::eq(got[1].1.as_bytes().as_ptr(), &bytes[5]));
    }

    #[test]
    fn truncated_length_delimited_field_is_an_error() {
        let bytes = [0x12, 0x05, b'a', b'b'];
        assert_eq!(fields(&bytes).next(), Some(Err(WireError::Truncated)));
    }

    #[test]
    fn field_number_zero_and_group_wire_types_are_rejected() {
        assert_eq!(
            fields(&[0x00, 0x01]).next(),
            Some(Err(WireError::InvalidTag(0)))
        );
        assert_eq!(
            fields(&[0x0b]).next(),
            Some(Err(WireError::InvalidTag(0x0b)))
        );
    }

    #[test]
    fn eleven_byte_varint_is_rejected() {
        let bytes = [0xff; 11];
        let mut buf = &bytes[..];
        assert_eq!(read_varint(&mut buf), Err(WireError::VarintTooLong));
    }

    static INNER: Schema = Schema::new("Inner", &[(1, FieldKind::String)]);
    static OUTER: Schema = Schema::new(
        "Outer",
        &[(1, FieldKind::Message(&INNER)), (2, FieldKind::Varint)],
    );

    #[test]
    fn validation_descends_and_checks_utf8_and_wire_types() {
        assert_eq!(
            validate(&[0x0a, 0x03, 0x0a, 0x01, b'a', 0x10, 0x01], &OUTER),
            Ok(())
        );
        assert_eq!(
            validate(&[0x0a, 0x03, 0x0a, 0x01, 0xff], &OUTER),
            Err(WireError::InvalidUtf8 { field: 1 })
        );
        assert_eq!(
            validate(&[0x12, 0x00], &OUTER),
            Err(WireError::WrongWireType { field: 2 })
        );
        // Unknown field 9 (varint) is skipped.
        assert_eq!(validate(&[0x48, 0x01], &OUTER), Ok(()));
    }
}
