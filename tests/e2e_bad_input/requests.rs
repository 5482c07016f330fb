//! Building blocks of the test requests (a checkout service calling a payment service), and the
//! ways a good request is turned into a bad one.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::resource::v1::Resource;
use otel_parity_testkit::otlp::{self, ServiceResource};

use crate::ENVIRONMENT;

/// First span start of the test data: 2023-11-14T22:13:20Z.
pub const EPOCH_NANOS: u64 = 1_700_000_000_000_000_000;

/// The resource of shop service `service` in [`ENVIRONMENT`], as an SDK describes it.
pub fn resource(service: &str, version: &str, instance: &str) -> Resource {
    ServiceResource::new(service)
        .namespace("shop")
        .version(version)
        .instance(instance)
        .environment(ENVIRONMENT)
        .sdk("rust", "0.31.0")
        .host(format!("{service}-7d9f8b6c4-x2k9q"))
        .build()
}

/// A trace id unique to (round, trace), never all zero.
pub fn trace_id(round: u64, trace: u64) -> Vec<u8> {
    otlp::trace_id(
        0x4bf9_2f35_77b3_4da6 ^ round,
        0xa3ce_929d_0e0e_4736_u64.wrapping_add(trace),
    )
}

/// Span id `n` (0–15) of (round, trace), never all zero.
pub fn span_id(round: u64, trace: u64, n: u64) -> Vec<u8> {
    otlp::span_id((round << 48) | (trace << 8) | (n + 1))
}

/// Appends an unknown length-delimited field (number 1000) of `len` zero bytes: a request that
/// is valid protobuf and, decompressed, `len` bytes larger.
pub fn with_zero_padding(mut message: Vec<u8>, len: usize) -> Vec<u8> {
    // Tag: field 1000, wire type 2.
    put_varint(&mut message, (1000 << 3) | 2);
    put_varint(&mut message, len as u64);
    message.resize(message.len() + len, 0);
    message
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// `data` gzip-compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(data)
        .unwrap_or_else(|e| panic!("gzip into memory failed: {e}"));
    encoder
        .finish()
        .unwrap_or_else(|e| panic!("gzip into memory failed: {e}"))
}

/// `message` with the first occurrence of `marker` overwritten by the same number of bytes
/// that are not UTF-8 (a continuation byte, then 0xFF), so the framing stays valid.
pub fn with_invalid_utf8(mut message: Vec<u8>, marker: &str) -> Vec<u8> {
    let marker = marker.as_bytes();
    let at = message
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap_or_else(|| panic!("marker {marker:?} not in the encoded message"));
    message[at] = 0x80;
    message[at + 1] = 0xff;
    assert!(std::str::from_utf8(&message[at..at + marker.len()]).is_err());
    message
}
