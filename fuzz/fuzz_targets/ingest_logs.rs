//! OTLP/protobuf logs export requests (gRPC and HTTP bodies after decompression) into the
//! fingerprint engine, across a window boundary, with caps small enough to overflow.

#![no_main]

use libfuzzer_sys::fuzz_target;
use otel_parity_receiver::Signal;

fuzz_target!(|request: &[u8]| {
    otel_parity_fuzz::ingest_across_windows(Signal::Logs, request);
});
