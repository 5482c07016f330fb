//! `Content-Encoding: gzip` bodies: decompression bounded by the body limit (a gzip bomb
//! must stop at the limit), then the decompressed bytes as each signal's request.

#![no_main]

use libfuzzer_sys::fuzz_target;
use otel_parity_fuzz::{engine, ingest, small_limits};
use otel_parity_receiver::Signal;
use otel_parity_receiver::otlp::compression::{DecompressError, gunzip_bounded};

/// Small, so that fuzzed streams reach it: the servers' limit is megabytes.
const LIMIT: usize = 64 << 10;

fuzz_target!(|body: &[u8]| {
    match gunzip_bounded(body, LIMIT) {
        Ok(request) => {
            assert!(
                request.len() <= LIMIT,
                "{} bytes out of a {LIMIT}-byte limit",
                request.len()
            );
            let engine = engine(small_limits());
            for signal in Signal::ALL {
                ingest(&engine, signal, &request);
            }
        }
        Err(DecompressError::TooLarge { limit }) => assert_eq!(limit, LIMIT),
        Err(DecompressError::Corrupt { .. }) => {}
    }
});
