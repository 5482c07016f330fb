//! `Content-Encoding: gzip` bodies: decompression bounded by the body limit (a gzip bomb
//! must stop at the limit) and charged to the admission budget (never past it), then the
//! decompressed bytes as each signal's request.

#![no_main]

use libfuzzer_sys::fuzz_target;
use otel_parity_fuzz::{engine, ingest, small_limits};
use otel_parity_receiver::Signal;
use std::time::Duration;

use otel_parity_receiver::admission::InflightBudget;
use otel_parity_receiver::otlp::compression::{DecompressError, gunzip_within};

/// Small, so that fuzzed streams reach it: the servers' limit is megabytes.
const LIMIT: usize = 64 << 10;
/// Below the limit, so that fuzzed streams reach the budget too.
const BUDGET: usize = 48 << 10;

fuzz_target!(|body: &[u8]| {
    let budget = InflightBudget::new(BUDGET, Duration::from_secs(1));
    let Some(mut reservation) = budget.try_reserve(body.len().min(BUDGET)) else {
        return;
    };
    let decompressed = gunzip_within(body, LIMIT, &mut reservation);
    assert!(
        budget.used() <= BUDGET,
        "{} bytes reserved out of a {BUDGET}-byte budget",
        budget.used()
    );
    match decompressed {
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
        Err(DecompressError::Corrupt { .. } | DecompressError::OverBudget) => {}
    }
});
