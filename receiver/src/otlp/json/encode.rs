//! Protobuf wire encoding, written the way prost writes it.

use prost::encoding::{WireType, encode_key, encode_varint};

pub(super) fn put_key(out: &mut Vec<u8>, tag: u32, wire_type: WireType) {
    encode_key(tag, wire_type, out);
}

/// A length-delimited field written even when empty: a message, or a oneof member.
pub(super) fn put_len(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    put_key(out, tag, WireType::LengthDelimited);
    encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// A string, bytes or packed field, left out when empty.
pub(super) fn put_bytes(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    if !bytes.is_empty() {
        put_len(out, tag, bytes);
    }
}

pub(super) fn put_varint(out: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        put_varint_always(out, tag, value);
    }
}

pub(super) fn put_varint_always(out: &mut Vec<u8>, tag: u32, value: u64) {
    put_key(out, tag, WireType::Varint);
    encode_varint(value, out);
}

pub(super) fn put_double_always(out: &mut Vec<u8>, tag: u32, value: f64) {
    put_key(out, tag, WireType::SixtyFourBit);
    out.extend_from_slice(&value.to_le_bytes());
}
