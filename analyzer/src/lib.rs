//! otel-parity's analyzer: turns fingerprints (`parity.v1`) into verdicts.
//! It never imports the receiver: the proto crate is the only contract.

pub mod accepted;
pub mod compare;
pub mod config;
pub mod evaluate;
pub mod exposition;
pub mod http;
pub mod lint;
pub mod merge;
pub mod push;
pub mod report;
pub mod server;
pub mod store;
pub mod ui;
mod yaml;

/// Now, in Unix epoch nanoseconds (0 if the clock is before 1970).
pub fn unix_nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
