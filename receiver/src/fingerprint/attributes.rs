//! Reading OTLP attributes (KeyValue lists) and hashing their values.
//!
//! Values never leave the receiver: they are only hashed, into sketches.

use xxhash_rust::xxh3::xxh3_64;

use crate::otlp::schema::field;
use crate::wire;

/// The `(key, encoded AnyValue)` pairs under `attributes_field` of `message`.
/// The value stays encoded: it is hashed, or read with [`string_value`].
#[inline]
pub fn attributes(message: &[u8], attributes_field: u32) -> impl Iterator<Item = (&[u8], &[u8])> {
    wire::fields(message)
        .filter_map(Result::ok)
        .filter(move |(number, _)| *number == attributes_field)
        .map(|(_, kv)| key_value(kv.as_bytes()))
}

/// Splits one encoded KeyValue into its key (validated UTF-8 bytes) and
/// encoded value. Encoders write the key then the value, each with a short
/// length: that layout is read directly, anything else field by field.
#[inline]
pub fn key_value(kv: &[u8]) -> (&[u8], &[u8]) {
    if let Some(pair) = key_then_value(kv) {
        return pair;
    }
    let mut key: &[u8] = &[];
    let mut value: &[u8] = &[];
    for (number, v) in wire::fields(kv).filter_map(Result::ok) {
        match number {
            field::key_value::KEY => key = v.as_bytes(),
            field::key_value::VALUE => value = v.as_bytes(),
            _ => {}
        }
    }
    (key, value)
}

/// `[0x0a len key][0x12 len value]` with one-byte lengths, exactly.
#[inline]
fn key_then_value(kv: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&tag, rest) = kv.split_first()?;
    let (&key_len, rest) = rest.split_first()?;
    if tag != 0x0a || key_len >= 0x80 || rest.len() < usize::from(key_len) {
        return None;
    }
    let (key, rest) = rest.split_at(usize::from(key_len));
    let (&tag, rest) = rest.split_first()?;
    let (&value_len, value) = rest.split_first()?;
    (tag == 0x12 && value_len < 0x80 && value.len() == usize::from(value_len))
        .then_some((key, value))
}

/// The string inside an encoded AnyValue as its (validated UTF-8) bytes.
#[inline]
pub fn string_bytes(any_value: &[u8]) -> Option<&[u8]> {
    wire::fields(any_value)
        .filter_map(Result::ok)
        .find(|(number, _)| *number == field::any_value::STRING)
        .map(|(_, v)| v.as_bytes())
}

/// The string inside an encoded AnyValue, if it holds one.
#[inline]
pub fn string_value(any_value: &[u8]) -> Option<&str> {
    wire::fields(any_value)
        .filter_map(Result::ok)
        .find(|(number, _)| *number == field::any_value::STRING)
        .map(|(_, v)| v.as_str())
}

/// The kind of an encoded AnyValue, as the snapshot names body kinds.
pub fn value_kind(any_value: &[u8]) -> &'static str {
    match wire::fields(any_value).filter_map(Result::ok).next() {
        Some((field::any_value::STRING, _)) => "string",
        Some((field::any_value::BOOL, _)) => "bool",
        Some((field::any_value::INT, _)) => "int",
        Some((field::any_value::DOUBLE, _)) => "double",
        Some((field::any_value::ARRAY, _)) => "array",
        Some((field::any_value::KVLIST, _)) => "kvlist",
        Some((field::any_value::BYTES, _)) => "bytes",
        _ => "empty",
    }
}

/// A stable 64-bit hash of an encoded value (the same on every receiver).
#[inline]
pub fn value_hash(any_value: &[u8]) -> u64 {
    xxh3_64(any_value)
}

/// A stable 64-bit hash of an attribute key.
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    xxh3_64(key)
}

/// Combines a key hash and a value hash into the hash of the pair.
#[inline]
pub fn pair_hash(key_hash: u64, value_hash: u64) -> u64 {
    fmix64(
        key_hash
            ^ value_hash
                .rotate_left(29)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15),
    )
}

/// Order-independent hash of an attribute set, from the sum of its pair
/// hashes: the same set in any order is the same series.
#[inline]
pub fn set_hash(pair_hash_sum: u64) -> u64 {
    fmix64(pair_hash_sum)
}

/// MurmurHash3's 64-bit finalizer: spreads every input bit over the output.
#[inline]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use prost::Message;

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    #[test]
    fn reads_keys_and_string_values_without_decoding() {
        let bytes = kv("http.route", any_value::Value::StringValue("/cart".into())).encode_to_vec();
        let (key, value) = key_value(&bytes);
        assert_eq!(key, b"http.route");
        assert_eq!(string_value(value), Some("/cart"));
        assert_eq!(value_kind(value), "string");
        let int = kv("http.response.status_code", any_value::Value::IntValue(200)).encode_to_vec();
        let (_, value) = key_value(&int);
        assert_eq!(string_value(value), None);
        assert_eq!(value_kind(value), "int");
    }

    #[test]
    fn key_value_reads_the_same_bytes_fast_path_or_not() {
        let short = kv("http.route", any_value::Value::StringValue("/cart".into())).encode_to_vec();
        assert_eq!(
            key_then_value(&short).map(|(k, _)| k),
            Some(&b"http.route"[..])
        );
        let long_value = kv(
            "db.query.text",
            any_value::Value::StringValue("SELECT 1 ".repeat(40)),
        )
        .encode_to_vec();
        assert_eq!(key_then_value(&long_value), None);
        let (key, value) = key_value(&long_value);
        assert_eq!(key, b"db.query.text");
        assert_eq!(string_value(value).map(str::len), Some(360));
        // Value before key, as a hand-written encoder might: still read.
        let mut swapped = Vec::new();
        swapped.extend_from_slice(&[0x12, 0x03, 0x18, 0xc8, 0x01]);
        swapped.extend_from_slice(&[0x0a, 0x04]);
        swapped.extend_from_slice(b"port");
        assert_eq!(key_value(&swapped), (&b"port"[..], &[0x18, 0xc8, 0x01][..]));
    }

    #[test]
    fn attribute_set_hash_ignores_order_but_not_values() {
        let pairs = |items: &[(&str, &str)]| {
            items.iter().fold(0u64, |sum, (k, v)| {
                sum.wrapping_add(pair_hash(key_hash(k.as_bytes()), value_hash(v.as_bytes())))
            })
        };
        let a = set_hash(pairs(&[("method", "GET"), ("route", "/cart")]));
        let b = set_hash(pairs(&[("route", "/cart"), ("method", "GET")]));
        let c = set_hash(pairs(&[("route", "GET"), ("method", "/cart")]));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
