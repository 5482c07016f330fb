//! Converting one JSON object to one protobuf message: the JSON path of each value, what is
//! wrong with it, and a writer per protobuf field type. Writers of shared messages (such as
//! `attributes`) sit in `common` beside the messages they write.

use std::fmt;

use prost::encoding::WireType;
use serde_json::{Map, Value};

use super::encode::{put_bytes, put_double_always, put_key, put_len, put_varint};
use super::scalars::{
    expected, parse_f64, parse_hex_id, parse_i32, parse_i64, parse_str, parse_u32, parse_u64,
};

/// A protobuf message converted from JSON, or why the JSON is invalid.
pub(super) type Encoded = Result<Vec<u8>, Invalid>;
/// Converts the JSON value at a path to one protobuf message.
pub(super) type Convert = fn(&Value, &Path) -> Encoded;

/// Bytes in a trace id.
pub(super) const TRACE_ID_BYTES: usize = 16;
/// Bytes in a span id.
pub(super) const SPAN_ID_BYTES: usize = 8;

/// A JSON path such as `resourceSpans[0].scopeSpans[1].spans[3].traceId`, kept on the stack.
#[derive(Clone, Copy)]
pub(super) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Root,
    Field(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    pub(super) const ROOT: Path<'static> = Path {
        parent: None,
        step: Step::Root,
    };

    pub(super) fn field(&'a self, name: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Field(name),
        }
    }

    pub(super) fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Index(index),
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        match self.step {
            Step::Root => Ok(()),
            Step::Field(name) if self.parent.is_some_and(|p| !matches!(p.step, Step::Root)) => {
                write!(f, ".{name}")
            }
            Step::Field(name) => f.write_str(name),
            Step::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// What is wrong with one value, and where.
#[derive(Debug)]
pub(super) struct Invalid {
    pub(super) path: String,
    pub(super) problem: String,
}

impl Invalid {
    pub(super) fn at(path: &Path, problem: String) -> Self {
        Invalid {
            path: path.to_string(),
            problem,
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// Whether an empty id is allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Presence {
    Required,
    Optional,
}

/// A JSON object being converted to one protobuf message. Each writer reads one field, by its
/// lowerCamelCase name or its proto snake_case name (missing or `null` is absent), and writes it
/// under `tag` the way prost does, leaving out proto3 defaults. Fields must be written in tag
/// order for the bytes to match prost's.
pub(super) struct JsonMessage<'v, 'p> {
    pub(super) map: &'v Map<String, Value>,
    pub(super) path: &'p Path<'p>,
    pub(super) out: Vec<u8>,
}

impl<'v: 'p, 'p> JsonMessage<'v, 'p> {
    pub(super) fn of(value: &'v Value, path: &'p Path<'p>) -> Result<Self, Invalid> {
        match value {
            Value::Object(map) => Ok(JsonMessage {
                map,
                path,
                out: Vec::new(),
            }),
            other => Err(Invalid::at(path, expected("an object", other))),
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<(&'v str, &'v Value)> {
        lookup(self.map, name)
    }

    /// Reads a field without writing it.
    pub(super) fn read<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&'v Value) -> Result<T, String>,
    ) -> Result<Option<T>, Invalid> {
        let Some((key, value)) = self.get(name) else {
            return Ok(None);
        };
        parse(value)
            .map(Some)
            .map_err(|problem| Invalid::at(&self.path.field(key), problem))
    }

    /// A repeated field, with its path, read without writing it.
    pub(super) fn list(&self, name: &str) -> Result<Option<(Path<'p>, &'v [Value])>, Invalid> {
        match self.get(name) {
            None => Ok(None),
            Some((key, Value::Array(entries))) => Ok(Some((self.path.field(key), entries))),
            Some((key, other)) => Err(Invalid::at(
                &self.path.field(key),
                expected("an array", other),
            )),
        }
    }

    pub(super) fn string(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let text = self.read(name, parse_str)?.unwrap_or_default();
        put_bytes(&mut self.out, tag, text.as_bytes());
        Ok(())
    }

    pub(super) fn uint32(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_u32)?.unwrap_or_default();
        put_varint(&mut self.out, tag, value.into());
        Ok(())
    }

    pub(super) fn sint32(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_i32)?.unwrap_or_default();
        let zigzag = (value << 1) ^ (value >> 31);
        put_varint(&mut self.out, tag, u64::from(zigzag as u32));
        Ok(())
    }

    pub(super) fn fixed32(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_u32)?.unwrap_or_default();
        if value != 0 {
            put_key(&mut self.out, tag, WireType::ThirtyTwoBit);
            self.out.extend_from_slice(&value.to_le_bytes());
        }
        Ok(())
    }

    pub(super) fn fixed64(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_u64)?.unwrap_or_default();
        if value != 0 {
            put_key(&mut self.out, tag, WireType::SixtyFourBit);
            self.out.extend_from_slice(&value.to_le_bytes());
        }
        Ok(())
    }

    pub(super) fn double(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_f64)?.unwrap_or_default();
        if value != 0.0 {
            put_double_always(&mut self.out, tag, value);
        }
        Ok(())
    }

    /// A proto3 `optional double`: written whenever present, even as 0.
    pub(super) fn optional_double(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        if let Some(value) = self.read(name, parse_f64)? {
            put_double_always(&mut self.out, tag, value);
        }
        Ok(())
    }

    /// An enum given as its number or its value name (e.g. "SPAN_KIND_SERVER").
    pub(super) fn enumeration(
        &mut self,
        tag: u32,
        name: &str,
        from_name: impl Fn(&str) -> Option<i32>,
    ) -> Result<(), Invalid> {
        let number = self.read(name, |value| match value {
            Value::String(text) => {
                from_name(text).ok_or_else(|| format!("unknown enum value name {text:?}"))
            }
            other => parse_i32(other).map_err(|_| expected("an enum number or value name", other)),
        })?;
        // Like int32, enums sign-extend negative values to ten bytes.
        let number = i64::from(number.unwrap_or_default());
        put_varint(&mut self.out, tag, number as u64);
        Ok(())
    }

    /// A trace or span id, in hex.
    pub(super) fn id(
        &mut self,
        tag: u32,
        name: &str,
        bytes: usize,
        presence: Presence,
    ) -> Result<(), Invalid> {
        let id = self
            .read(name, |value| parse_hex_id(value, bytes))?
            .unwrap_or_default();
        if id.is_empty() && presence == Presence::Required {
            let problem = format!("expected {} hex digits, found none", bytes * 2);
            return Err(Invalid::at(&self.path.field(name), problem));
        }
        put_bytes(&mut self.out, tag, &id);
        Ok(())
    }

    /// A packed repeated scalar, such as `bucketCounts`; left out when empty.
    pub(super) fn packed<T>(
        &mut self,
        tag: u32,
        name: &str,
        parse: fn(&Value) -> Result<T, String>,
        write: fn(&T, &mut Vec<u8>),
    ) -> Result<(), Invalid> {
        let Some((list, entries)) = self.list(name)? else {
            return Ok(());
        };
        let mut packed = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let value = parse(entry).map_err(|problem| Invalid::at(&list.index(index), problem))?;
            write(&value, &mut packed);
        }
        put_bytes(&mut self.out, tag, &packed);
        Ok(())
    }

    /// An optional message field: written, even empty, whenever present.
    pub(super) fn message(
        &mut self,
        tag: u32,
        name: &str,
        convert: impl FnOnce(&'v Value, &Path) -> Encoded,
    ) -> Result<(), Invalid> {
        let Some((key, value)) = self.get(name) else {
            return Ok(());
        };
        let bytes = convert(value, &self.path.field(key))?;
        put_len(&mut self.out, tag, &bytes);
        Ok(())
    }

    /// A repeated message field; the first entry that fails fails the whole message.
    pub(super) fn messages(
        &mut self,
        tag: u32,
        name: &str,
        mut convert: impl FnMut(&'v Value, &Path) -> Encoded,
    ) -> Result<(), Invalid> {
        let Some((list, entries)) = self.list(name)? else {
            return Ok(());
        };
        for (index, entry) in entries.iter().enumerate() {
            let bytes = convert(entry, &list.index(index))?;
            put_len(&mut self.out, tag, &bytes);
        }
        Ok(())
    }

    /// The `value` oneof of a NumberDataPoint or Exemplar: asDouble or asInt (sfixed64), not both.
    pub(super) fn number_value(&mut self, double_tag: u32, int_tag: u32) -> Result<(), Invalid> {
        let double = self.read("asDouble", parse_f64)?;
        match (double, self.read("asInt", parse_i64)?) {
            (Some(_), Some(_)) => {
                let problem = "holds both asDouble and asInt".to_owned();
                return Err(Invalid::at(self.path, problem));
            }
            (Some(double), None) => put_double_always(&mut self.out, double_tag, double),
            (None, Some(int)) => {
                put_key(&mut self.out, int_tag, WireType::SixtyFourBit);
                self.out.extend_from_slice(&int.to_le_bytes());
            }
            (None, None) => {}
        }
        Ok(())
    }
}

/// The field `name` (lowerCamelCase) or its snake_case form, unless absent or `null`.
pub(super) fn lookup<'v>(map: &'v Map<String, Value>, name: &str) -> Option<(&'v str, &'v Value)> {
    map.get_key_value(name)
        .filter(|(_, value)| !value.is_null())
        .or_else(|| {
            map.iter()
                .find(|(key, value)| !value.is_null() && is_snake_case_of(key, name))
        })
        .map(|(key, value)| (key.as_str(), value))
}

/// Whether `key` is `camel` in snake_case (`trace_id` for `traceId`).
fn is_snake_case_of(key: &str, camel: &str) -> bool {
    let mut key = key.bytes();
    let same = camel.bytes().all(|c| match c.is_ascii_uppercase() {
        true => key.next() == Some(b'_') && key.next() == Some(c.to_ascii_lowercase()),
        false => key.next() == Some(c),
    });
    same && key.next().is_none()
}
