//! The messages every signal shares: Resource, InstrumentationScope, KeyValue and AnyValue.

use serde_json::Value;

use super::encode::{put_double_always, put_len, put_varint_always};
use super::message::{Encoded, Invalid, JsonMessage, Path};
use super::scalars::{parse_base64, parse_bool, parse_f64, parse_i64, parse_str};

/// How deep AnyValues may nest (arrays and key-value lists); deeper rejects the item.
const MAX_ANY_VALUE_DEPTH: usize = 32;

pub(super) fn resource(value: &Value, path: &Path) -> Encoded {
    let mut resource = JsonMessage::of(value, path)?;
    resource.attributes(1, "attributes")?;
    resource.uint32(2, "droppedAttributesCount")?;
    Ok(resource.out)
}

pub(super) fn scope(value: &Value, path: &Path) -> Encoded {
    let mut scope = JsonMessage::of(value, path)?;
    scope.string(1, "name")?;
    scope.string(2, "version")?;
    scope.attributes(3, "attributes")?;
    scope.uint32(4, "droppedAttributesCount")?;
    Ok(scope.out)
}

impl<'v: 'p, 'p> JsonMessage<'v, 'p> {
    /// A repeated KeyValue field, such as a span's `attributes`.
    pub(super) fn attributes(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        self.messages(tag, name, |value, path| key_value(value, path, 0))
    }
}

fn key_value(value: &Value, path: &Path, depth: usize) -> Encoded {
    let mut key_value = JsonMessage::of(value, path)?;
    key_value.string(1, "key")?;
    key_value.message(2, "value", |value, path| any_value(value, path, depth))?;
    Ok(key_value.out)
}

#[derive(Clone, Copy)]
enum AnyKind {
    String,
    Bool,
    Int,
    Double,
    Array,
    KeyValueList,
    Bytes,
}

const ANY_VALUE_FIELDS: [(&str, AnyKind); 7] = [
    ("stringValue", AnyKind::String),
    ("boolValue", AnyKind::Bool),
    ("intValue", AnyKind::Int),
    ("doubleValue", AnyKind::Double),
    ("arrayValue", AnyKind::Array),
    ("kvlistValue", AnyKind::KeyValueList),
    ("bytesValue", AnyKind::Bytes),
];

/// An AnyValue, whose one value is written even when it is the default; `{}` is an empty value.
/// `depth` counts the AnyValues around it.
pub(super) fn any_value(value: &Value, path: &Path, depth: usize) -> Encoded {
    if depth >= MAX_ANY_VALUE_DEPTH {
        let problem = format!("values nest more than {MAX_ANY_VALUE_DEPTH} levels deep");
        return Err(Invalid::at(path, problem));
    }
    let mut any = JsonMessage::of(value, path)?;
    let mut held: Option<&str> = None;
    for (name, kind) in ANY_VALUE_FIELDS {
        let Some((key, inner)) = any.get(name) else {
            continue;
        };
        if let Some(first) = held.replace(key) {
            let problem = format!("holds both {first} and {key}; an AnyValue holds one value");
            return Err(Invalid::at(path, problem));
        }
        let field = path.field(key);
        let at = |problem| Invalid::at(&field, problem);
        let out = &mut any.out;
        match kind {
            AnyKind::String => put_len(out, 1, parse_str(inner).map_err(at)?.as_bytes()),
            AnyKind::Bool => put_varint_always(out, 2, parse_bool(inner).map_err(at)?.into()),
            AnyKind::Int => put_varint_always(out, 3, parse_i64(inner).map_err(at)? as u64),
            AnyKind::Double => put_double_always(out, 4, parse_f64(inner).map_err(at)?),
            AnyKind::Array => {
                let mut array = JsonMessage::of(inner, &field)?;
                array.messages(1, "values", |item, path| any_value(item, path, depth + 1))?;
                put_len(out, 5, &array.out);
            }
            AnyKind::KeyValueList => {
                let mut list = JsonMessage::of(inner, &field)?;
                list.messages(1, "values", |item, path| key_value(item, path, depth + 1))?;
                put_len(out, 6, &list.out);
            }
            AnyKind::Bytes => put_len(out, 7, &parse_base64(inner).map_err(at)?),
        }
    }
    Ok(any.out)
}
